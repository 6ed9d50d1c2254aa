"""Every rendered Asterisk file read back with an Asterisk config parser (pyst2's
asterisk.config), and the facts Asterisk will find in them checked section by section.

pyst2's parser knows plain ``[section]`` headers and ``name = value`` /
``name => value`` lines only. It refuses ``#include`` / ``#tryinclude`` lines and
template headers (``[name](!)``, ``[name](template)``): the files using them are
listed in NOT_PARSED with the reason, and a test keeps that list true.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from asterisk.config import Category, Config, Item, ParseError

from callcenter.adapters.pbx.render import Renderer
from callcenter.config import Settings
from callcenter.core.dialplan import Context, Global, Var
from callcenter.core.model import SipAccount
from callcenter.core.sip_auth import sip_ha1
from tests.unit.test_render import layout_for

NOT_PARSED = {
    "extensions.conf": "#include of globals and the dialplan",
    "modules.conf": "#tryinclude of the site's modules",
    "musiconhold.conf": "#tryinclude of the site's classes",
    "voicemail.conf": "#tryinclude of the generated boxes",
    "pjsip.conf": "template headers ([agent-endpoint](!))",
    "queues.conf": "a template header ([cc-fallback-template](!)) and #tryinclude of the twins",
    "generated/queues_fallback.conf": "sections from templates ([cc-fallback-support](...))",
    "generated/pjsip_agents.conf": "sections from templates ([agent1](agent-endpoint))",
    "generated/pjsip_trunks.conf": "sections from templates ([carrier](trunk-endpoint))",
}

Sections = dict[str, dict[str, list[str]]]


@pytest.fixture(scope="module")
def etc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``callcenter pbx up``'s rendering (the voicemail boxes too), without Asterisk."""
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.upper().startswith("CALLCENTER_"):  # settings of this machine's own
                env.delenv(name)
        return render(tmp_path_factory.mktemp("render"))


def render(root: Path) -> Path:
    settings = Settings(
        state_dir=root / "state",
        site_dir=root / "site",
        ami={"host": "127.0.0.1", "port": 15038, "username": "ccuser"},
        agi={"port": 14573},
        sip={"bind": "127.0.0.1", "port": 15060, "rtp_start": 21000, "rtp_end": 22999},
        trunks=[
            {
                "name": "carrier",
                "match": ["192.0.2.0/24"],
                "contact": "192.0.2.1:5060",
                "username": "acct",
                "password": "pw",
            }
        ],
    )
    layout = layout_for(root)
    renderer = Renderer(settings, layout)
    renderer.render(
        "Zm9vYmFy", [SipAccount("agent1", sip_ha1("agent1", "s3cret-A"), "Alice Smith", "1001")]
    )
    renderer.render_voicemail(["support"], "install-secret")
    renderer.render_fallback_queues({"support": 30.0, "sales": 0.5})
    return layout.host_dir / "etc"


def rendered_files(etc: Path) -> list[str]:
    return sorted(str(path.relative_to(etc)) for path in etc.rglob("*.conf"))


def parse(path: Path) -> Sections:
    """Section -> item name -> its values in order ("" holds items before any section)."""
    sections: Sections = {"": {}}
    section = ""
    for line in Config(str(path)).lines:
        if isinstance(line, Category):
            section = line.name
            sections.setdefault(section, {})
        elif isinstance(line, Item):
            sections[section].setdefault(line.name, []).append(line.value.strip())
    return sections


def one(sections: Sections, section: str, name: str) -> str:
    values = sections[section][name]
    assert len(values) == 1, (section, name, values)
    return values[0]


def test_every_rendered_file_parses_but_those_listed(etc: Path) -> None:
    files = rendered_files(etc)
    assert len(files) > 20
    assert set(NOT_PARSED) <= set(files)
    for name in files:
        if name in NOT_PARSED:
            with pytest.raises(ParseError):  # when it parses, it leaves NOT_PARSED
                Config(str(etc / name))
        else:
            parse(etc / name)


def test_manager_conf_has_the_controllers_user_on_loopback(etc: Path) -> None:
    manager = parse(etc / "manager.conf")
    assert set(manager) == {"", "general", "ccuser"}
    assert one(manager, "general", "enabled") == "yes"
    assert one(manager, "general", "bindaddr") == "127.0.0.1"
    assert one(manager, "general", "port") == "15038"
    assert one(manager, "ccuser", "secret") == "Zm9vYmFy"
    assert one(manager, "ccuser", "permit") == "127.0.0.0/255.0.0.0"
    read = set(one(manager, "ccuser", "read").split(","))
    write = set(one(manager, "ccuser", "write").split(","))
    assert {"call", "user", "agent"} <= read and "dialplan" not in read
    # Only the rights the controller's actions and events need: never a shell command
    # (command), an Originate of System() or a module load (system).
    assert write == {"call", "agent", "originate", "reporting", "config"}
    assert read == {"system", "call", "agent", "user", "dtmf"}
    assert "!Event: Newexten" in manager["ccuser"]["eventfilter"]


def test_queues_conf_holds_the_fallback_queue_and_each_queue_s_twin(etc: Path) -> None:
    # Read as text: the parser refuses template headers (NOT_PARSED).
    queues = (etc / "queues.conf").read_text().splitlines()
    assert "[cc-fallback-template](!)" in queues and "strategy = leastrecent" in queues
    assert "persistentmembers = no" in queues
    start = queues.index(f"[{Context.FALLBACK.value}](cc-fallback-template)")
    assert queues[start + 1] == "wrapuptime = 0"
    assert "#tryinclude generated/queues_fallback.conf" in queues
    twins = (etc / "generated/queues_fallback.conf").read_text().split("\n\n")[1:]
    assert [twin.strip().splitlines() for twin in twins] == [
        ["[cc-fallback-sales](cc-fallback-template)", "wrapuptime = 1", "weight = 1"],
        ["[cc-fallback-support](cc-fallback-template)", "wrapuptime = 30", "weight = 1"],
    ]


def test_the_dialplan_has_every_context_the_controller_names(etc: Path) -> None:
    contexts: Sections = {}
    # The dialplan shipped, and the flows' first menus (cc-first) the controller renders.
    for path in [*sorted((etc / "dialplan").glob("*.conf")), etc / "generated/first_menus.conf"]:
        for name, items in parse(path).items():
            if name:
                assert name not in contexts, f"{name} defined twice"
                contexts[name] = items
                assert set(items) <= {"exten", "same"}, (path.name, name, set(items))
    assert {context.value for context in Context} <= set(contexts)
    assert {"cc-route", "cc-inbound", "cc-agents"} <= set(contexts)


def test_generated_globals_and_voicemail_boxes(etc: Path) -> None:
    globals_ = parse(etc / "generated" / "globals.conf")[""]
    assert globals_[Global.AGI_URL.value] == ["agi://127.0.0.1:14573"]
    assert globals_[Global.FALLBACK_QUEUE.value] == [Context.FALLBACK.value]
    assert int(globals_[Var.RING_TIMEOUT.value][0]) > 0
    boxes = parse(etc / "generated" / "voicemail_boxes.conf")[""]
    pin, box = boxes["support"][0].split(",")
    assert box == "support" and len(pin) == 8 and pin.isdigit()


def test_asterisk_rtp_and_features_conf(etc: Path) -> None:
    asterisk = parse(etc / "asterisk.conf")
    assert one(asterisk, "directories", "astetcdir") == "/srv/callcenter/etc"
    assert one(asterisk, "directories", "astspooldir") == "/srv/callcenter/spool"
    assert one(asterisk, "options", "runuser") == "asterisk"
    rtp = parse(etc / "rtp.conf")
    assert (one(rtp, "general", "rtpstart"), one(rtp, "general", "rtpend")) == ("21000", "22999")
    assert "featuremap" in parse(etc / "features.conf")
