"""`callcenter dial check`: the configured policy's verdict on numbers, for operators."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from callcenter.cli import main


def check(tmp_path: Path, *args: str, policy: str = 'country = "US"') -> tuple[int, list[str]]:
    config = tmp_path / "callcenter.toml"
    config.write_text(f"state_dir = '{tmp_path}/state'\n[dial_policy]\n{policy}\n")
    result = CliRunner().invoke(main, ["--config", str(config), "dial", "check", *args])
    return result.exit_code, result.output.splitlines()


def test_each_number_gets_a_line_and_refusals_fail_the_command(tmp_path: Path) -> None:
    code, lines = check(tmp_path, "011449098790000", "2125550100", "+881631456789")
    assert code == 1
    assert lines[0].startswith("011449098790000\trefused (number-type)\t+449098790000")
    assert lines[1] == "2125550100\tallowed\t+12125550100"
    assert lines[2].startswith("+881631456789\trefused (international-network)")


def test_the_configuration_and_a_queues_countries_are_what_is_checked(tmp_path: Path) -> None:
    assert check(tmp_path, "+442079460000")[0] == 1
    assert check(tmp_path, "--countries", "us,gb", "+442079460000")[0] == 0
    allowed = 'country = "US"\nallowed_types = ["PREMIUM_RATE"]'
    assert check(tmp_path, "+19005551234", policy=allowed) == (
        0,
        ["+19005551234\tallowed\t+19005551234"],
    )
    assert check(tmp_path, "--region", "GB", "020 7946 0000", policy='country = "GB"')[0] == 0
