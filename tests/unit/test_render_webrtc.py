"""The browser phone's Asterisk side as rendered ([sip] webrtc, [sip.agents.NAME] webrtc):
http.conf read back with pyst2's Asterisk config parser (as test_render_parsed.py
does), the WebSocket transport, the endpoints' ``webrtc = yes``, the certificate."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from callcenter.adapters.pbx.render import Renderer, agents_conf
from callcenter.adapters.pbx.webrtc import WEBRTC_CERT, WEBRTC_KEY
from callcenter.adapters.web.certificate import ensure_certificate
from callcenter.config import SipSettings
from callcenter.core.model import SipAccount
from callcenter.core.sip_auth import sip_ha1
from tests.unit.test_render import layout_for
from tests.unit.test_render_parsed import one, parse

ACCOUNTS = [
    SipAccount("webby", sip_ha1("webby", "pw-1"), "Web Agent", "1001"),
    SipAccount("desky", sip_ha1("desky", "pw-2"), "Desk Agent", "1002"),
]


def render(root: Path, sip: dict[str, object], web: dict[str, object] | None = None) -> Path:
    from callcenter.config import Settings

    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.upper().startswith("CALLCENTER_"):
                env.delenv(name)
        settings = Settings(
            state_dir=root / "state",
            site_dir=root / "site",
            sip={"bind": "0.0.0.0", "port": 15060, **sip},
            web=web or {},
        )
    layout = layout_for(root)
    Renderer(settings, layout).render("c2VjcmV0", ACCOUNTS)
    return layout.host_dir / "etc"


def sections(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith(";")]
        if lines:
            found[lines[0]] = lines[1:]
    return found


def test_without_browser_agents_the_http_server_is_off_and_no_websocket(tmp_path: Path) -> None:
    etc = render(tmp_path, {})
    http = parse(etc / "http.conf")
    assert one(http, "general", "enabled") == "no"
    assert "tlsenable" not in http["general"]
    assert "transport-wss" not in (etc / "pjsip.conf").read_text()
    assert "webrtc" not in (etc / "generated/pjsip_agents.conf").read_text()
    assert not (tmp_path / "state/pbx/lib/keys" / WEBRTC_CERT).exists()


def test_a_browser_agent_gets_https_a_websocket_and_a_webrtc_endpoint(tmp_path: Path) -> None:
    sip = {"srtp": True, "webrtc_port": 18089, "agents": {"webby": {"webrtc": True}}}
    etc = render(tmp_path, sip)
    http = parse(etc / "http.conf")
    assert one(http, "general", "enabled") == "yes"
    assert one(http, "general", "tlsenable") == "yes"
    assert one(http, "general", "tlsbindaddr") == "0.0.0.0:18089"
    # The plain listener Asterisk insists on stays on loopback, on a port of its own.
    assert one(http, "general", "bindaddr") == "127.0.0.1"
    assert one(http, "general", "bindport") == "18090"
    assert one(http, "general", "tlscertfile") == f"/srv/callcenter/lib/keys/{WEBRTC_CERT}"
    assert one(http, "general", "tlsprivatekey") == f"/srv/callcenter/lib/keys/{WEBRTC_KEY}"
    pjsip = (etc / "pjsip.conf").read_text()
    assert "[transport-wss]\ntype = transport\nprotocol = wss\n" in pjsip
    modules = (etc / "modules.conf").read_text().splitlines()
    assert {"load = res_http_websocket.so", "load = res_pjsip_transport_websocket.so"} <= set(
        modules
    )
    agents = sections((etc / "generated/pjsip_agents.conf").read_text())
    webby, desky = agents["[webby](agent-endpoint)"], agents["[desky](agent-endpoint)"]
    # DTLS-SRTP (webrtc) for the browser agent, in place of [sip] srtp's SDES keys.
    assert "webrtc = yes" in webby and "media_encryption = sdes" not in webby
    assert "webrtc = yes" not in desky and "media_encryption = sdes" in desky
    # Asterisk's HTTPS server presents the console's certificate, copied for Asterisk.
    console = tmp_path / "state/tls"
    keys = tmp_path / "state/pbx/lib/keys"
    assert (keys / WEBRTC_CERT).read_bytes() == (console / "console.crt").read_bytes()
    assert (keys / WEBRTC_KEY).read_bytes() == (console / "console.key").read_bytes()
    assert (keys / WEBRTC_KEY).stat().st_mode & 0o777 == 0o640


@pytest.mark.skipif(os.geteuid() != 0, reason="root renders for another user only as root")
def test_a_console_certificate_made_by_root_belongs_to_the_controller(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    os.chown(state, 65534, 65534)  # `service install` hands it to the controller's user
    render(tmp_path, {"webrtc": True})
    for path in (state / "tls", state / "tls/console.crt", state / "tls/console.key"):
        assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534), path
    assert (state / "tls/console.key").stat().st_mode & 0o777 == 0o600


def test_the_site_s_console_certificate_is_the_one_asterisk_serves(tmp_path: Path) -> None:
    own = ensure_certificate(tmp_path / "own")
    etc = render(
        tmp_path,
        {"webrtc": True},
        {"cert_file": str(own.cert), "key_file": str(own.key)},
    )
    keys = etc.parent / "lib/keys"
    assert (keys / WEBRTC_CERT).read_bytes() == own.cert.read_bytes()
    assert "webrtc = yes" in (etc / "generated/pjsip_agents.conf").read_text()


def test_webrtc_per_agent_overrides_the_site_wide_setting() -> None:
    sip = SipSettings(webrtc=True, agents={"desky": {"webrtc": False}})  # type: ignore[dict-item]
    assert sip.webrtc_for("webby") and not sip.webrtc_for("desky") and sip.webrtc_used
    assert not SipSettings().webrtc_used
    text = agents_conf(ACCOUNTS, sip)
    assert text.count("webrtc = yes") == 1


def test_the_websocket_port_must_not_be_a_sip_port() -> None:
    with pytest.raises(ValidationError, match="webrtc_port"):
        SipSettings(webrtc=True, webrtc_port=5060)
    SipSettings(webrtc_port=5060)  # unused: no clash
