"""`callcenter user …` and `callcenter token …` on a real SQLite database."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from callcenter.cli import main

PASSWORD = "quiet-harbour-lantern-42"


def cli(tmp_path: Path, *args: str, stdin: str = "") -> tuple[int, str]:
    config = tmp_path / "callcenter.toml"
    if not config.exists():
        config.write_text(f"state_dir = '{tmp_path}/state'\n")
    result = CliRunner().invoke(main, ["--config", str(config), *args], input=stdin)
    return result.exit_code, result.output


def test_users_are_added_listed_and_their_password_changed(tmp_path: Path) -> None:
    add = ("user", "add", "boss", "--role", "supervisor", "--password-stdin")
    assert cli(tmp_path, *add, stdin=PASSWORD + "\n") == (0, "user boss (supervisor) created\n")
    code, listed = cli(tmp_path, "user", "list")
    assert code == 0 and listed.splitlines() == ["boss\tsupervisor\t-\tactive"]
    code, said = cli(tmp_path, "user", "passwd", "boss", "--password-stdin", stdin="short\n")
    assert code == 1 and "Error:" in said  # the password rule, said plainly
    code, said = cli(tmp_path, "user", "passwd", "boss", "--password-stdin", stdin=PASSWORD + "x\n")
    assert code == 0 and "sessions have ended" in said


def test_a_duplicate_user_is_a_clear_error(tmp_path: Path) -> None:
    add = ("user", "add", "boss", "--role", "admin", "--password-stdin")
    assert cli(tmp_path, *add, stdin=PASSWORD + "\n")[0] == 0
    code, said = cli(tmp_path, *add, stdin=PASSWORD + "\n")
    assert code == 1 and said.startswith("Error:") and "Traceback" not in said


def test_tokens_are_created_listed_and_revoked(tmp_path: Path) -> None:
    code, value = cli(tmp_path, "token", "create", "tv", "--role", "supervisor", "--days", "7")
    assert code == 0 and len(value.strip()) >= 32
    code, listed = cli(tmp_path, "token", "list")
    assert code == 0 and listed.splitlines()[1].startswith("tv\tsupervisor\t")
    assert value.strip() not in listed
    assert cli(tmp_path, "token", "revoke", "tv") == (0, "token tv revoked\n")
    code, said = cli(tmp_path, "token", "revoke", "tv")
    assert code == 1 and "no token 'tv'" in said
