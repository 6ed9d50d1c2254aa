"""`callcenter site load`: a flow or a queue naming a prompt nobody can play is
refused, naming it; known prompts (Asterisk's or the site's own) pass; without
Asterisk's sounds the command says what it could not check."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from callcenter.cli import main
from tests.support.sounds import debian_root


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CALLCENTER_* variable from the machine overrides the test's configuration."""
    for name in list(os.environ):
        if name.upper().startswith("CALLCENTER_"):
            monkeypatch.delenv(name)


def configure(tmp_path: Path, root: Path) -> Path:
    config = tmp_path / "callcenter.toml"
    config.write_text(
        f'state_dir = "{tmp_path / "state"}"\n'
        f'site_dir = "{tmp_path / "site"}"\n'
        f'[pbx]\nprovider = "chroot"\nroot = "{root}"\n'
    )
    return config


SITE = """
[[queues]]
name = "support"
on_closed = {{ action = "hangup", prompt = "{closed}" }}

[flows.main]
numbers = ["100"]
file = "main.toml"
"""
FLOW = """
name = "main"
start = "welcome"

[nodes.welcome]
type = "menu"
prompts = ["beep"]
invalid_prompt = "{invalid}"
choices = {{ "1" = "support" }}

[nodes.support]
type = "queue"
queue = "support"
"""


def site_file(tmp_path: Path, invalid: str = "pbx-invalid", closed: str = "vm-goodbye") -> Path:
    """A site file with one queue and one flow (beside it), naming these prompts."""
    (tmp_path / "main.toml").write_text(FLOW.format(invalid=invalid))
    path = tmp_path / "site.toml"
    path.write_text(SITE.format(closed=closed))
    return path


def load(config: Path, site: Path) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "site", "load", str(site)])


def test_a_flow_with_an_unknown_prompt_is_refused_naming_it(tmp_path: Path) -> None:
    config = configure(tmp_path, debian_root(tmp_path / "root"))
    result = load(config, site_file(tmp_path, invalid="option-is-invalid"))
    assert result.exit_code == 1, result.output
    assert "is not valid" in result.output
    assert (
        "flows.main: node 'welcome', field 'invalid_prompt': no prompt 'option-is-invalid'"
        in result.output
    )
    assert not (tmp_path / "state/callcenter.db").exists()  # nothing written


def test_a_queue_with_an_unknown_prompt_is_refused_naming_the_queue(tmp_path: Path) -> None:
    config = configure(tmp_path, debian_root(tmp_path / "root"))
    result = load(config, site_file(tmp_path, closed="custom/closed"))
    assert result.exit_code == 1, result.output
    assert "queue support: on_closed.prompt: no prompt 'custom/closed'" in result.output
    assert "callcenter prompt say closed TEXT" in result.output


def test_known_prompts_load_asterisks_and_the_sites_own(tmp_path: Path) -> None:
    config = configure(tmp_path, debian_root(tmp_path / "root"))
    (tmp_path / "site/sounds").mkdir(parents=True)
    (tmp_path / "site/sounds/closed.wav").write_bytes(b"")
    result = load(config, site_file(tmp_path, invalid="pbx-invalid", closed="custom/closed"))
    assert result.exit_code == 0, result.output
    assert "loaded " in result.output and "1 flows" in result.output
    assert "note:" not in result.output


def test_without_asterisks_sounds_only_the_sites_own_are_checked_and_it_says_so(
    tmp_path: Path,
) -> None:
    config = configure(tmp_path, tmp_path / "not-built")
    result = load(config, site_file(tmp_path, invalid="option-is-invalid"))
    assert result.exit_code == 0, result.output
    assert "note: no Asterisk sounds at " in result.output
    assert "only the site's own prompts (custom/...) were checked" in result.output
    refused = load(config, site_file(tmp_path, invalid="custom/nowhere"))
    assert refused.exit_code == 1 and "no prompt 'custom/nowhere'" in refused.output
