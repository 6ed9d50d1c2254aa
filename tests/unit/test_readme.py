"""The README's two commands stay true: CI runs the README's test command verbatim."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in section.splitlines() if line.startswith("    ")]


def test_readme_starts_with_two_commands() -> None:
    commands = _commands()
    assert len(commands) == 2
    assert commands[0].startswith("bash deploy/setup.sh ")
    assert "callcenter demo" in commands[0]
    assert commands[1].startswith("bash deploy/setup.sh --test ")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _commands()[1] in [line.strip() for line in ci]
