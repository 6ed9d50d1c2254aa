"""Which prompts can be played: Asterisk's sounds listed from disk (inside a chroot
root, links and all), the site's own, and every prompt the product itself plays
checked against the sounds the Debian Asterisk root ships."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from callcenter.adapters.pbx.provider import ChrootProvider, path_in_root
from callcenter.adapters.pbx.sounds import SitePrompts, sound_names
from callcenter.config import PbxSettings
from callcenter.core.ivr import load_flow
from callcenter.core.prompts import CUSTOM, KnownPrompts, missing_prompts
from callcenter.core.queues import QueueSettings
from callcenter.services.site import load_site_file
from tests.support.sounds import SOUNDS, debian_root

PROJECT = Path(__file__).resolve().parents[2]


def test_sound_names_are_paths_without_extension_and_only_sounds(tmp_path: Path) -> None:
    folder = debian_root(tmp_path) / "usr/share/asterisk/sounds/en_US_f_Allison"
    assert sound_names(folder) == SOUNDS


def test_links_in_a_chroot_root_are_followed_inside_the_root(tmp_path: Path) -> None:
    root = debian_root(tmp_path / "root")
    (root / "usr/local/share/asterisk/sounds").mkdir(parents=True)
    (root / "usr/share/asterisk/sounds/custom").symlink_to("../../../local/share/asterisk/sounds")
    voice = root / "usr/share/asterisk/sounds/en_US_f_Allison"
    assert path_in_root(root, "/usr/share/asterisk/sounds/en") == voice
    custom = path_in_root(root, "/usr/share/asterisk/sounds/custom")
    assert custom == root / "usr/local/share/asterisk/sounds"
    assert path_in_root(root, "/../../usr/share/asterisk/sounds/en") == voice  # never above it


def test_site_prompts_lists_asterisks_sounds_and_the_sites_own(tmp_path: Path) -> None:
    root = debian_root(tmp_path / "root")
    site = tmp_path / "site"
    (site / "sounds").mkdir(parents=True)
    (site / "sounds/welcome.wav").write_bytes(b"")
    (site / "sounds/.welcome.text").write_text("stamp, not a prompt")
    known = SitePrompts(ChrootProvider(root), site)()
    assert known.sounds == SOUNDS
    assert known.site == {"welcome"}
    (site / "sounds/closed.gsm").write_bytes(b"")  # recorded since: counts at once
    assert SitePrompts(ChrootProvider(root), site)().site == {"welcome", "closed"}


def test_without_a_root_the_sounds_are_unknown_and_where_they_were_sought_is_said(
    tmp_path: Path,
) -> None:
    known = SitePrompts(ChrootProvider(tmp_path / "not-built"), tmp_path / "site")()
    assert known.sounds is None and known.site == frozenset()
    assert known.searched == str(tmp_path / "not-built/usr/share/asterisk/sounds/en")


# -- the sounds the Debian Asterisk root ships --------------------------------------------
@pytest.fixture(scope="module")
def shipped() -> frozenset[str]:
    folder = ChrootProvider(PbxSettings().root).sounds_folder("en")
    if not folder.is_dir():
        pytest.skip(f"no Asterisk root built at {PbxSettings().root} (`callcenter pbx up`)")
    return sound_names(folder)


# The calls that play their first argument (keys.plan: a prompt and its keys).
PLAYS = {"stream_file", "get_data", "play", "_prompt", "plan"}
DIALPLAN_PLAYS = re.compile(r"\b(?:Playback|Background|BackGround)\(([^)]*)\)")
PROMPT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_/-]*")


def _strings(node: ast.AST, assigned: dict[str, list[ast.expr]]) -> set[str]:
    """Prompt-like strings in ``node``, names looked up among the module's assignments."""
    found = set()
    for part in ast.walk(node):
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            found |= {part.value} if PROMPT.fullmatch(part.value) else set()
        elif isinstance(part, ast.Name):
            for value in assigned.get(part.id, []):
                found |= _strings(value, {})
    return found


def python_prompts(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    found = set()
    for node in ast.walk(tree):
        call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if call and node.func.attr in PLAYS and node.args:
            found |= _strings(node.args[0], assigned)
    return found


def fixed_prompts() -> set[str]:
    """Every prompt the product plays of its own: the controller's literals, the
    dialplan's, and the defaults of a queue's settings."""
    found = set()
    for path in (PROJECT / "callcenter").rglob("*.py"):
        found |= python_prompts(path)
    for path in (PROJECT / "dialplan").glob("*.conf"):
        for argument in DIALPLAN_PLAYS.findall(path.read_text()):
            found |= {p for p in argument.split(",")[0].split("&") if PROMPT.fullmatch(p)}
    return found | {prompt for _, prompt in QueueSettings(name="any").sounds()}


def test_the_scan_finds_the_prompts_of_every_place_that_plays_them() -> None:
    found = fixed_prompts()
    assert {
        "queue-youarenext",  # adapters/agi/routes.py: the caller's place in line
        "vm-enter-num-to-call",  # routes.py, through a module constant
        "telephone-number",  # routes.py, through _prompt
        "agent-loginok",  # adapters/agi/agent_features.py, through a local name
        "silence/1",  # adapters/agi/ivr_runner.py
        "vm-goodbye",  # services/inbound/arrival.py
        "demo-echotest",  # dialplan/agents.conf
        "vm-nobodyavail",  # dialplan/fallback.conf and the queues' default overflow
        "auth-thankyou",  # the callback settings' default thanks
    } <= found


def test_every_prompt_the_product_plays_itself_is_shipped(shipped: frozenset[str]) -> None:
    assert sorted(fixed_prompts() - shipped) == []


@pytest.mark.parametrize("flow_file", ["examples/ivr/main.toml", "examples/demo/main-flow.toml"])
def test_the_example_flows_name_only_shipped_sounds_and_site_prompts(
    flow_file: str, shipped: frozenset[str]
) -> None:
    # The site's own (custom/...) are the administrator's to record; every other is Asterisk's.
    flow = load_flow(tomllib.loads((PROJECT / flow_file).read_text()), source=flow_file)
    used = [(f"{n}.{f}", p) for n, node in flow.nodes.items() for f, p in node.sounds()]
    site = frozenset(p.removeprefix(CUSTOM) for _, p in used if p.startswith(CUSTOM))
    assert missing_prompts(used, KnownPrompts(shipped, site)) == []


def test_the_demo_site_loads_once_its_welcome_prompt_is_made(shipped: frozenset[str]) -> None:
    site = load_site_file(
        PROJECT / "examples/demo/site.toml", KnownPrompts(shipped, frozenset({"cc-demo-welcome"}))
    )
    assert set(site.flows) == {"main"}
