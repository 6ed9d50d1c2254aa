"""Rendering the Asterisk configuration: placeholders, generated files, change detection."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from callcenter.adapters.pbx import render
from callcenter.adapters.pbx.render import (
    PbxLayout,
    Renderer,
    RenderError,
    agents_conf,
    fill,
    globals_conf,
    trunks_conf,
)
from callcenter.config import Settings, TrunkSettings
from callcenter.core.dialplan import Global, Var
from callcenter.core.model import SipAccount
from callcenter.core.sip_auth import sip_ha1
from callcenter.paths import ASTERISK_TEMPLATES, DIALPLAN_DIR

ALICE = SipAccount("agent1", sip_ha1("agent1", "s3cret-A"), "Alice Smith", "1001")
BOB = SipAccount("agent2", sip_ha1("agent2", "s3cret-B"), 'Bob "the builder"', "1002")
HA1 = sip_ha1("agent1", "pw")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("CALLCENTER_"):
            monkeypatch.delenv(name)


def settings_for(tmp_path: Path, **extra: object) -> Settings:
    return Settings(state_dir=tmp_path / "state", site_dir=tmp_path / "site", **extra)  # type: ignore[arg-type]


def layout_for(tmp_path: Path) -> PbxLayout:
    return PbxLayout(
        host_dir=tmp_path / "state" / "pbx",
        inner_dir="/srv/callcenter",
        mod_dir="/usr/lib/x86_64-linux-gnu/asterisk/modules",
        data_dir="/usr/share/asterisk",
        run_user="asterisk",
        uid=os.getuid(),
        gid=os.getgid(),
    )


# -- fill ----------------------------------------------------------------------------
def test_fill_replaces_every_placeholder() -> None:
    assert fill("a=@@A@@ b=@@B_C@@ @@A@@", {"A": "1", "B_C": "2"}, "x.conf") == "a=1 b=2 1"


def test_fill_leaves_other_text_alone() -> None:
    text = "email = ops@@example @@lower@@ @@ @@1@@"
    assert fill(text, {}, "x.conf") == text


def test_fill_unknown_placeholder_names_file_and_key() -> None:
    with pytest.raises(RenderError, match=r"x\.conf: unknown placeholder @@NOPE@@"):
        fill("port = @@NOPE@@", {"PORT": "1"}, "x.conf")


def test_fill_does_not_expand_placeholders_inside_values() -> None:
    assert fill("@@A@@", {"A": "@@B@@"}, "x.conf") == "@@B@@"


# -- generated files -----------------------------------------------------------------
def test_agents_conf_sorted_endpoint_auth_aor() -> None:
    text = agents_conf([BOB, ALICE])
    assert text.index("[agent1](agent-endpoint)") < text.index("[agent2](agent-endpoint)")
    for name, secret in (("agent1", "s3cret-A"), ("agent2", "s3cret-B")):
        assert f"[{name}](agent-endpoint)\nauth = {name}\naors = {name}\n" in text
        ha1 = sip_ha1(name, secret)
        assert f"[{name}](agent-auth)\nusername = {name}\nmd5_cred = {ha1}\n" in text
        assert secret not in text
        assert f"[{name}](agent-aor)\n" in text
    assert 'callerid = "Alice Smith" <1001>' in text
    assert 'callerid = "Bob the builder" <1002>' in text  # quotes dropped, not escaped


def test_agents_conf_without_agents_is_only_a_comment() -> None:
    assert [line for line in agents_conf([]).splitlines() if line and line[0] != ";"] == []


@pytest.mark.parametrize(
    "bad", ["a\nb", "a\rb", "a;b", "a[b", "a]b", "x\n[evil](agent-endpoint)", "pw\n", "1001\n"]
)
@pytest.mark.parametrize("field", ["display_name", "ha1", "extension"])
def test_agents_conf_refuses_config_syntax_in_values(field: str, bad: str) -> None:
    values = {"username": "agent1", "ha1": HA1, "display_name": "Al", "extension": "1001"}
    values[field] = bad
    with pytest.raises(RenderError, match=r"agent1|extension"):
        agents_conf([SipAccount(**values)])


@pytest.mark.parametrize(
    "username",
    ["Agent1", "1agent", "agent 1", "agent1;x", "", "a" * 33, "agent/1", "agent.1", "agent1\n"],
)
def test_agents_conf_refuses_bad_usernames(username: str) -> None:
    with pytest.raises(RenderError, match="must match"):
        agents_conf([SipAccount(username, HA1, "Al", "1001")])


def trunk(**values: object) -> TrunkSettings:
    return TrunkSettings(**{"name": "carrier", "match": ["192.0.2.0/24"], **values})  # type: ignore[arg-type]


def test_trunks_conf_inbound_only() -> None:
    text = trunks_conf([trunk(match=["192.0.2.0/24", "198.51.100.7"])])
    assert "[carrier](trunk-endpoint)\naors = carrier\n" in text
    assert "[carrier](trunk-aor)\n" in text
    assert "[carrier](trunk-identify)\nendpoint = carrier\n" in text
    assert "match = 192.0.2.0/24\nmatch = 198.51.100.7\n" in text
    assert "outbound_auth" not in text
    assert "contact =" not in text
    assert "(trunk-auth)" not in text


def test_trunks_conf_with_contact_and_auth() -> None:
    text = trunks_conf([trunk(contact="192.0.2.1:5060", username="acct", password="pw")])
    assert "aors = carrier\noutbound_auth = carrier\n" in text
    assert "contact = sip:192.0.2.1:5060\n" in text
    assert "[carrier](trunk-auth)\nusername = acct\npassword = pw\n" in text


@pytest.mark.parametrize("field", ["contact", "username", "password"])
@pytest.mark.parametrize("bad", ["x\ny", "x;y", "x[y"])
def test_trunks_conf_refuses_config_syntax(field: str, bad: str) -> None:
    values = {"contact": "192.0.2.1", "username": "acct", "password": "pw", field: bad}
    with pytest.raises(RenderError, match="trunk carrier"):
        trunks_conf([trunk(**values)])


def test_globals_conf(tmp_path: Path) -> None:
    text = globals_conf(settings_for(tmp_path, agi={"port": 14573}))
    pairs = dict(line.split(" = ", 1) for line in text.splitlines())
    assert pairs["CC_AGI"] == "agi://127.0.0.1:14573"
    assert pairs["CC_FALLBACK_QUEUE"] == "cc-fallback"
    assert int(pairs["CC_RING_TIMEOUT"]) > 0
    # Only names from the dialplan contract, and nothing Asterisk would misread.
    assert set(pairs) <= {v.value for v in (*Var, *Global)}
    for value in pairs.values():
        assert value and ";" not in value and "\n" not in value


def test_layout_host_path(tmp_path: Path) -> None:
    layout = layout_for(tmp_path)
    assert layout.host_path("/srv/callcenter/spool/rec/a.wav") == (
        layout.host_dir / "spool/rec/a.wav"
    )
    with pytest.raises(ValueError, match="outside"):
        layout.host_path("/etc/passwd")


@pytest.mark.parametrize(
    "inner", ["/srv/callcenter-other/secret", "/srv/callcenter/../../etc/shadow"]
)
def test_layout_host_path_refuses_paths_outside(tmp_path: Path, inner: str) -> None:
    with pytest.raises(ValueError, match="outside"):
        layout_for(tmp_path).host_path(inner)


# -- Renderer ----------------------------------------------------------------------------
def rendered(tmp_path: Path) -> Path:
    return tmp_path / "state" / "pbx" / "etc"


def test_first_render_writes_everything_second_writes_nothing(tmp_path: Path) -> None:
    renderer = Renderer(settings_for(tmp_path), layout_for(tmp_path))
    changed = renderer.render("ami-secret", [ALICE])
    expected = {p.name for p in ASTERISK_TEMPLATES.glob("*.conf")}
    expected |= {f"dialplan/{p.name}" for p in DIALPLAN_DIR.glob("*.conf")}
    expected |= {
        "generated/globals.conf",
        "generated/pjsip_agents.conf",
        "generated/pjsip_trunks.conf",
        "generated/first_menus.conf",  # no menus until the controller publishes the flows'
    }
    assert set(changed) == expected
    assert len(changed) == len(expected)
    again = Renderer(settings_for(tmp_path), layout_for(tmp_path))
    assert again.render("ami-secret", [ALICE]) == []


def test_only_changed_files_are_reported(tmp_path: Path) -> None:
    renderer = Renderer(settings_for(tmp_path), layout_for(tmp_path))
    renderer.render("secret-1", [ALICE])
    assert renderer.render("secret-2", [ALICE]) == ["manager.conf"]
    assert renderer.render("secret-2", [ALICE, BOB]) == ["generated/pjsip_agents.conf"]
    assert renderer.render_agents([ALICE, BOB]) is False
    assert renderer.render_agents([ALICE]) is True
    assert "agent2" not in (rendered(tmp_path) / "generated/pjsip_agents.conf").read_text()


def test_no_placeholder_is_left_unfilled(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, sip={"external_address": "192.0.2.10"})
    Renderer(settings, layout_for(tmp_path)).render("s3cret", [ALICE])
    files = list(rendered(tmp_path).rglob("*.conf"))
    assert len(files) > 20
    for path in files:
        assert "@@" not in path.read_text(), path
    pjsip = (rendered(tmp_path) / "pjsip.conf").read_text()
    assert "external_media_address = 192.0.2.10\n" in pjsip
    assert "external_signaling_address = 192.0.2.10\n" in pjsip


def test_rendered_values_land_where_asterisk_reads_them(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        ami={"port": 15038, "username": "ccuser"},
        sip={"bind": "127.0.0.1", "port": 15060, "rtp_start": 21000, "rtp_end": 22999},
    )
    Renderer(settings, layout_for(tmp_path)).render("Zm9vYmFy", [])
    etc = rendered(tmp_path)
    manager = (etc / "manager.conf").read_text()
    assert "bindaddr = 127.0.0.1\nport = 15038\n" in manager
    assert "[ccuser]\nsecret = Zm9vYmFy\n" in manager
    assert "bind = 127.0.0.1:15060\n" in (etc / "pjsip.conf").read_text()
    assert "rtpstart = 21000\nrtpend = 22999\n" in (etc / "rtp.conf").read_text()
    asterisk = (etc / "asterisk.conf").read_text()
    assert "astetcdir => /srv/callcenter/etc\n" in asterisk
    assert "astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules\n" in asterisk
    assert "runuser = asterisk\n" in asterisk
    assert "external_media_address" not in (etc / "pjsip.conf").read_text()


def test_templates_use_only_known_placeholders(tmp_path: Path) -> None:
    known = set(render.placeholders(settings_for(tmp_path), layout_for(tmp_path), "s"))
    used: set[str] = set()
    for template in ASTERISK_TEMPLATES.glob("*.conf"):
        used |= set(re.findall(r"@@([A-Z_]+)@@", template.read_text()))
    assert used <= known
    assert used, "the templates should use placeholders"


def test_dialplan_is_mirrored_and_stale_files_go(tmp_path: Path) -> None:
    renderer = Renderer(settings_for(tmp_path), layout_for(tmp_path))
    renderer.render("s", [])
    dialplan = rendered(tmp_path) / "dialplan"
    for source in DIALPLAN_DIR.glob("*.conf"):
        assert (dialplan / source.name).read_text() == source.read_text()
    (dialplan / "removed-feature.conf").write_text("[old]\n")
    assert renderer.render("s", []) == ["dialplan/removed-feature.conf"]
    assert not (dialplan / "removed-feature.conf").exists()


def test_site_files_are_copied_into_site(tmp_path: Path) -> None:
    site = tmp_path / "site" / "asterisk"
    site.mkdir(parents=True)
    (site / "extensions_local.conf").write_text("[local]\nexten => 1,1,Hangup()\n")
    (site / "notes.txt").write_text("not a config")
    renderer = Renderer(settings_for(tmp_path), layout_for(tmp_path))
    assert "site/extensions_local.conf" in renderer.render("s", [])
    etc = rendered(tmp_path)
    assert (etc / "site/extensions_local.conf").read_text().startswith("[local]")
    assert not (etc / "site/notes.txt").exists()
    (site / "extensions_local.conf").unlink()
    assert renderer.render("s", []) == ["site/extensions_local.conf"]
    assert not (etc / "site/extensions_local.conf").exists()


def test_generated_trunks_follow_the_settings(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, trunks=[{"name": "sipp", "match": ["127.0.0.2"]}])
    Renderer(settings, layout_for(tmp_path)).render("s", [])
    text = (rendered(tmp_path) / "generated/pjsip_trunks.conf").read_text()
    assert "[sipp](trunk-identify)\nendpoint = sipp\nmatch = 127.0.0.2\n" in text


def test_files_and_dirs_get_safe_modes(tmp_path: Path) -> None:
    Renderer(settings_for(tmp_path), layout_for(tmp_path)).render("s", [ALICE])
    etc = rendered(tmp_path)
    assert (etc / "manager.conf").stat().st_mode & 0o777 == 0o640
    assert (etc / "generated/pjsip_agents.conf").stat().st_mode & 0o777 == 0o640
    assert etc.stat().st_mode & 0o777 == 0o750
    assert (etc / "manager.conf").stat().st_gid == os.getgid()
    for name in ("lib", "spool/recordings", "log", "run", "cache"):
        assert (etc.parent / name).is_dir()
    assert not list(etc.rglob("*.tmp"))


def test_a_refused_value_leaves_the_previous_file(tmp_path: Path) -> None:
    renderer = Renderer(settings_for(tmp_path), layout_for(tmp_path))
    renderer.render("s", [ALICE])
    agents = rendered(tmp_path) / "generated/pjsip_agents.conf"
    before = agents.read_text()
    with pytest.raises(RenderError):
        renderer.render_agents([SipAccount("agent3", HA1 + "\n[x]", "Eve", "1003")])
    assert agents.read_text() == before


def test_voicemail_boxes_get_stable_pins_of_their_own() -> None:
    from callcenter.adapters.pbx.render import voicemail_conf

    text = voicemail_conf(["support", "100", "support"], "install-secret")
    lines = [line for line in text.splitlines() if "=>" in line]
    assert [line.split(" => ")[0] for line in lines] == ["100", "support"]
    pins = [line.split(" => ")[1].split(",")[0] for line in lines]
    assert all(len(pin) == 8 and pin.isdigit() for pin in pins) and pins[0] != pins[1]
    assert voicemail_conf(["100", "support"], "install-secret") == text
    assert voicemail_conf(["100", "support"], "another-install") != text


def test_a_voicemail_box_that_could_break_the_config_is_refused() -> None:
    import pydantic

    from callcenter.adapters.pbx.render import voicemail_conf
    from callcenter.core.queues import QueueSettings

    with pytest.raises(RenderError):
        voicemail_conf(["1,2\n[evil]"], "s")
    with pytest.raises(pydantic.ValidationError, match="target"):
        QueueSettings.model_validate(
            {"name": "q", "on_max_wait": {"action": "voicemail", "target": "a b;c"}}
        )
    queue = QueueSettings.model_validate(
        {
            "name": "q",
            "voicemail_box": "200",
            "on_max_wait": {"action": "voicemail", "target": "q1"},
        }
    )
    assert queue.voicemail_boxes() == {"200", "q1"}


def test_phone_codes_render_as_dynamic_features_or_not_at_all(tmp_path: Path) -> None:
    pairs = dict(line.split(" = ", 1) for line in globals_conf(settings_for(tmp_path)).splitlines())
    assert pairs["CC_PHONE_CODES"].split("#") == [
        "cc_cancel", "cc_complete", "cc_conference", "cc_consult", "cc_hold", "cc_transfer",
    ]  # fmt: skip
    assert pairs["CC_CODE_LENGTH"] == "2"
    Renderer(settings_for(tmp_path), layout_for(tmp_path)).render("s3cret", [])
    features = (rendered(tmp_path) / "features.conf").read_text()
    assert "cc_hold => *1,self,Gosub(cc-phone-code,hold,1)" in features
    assert "blindxfer" not in features.split("[featuremap]")[1].split("[")[0]
    confbridge = (rendered(tmp_path) / "confbridge.conf").read_text()
    assert "*4 = dialplan_exec(cc-conf-code,complete,1)" in confbridge
    off = settings_for(tmp_path, transfers={"phone_codes": False, "codes": {"hold": "#12"}})
    assert "CC_PHONE_CODES" not in globals_conf(off)
    Renderer(off, layout_for(tmp_path)).render("s3cret", [])
    features = (rendered(tmp_path) / "features.conf").read_text()
    assert "cc_" not in features
    assert "cc_agent_menu" not in (rendered(tmp_path) / "confbridge.conf").read_text()
