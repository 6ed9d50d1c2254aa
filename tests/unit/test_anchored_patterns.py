"""No validation in the package anchors its end with ``$`` under re.match / re.search.

In Python's ``re``, ``$`` also matches just before a trailing newline: with
``re.match(r"^\\+[0-9]+$", text)`` the text ``"+12125550100\\n"`` passes, and a
line break reaches whatever comes next (an AMI header, a config file). The
package uses ``re.fullmatch`` (or ends a pattern with ``\\Z``). This test reads
every module and refuses:
``re.match`` / ``re.search``, and ``.match`` / ``.search`` on a module's
compiled pattern, with a pattern that ends with an unescaped ``$`` (a literal,
or a module's constant).
Pydantic's ``Field(pattern=...)`` is not concerned: its regex engine (Rust's)
reads ``$`` as the end of the text.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import callcenter

PACKAGE = Path(callcenter.__file__).parent


def _ends_with_dollar(pattern: object) -> bool:
    if isinstance(pattern, re.Pattern):
        if pattern.flags & re.MULTILINE:
            return False
        pattern = pattern.pattern
    if not isinstance(pattern, str) or not pattern.endswith("$"):
        return False
    escapes = len(pattern[:-1]) - len(pattern[:-1].rstrip("\\"))
    return escapes % 2 == 0


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def _value(node: ast.expr, path: Path) -> object:
    """A literal pattern, or the module constant it names (the module imported)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and "migrations" not in path.parts:
        return getattr(importlib.import_module(_module_name(path)), node.id, None)
    return None


def _is_re(node: ast.expr, name: str) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == name
        and isinstance(node.value, ast.Name)
        and node.value.id == "re"
    )


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
        if _is_re(func, "match") or _is_re(func, "search"):
            pattern = _value(node.args[0], path)
        elif isinstance(func, ast.Attribute) and func.attr in ("match", "search"):
            pattern = _value(func.value, path)
        else:
            continue
        if _ends_with_dollar(pattern):
            found.append(f"{where}: match/search with a $-anchored pattern (use fullmatch)")
    return found


def test_no_dollar_anchored_match_or_search_in_the_package() -> None:
    found = [v for path in sorted(PACKAGE.rglob("*.py")) for v in violations(path)]
    assert found == []


def test_the_check_finds_what_it_is_for(tmp_path: Path) -> None:
    assert _ends_with_dollar(r"^\+[0-9]+$")
    assert _ends_with_dollar(re.compile(r"^[a-z]+$"))
    assert not _ends_with_dollar(re.compile(r"^[a-z]+$", re.MULTILINE))
    assert not _ends_with_dollar(r"price\$")
    assert not _ends_with_dollar(r"^[a-z]+\Z")
    # Why: "$" lets a trailing line break through; fullmatch does not.
    assert re.match(r"^\+[0-9]+$", "+12125550100\n")
    assert not re.fullmatch(r"^\+[0-9]+$", "+12125550100\n")


def test_validators_refuse_a_trailing_newline() -> None:
    from callcenter.core.callerid import vet_number
    from callcenter.core.outbound.numbers import is_e164
    from callcenter.core.outbound.settings import CampaignSettings

    assert is_e164("+12125550100") and not is_e164("+12125550100\n")
    assert vet_number("+12125550100\nX") == ("", False)
    try:
        CampaignSettings(caller_id="+12125550100\n")
    except ValueError:
        pass
    else:
        raise AssertionError("a caller ID with a line break was accepted")
