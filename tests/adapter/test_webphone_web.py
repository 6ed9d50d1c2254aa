"""The desktop's browser phone over HTTP (a real controller and database, Flask's test
client): the phone's credentials go to the logged-in agent's own session only, as the
stored digest and realm (there is no password to give), never cached; the desktop page
of a browser agent loads JsSIP from the console and lets the page reach Asterisk's
WebSocket, and nothing else; other users' pages and policies are unchanged."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from apiflask import APIFlask
from flask.testing import FlaskClient

from callcenter.adapters.web.app import create_app
from callcenter.adapters.web.areas import phone
from callcenter.config import SipSettings
from callcenter.core.sip_auth import SIP_REALM
from callcenter.paths import DEPLOY_DIR
from callcenter.simulate.console import Console
from tests.adapter.console_support import AGENT, login

HTTPS = "https://localhost"
PORT = 18089


@pytest.fixture(scope="module")
def app(console: Console) -> Iterator[APIFlask]:
    """The console with [sip.agents.<AGENT>] webrtc = true (the supervisor's agent not)."""
    sip = SipSettings(webrtc_port=PORT, agents={AGENT: {"webrtc": True}})  # type: ignore[dict-item]
    yield create_app(dataclasses.replace(console.services, sip=sip), "phone-test-secret")


def client_as(app: APIFlask, role: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    login(client, role)
    return client


def test_the_agent_gets_her_own_digest_and_the_websocket_never_cached(
    app: APIFlask, console: Console
) -> None:
    answer = client_as(app, "agent").get("/api/desktop/phone", base_url=HTTPS)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    account = console.controller.directory.get(AGENT)
    assert account is not None
    assert body == {
        "enabled": True,
        "ws_url": f"wss://localhost:{PORT}/ws",
        "uri": f"sip:{AGENT}@localhost",
        "username": AGENT,
        "realm": SIP_REALM,
        "ha1": account.ha1,
        "display_name": account.display_name,
    }
    assert "password" not in answer.get_data(as_text=True)


def test_others_get_no_credentials(app: APIFlask) -> None:
    # The supervisor works as an agent without a browser phone: nothing to register.
    boss = client_as(app, "supervisor").get("/api/desktop/phone", base_url=HTTPS)
    assert boss.status_code == 200 and boss.get_json()["enabled"] is False
    assert boss.get_json()["ha1"] == ""
    # No agent at all, or nobody: refused.
    admin = client_as(app, "admin").get("/api/desktop/phone", base_url=HTTPS)
    assert admin.status_code == 400
    stranger = app.test_client().get("/api/desktop/phone", base_url=HTTPS)
    assert stranger.status_code == 401


def test_the_browser_agent_s_desktop_loads_jssip_and_may_reach_the_websocket(
    app: APIFlask,
) -> None:
    page = client_as(app, "agent").get("/desktop", base_url=HTTPS)
    html = page.get_data(as_text=True)
    assert 'id="phone"' in html
    assert '<script src="/vendor/jssip.min.js"></script>' in html
    policy = page.headers["Content-Security-Policy"]
    assert f"connect-src 'self' wss://localhost:{PORT};" in policy
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert not re.search(r"<script>", html)  # no inline script


def test_a_forged_host_never_reaches_the_policy(app: APIFlask) -> None:
    client = client_as(app, "agent")
    page = client.get("/desktop", base_url=HTTPS, headers={"Host": "evil;script-src *"})
    assert "connect-src 'self';" in page.headers["Content-Security-Policy"]
    assert "evil" not in page.headers["Content-Security-Policy"]
    answer = client.get("/api/desktop/phone", base_url=HTTPS, headers={"Host": "evil;x"})
    assert answer.get_json()["enabled"] is False


def test_other_desktops_are_unchanged(console: Console) -> None:
    # The console without browser agents: no panel, no library, the plain policy.
    page = client_as(console.app, "agent").get("/desktop", base_url=HTTPS)
    assert 'id="phone"' not in page.get_data(as_text=True)
    assert "connect-src 'self';" in page.headers["Content-Security-Policy"]


def test_jssip_is_served_from_the_console_as_installed(
    app: APIFlask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "jssip.min.js"
    monkeypatch.setattr(phone, "JSSIP_FILE", bundle)
    assert app.test_client().get("/vendor/jssip.min.js", base_url=HTTPS).status_code == 404
    bundle.write_text("var JsSIP = {};\n")
    served = app.test_client().get("/vendor/jssip.min.js", base_url=HTTPS)
    assert served.status_code == 200 and served.mimetype == "text/javascript"
    assert served.get_data(as_text=True) == "var JsSIP = {};\n"


def test_setup_installs_the_release_the_console_names() -> None:
    setup = (DEPLOY_DIR / "setup.sh").read_text()
    assert f"jssip={phone.JSSIP_VERSION}\n" in setup
