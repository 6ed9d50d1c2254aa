"""The layers' rules, checked on every import of the package (docs/ARCHITECTURE.md).

- ``callcenter/core`` is pure: no I/O library, nothing from outside core.
- ``callcenter/services`` speak to ports: no adapter, no SQLAlchemy, no Flask,
  no panoramisk, no HTTP client, no composition root.

Imports under ``if TYPE_CHECKING:`` count too: a type is a dependency.
There is no allowlist: every crossing fails the test.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "callcenter"

IO_LIBRARIES = (
    "asyncio",
    "sqlalchemy",
    "alembic",
    "flask",
    "apiflask",
    "werkzeug",
    "panoramisk",
    "psycopg2",
    "socket",
    "subprocess",
    "http",
    "urllib.request",
    "requests",
    "threading",
    "apscheduler",
    "prometheus_client",
)
SERVICES_FORBIDDEN = (
    "callcenter.adapters",
    "callcenter.bootstrap",
    "callcenter.runtime",
    "callcenter.cli",
    "callcenter.simulate",
    "sqlalchemy",
    "alembic",
    "flask",
    "apiflask",
    "werkzeug",
    "panoramisk",
    "psycopg2",
    "http",
    "urllib.request",
    "requests",
    "socket",
    "subprocess",
    "prometheus_client",  # metrics are an adapter fed by the composition root
)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _matches(name: str, prefixes: tuple[str, ...]) -> str | None:
    for prefix in prefixes:
        if name == prefix or name.startswith(prefix + "."):
            return prefix
    return None


def _crossings(layer: str) -> set[tuple[str, str]]:
    crossings = set()
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        module = _module(path)
        for name in _imports(path):
            if layer == "core":
                outside = name.startswith("callcenter") and not _matches(name, ("callcenter.core",))
                bad = _matches(name, IO_LIBRARIES) or (name if outside else None)
            else:
                bad = _matches(name, SERVICES_FORBIDDEN)
            if bad:
                crossings.add((module, bad))
    return crossings


def test_core_does_no_io_and_imports_only_core() -> None:
    assert not _crossings("core"), sorted(_crossings("core"))


def test_services_import_no_adapter_and_no_io_library() -> None:
    assert not _crossings("services"), sorted(_crossings("services"))


def test_the_checker_sees_a_crossing(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from callcenter.adapters.db.models import CallRow\n"
        "def f():\n    import sqlalchemy.orm\n"
    )
    names = _imports(sample)
    assert _matches("callcenter.adapters.db.models", SERVICES_FORBIDDEN)
    assert "callcenter.adapters.db.models" in names and "sqlalchemy.orm" in names
