"""The contract between the controller and dialplan/*.conf lives in variables.py.

Every CC_* name the dialplan uses must be declared there, every Status needs a
branch in cc-route, every FastAGI route the dialplan calls must exist, and the
dialplan's own check of an agent name must match the controller's pattern.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callcenter.adapters.pbx.first_menus import first_menus_conf
from callcenter.config import NAME_PATTERN
from callcenter.core import dialplan as variables
from callcenter.core.dialplan import (
    CONF_NAME_PATTERN,
    NODE_TRUNK_PATTERN,
    Global,
    Route,
    Status,
    Var,
)
from callcenter.core.ivr import load_flow
from callcenter.core.ivr.first import first_menu
from callcenter.core.outbound.numbers import E164
from callcenter.paths import ASTERISK_TEMPLATES, DIALPLAN_DIR

_CONTEXT = re.compile(r"^\[(?P<name>[^\]]+)\]", re.M)
_EXTEN = re.compile(r"^exten\s*=>\s*(?P<exten>[^,]+),\s*(?P<prio>[^,]+),", re.M)
_CC_NAME = re.compile(r"\bCC_[A-Z_]+\b")
_AGI_ROUTE = re.compile(r"AGI\(\$\{CC_AGI\}/(?P<route>[^,)]+)")
_REGEX_CHECK = re.compile(r'REGEX\("(?P<pattern>[^"]+)"')


def _strip_comments(text: str) -> str:
    # A ';' starts a comment unless escaped; the dialplan here never escapes one.
    return "\n".join(line.split(";", 1)[0] for line in text.splitlines())


def dialplan_files() -> list[Path]:
    files = sorted(DIALPLAN_DIR.glob("*.conf"))
    assert files, f"no dialplan in {DIALPLAN_DIR}"
    return files


def rendered_dialplan() -> str:
    """What the controller renders into the dialplan: the flows' first menus (cc-first)."""
    flow = load_flow(
        {
            "name": "main",
            "start": "welcome",
            "nodes": {
                "welcome": {"type": "menu", "prompts": ["beep"], "choices": {"1": "q"}},
                "q": {"type": "queue", "queue": "sales"},
            },
        },
        queues={"sales"},
        schedules=set(),
    )
    menu = first_menu(flow)
    return first_menus_conf(menu, {"5551000": menu, "5551001": None})


def contexts() -> dict[str, list[str]]:
    """Context name -> its extension names, across every dialplan file and the
    rendered first menus."""
    found: dict[str, list[str]] = {}
    texts = [path.read_text() for path in dialplan_files()] + [rendered_dialplan()]
    for raw in texts:
        text = _strip_comments(raw)
        spans = list(_CONTEXT.finditer(text))
        for index, match in enumerate(spans):
            end = spans[index + 1].start() if index + 1 < len(spans) else len(text)
            body = text[match.end() : end]
            found.setdefault(match["name"], []).extend(
                m["exten"].strip() for m in _EXTEN.finditer(body)
            )
    return found


def declared_names() -> set[str]:
    return {v.value for v in Var} | {g.value for g in Global}


def test_parser_sees_the_known_contexts() -> None:
    found = contexts()
    assert "cc-route" in found
    assert "cc-fallback" in found
    assert "s" in found["cc-fallback"]


@pytest.mark.parametrize("path", dialplan_files(), ids=lambda p: p.name)
def test_every_cc_name_in_the_dialplan_is_declared(path: Path) -> None:
    statuses = {s.value for s in Status}
    route_extens = set(contexts()["cc-route"])
    used = set(_CC_NAME.findall(_strip_comments(path.read_text())))
    undeclared = {
        name
        for name in used
        if name not in declared_names() and not (name in statuses and name in route_extens)
    }
    assert not undeclared, f"{path.name} uses {sorted(undeclared)}, not in variables.py"


@pytest.mark.parametrize("status", list(Status), ids=str)
def test_every_status_has_a_branch_in_cc_route(status: Status) -> None:
    route_conf = _strip_comments((DIALPLAN_DIR / "route.conf").read_text())
    assert re.search(rf"^exten\s*=>\s*{status.value},1,", route_conf, re.M), (
        f"route.conf has no `exten => {status.value},1`"
    )


def test_every_cc_name_in_the_rendered_first_menus_is_declared() -> None:
    used = set(_CC_NAME.findall(_strip_comments(rendered_dialplan())))
    assert used and used <= declared_names()
    assert "inbound" in {m["route"] for m in _AGI_ROUTE.finditer(rendered_dialplan())}


def test_cc_route_catches_anything_else() -> None:
    assert "i" in contexts()["cc-route"]


@pytest.mark.parametrize("path", dialplan_files(), ids=lambda p: p.name)
def test_every_agi_route_the_dialplan_calls_exists(path: Path) -> None:
    routes = {r.value for r in Route}
    for match in _AGI_ROUTE.finditer(_strip_comments(path.read_text())):
        assert match["route"] in routes, f"{path.name} calls unknown route {match['route']}"


def test_every_route_is_called_by_the_dialplan() -> None:
    text = "\n".join(_strip_comments(p.read_text()) for p in dialplan_files())
    called = {m["route"] for m in _AGI_ROUTE.finditer(text)}
    assert {r.value for r in Route} <= called


def test_declared_contexts_exist() -> None:
    declared = getattr(variables, "Context", None)
    if declared is None:
        pytest.skip("variables.py declares no Context enum")
    assert {c.value for c in declared} <= set(contexts())


def test_dialplan_target_check_matches_the_controller_pattern() -> None:
    text = "\n".join(_strip_comments(p.read_text()) for p in dialplan_files())
    patterns = {m["pattern"] for m in _REGEX_CHECK.finditer(text)}
    assert patterns, "the dialplan should re-check the target it dials"
    # Agent endpoints and trunks by name; a callback's number as E.164 (+ in brackets);
    # a conference's name (a consultation's id); an inter-node trunk.
    assert patterns == {
        NAME_PATTERN,
        NODE_TRUNK_PATTERN,
        "^" + E164.pattern.replace("\\+", "[+]") + "$",
        CONF_NAME_PATTERN,
    }


def test_names_follow_the_convention() -> None:
    for name in declared_names():
        assert re.fullmatch(r"CC_[A-Z_]+", name), name
    assert len(declared_names()) == len(Var) + len(Global), "a name is declared twice"


def test_extensions_conf_includes_the_dialplan_and_globals() -> None:
    text = (ASTERISK_TEMPLATES / "extensions.conf").read_text()
    assert "#include dialplan/*.conf" in text
    assert "#tryinclude generated/first_menus.conf" in text
    assert re.search(r"\[globals\]\s*\n#include generated/globals.conf", text)
