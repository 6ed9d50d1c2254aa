"""The console's one table of service errors -> HTTP statuses covers every code a service raises."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from callcenter.adapters.web.errors import STATUS
from callcenter.services.console.reports import ReportInputError

PACKAGE = Path(__file__).resolve().parents[2] / "callcenter"
CODED = [kind for kind in STATUS if kind is not ReportInputError]  # that one names a field


def _codes_raised(name: str) -> set[str]:
    """Every literal first argument of ``name(...)`` in the package (f-strings left out)."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == name
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def test_every_error_has_a_status_for_codes_not_listed() -> None:
    assert all("*" in statuses for statuses in STATUS.values())


@pytest.mark.parametrize("kind", CODED, ids=lambda kind: kind.__name__)
def test_every_code_a_service_raises_has_its_status(kind: type[Exception]) -> None:
    assert _codes_raised(kind.__name__) <= set(STATUS[kind])
