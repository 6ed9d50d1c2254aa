"""The console as a service on a network: headers, cookies, throttled logins, sessions
and tokens that end, every playback audited, no state changed by a GET, callbacks
seen and copied only by those they belong to. Real controller and database, Flask's
test client (tests/e2e covers the same over real HTTPS in Chromium)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from callcenter.adapters.db.models import ApiTokenRow, RecordingRow
from callcenter.adapters.web.certificate import ensure_certificate
from callcenter.core.users import UserError, password_problem
from callcenter.simulate.console import Console
from tests.adapter.console_support import AGENT, CSRF_FIELD, PASSWORD, USERNAMES, login

HTTPS = "https://localhost"


def _form(client: FlaskClient, **extra: str) -> dict[str, str]:
    found = CSRF_FIELD.search(client.get("/login", **extra).get_data(as_text=True))  # type: ignore[arg-type]
    assert found is not None
    return {"csrf_token": found.group(1)}


# -- headers and cookies --------------------------------------------------------------
def test_every_page_carries_a_policy_and_https_adds_hsts(console: Console) -> None:
    client = console.app.test_client()
    page = client.get("/login", base_url=HTTPS)
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "http:" not in policy
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert page.headers["X-Frame-Options"] == "DENY"


def test_the_api_docs_load_nothing_from_elsewhere(console: Console) -> None:
    client = console.app.test_client()
    docs = client.get("/api/docs", base_url=HTTPS).get_data(as_text=True)
    loaded = re.findall(r'(?:src|href)="([^"]*)"', docs)
    assert loaded and all(url.startswith("/api/docs/assets/") for url in loaded), loaded
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f"/api/docs/assets/{asset}" in docs
        served = client.get(f"/api/docs/assets/{asset}", base_url=HTTPS)
        assert served.status_code == 200 and len(served.data) > 1000
    assert client.get("/api/docs/assets/index.html").status_code == 404


def test_the_session_cookie_is_secure_httponly_and_strict(console: Console) -> None:
    client = console.app.test_client()
    data = {**_form(client, base_url=HTTPS), "username": USERNAMES["admin"], "password": PASSWORD}
    answer = client.post("/login", data=data, base_url=HTTPS)
    assert answer.status_code == 302
    [cookie] = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session=")]
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite=strict"} <= flags


# -- throttled logins -------------------------------------------------------------------
def test_a_user_name_under_attack_gets_429_before_any_password_is_hashed(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = console.controller.users
    hashed = []
    real = users.authenticate
    monkeypatch.setattr(
        users, "authenticate", lambda u, p: hashed.append(u) or real(u, p), raising=True
    )
    statuses = []
    for attempt in range(8):  # each from another address: the per-user limit
        client = console.app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.1.0.{attempt + 1}"
        data = {**_form(client), "username": "target-user", "password": "guess-number-x"}
        answer = client.post("/login", data=data)
        statuses.append(answer.status_code)
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    assert "Too many login attempts" in answer.get_data(as_text=True)
    assert len(hashed) == 5  # the refused ones never reached the hash


def test_an_address_flooding_logins_gets_429(console: Console) -> None:
    client = console.app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.2.0.1"
    statuses = []
    for attempt in range(24):
        data = {**_form(client), "username": f"someone-{attempt}", "password": "guess-number-x"}
        statuses.append(client.post("/login", data=data).status_code)
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    elsewhere = console.app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.2.0.2"
    login(elsewhere, "supervisor")  # others are not locked out


# -- sessions end -------------------------------------------------------------------------
def _logged_in(console: Console, role: str) -> FlaskClient:
    client = console.app.test_client()
    client.environ_base["HTTP_X_CSRFTOKEN"] = login(client, role)
    assert client.get("/api/callbacks").status_code == 200
    return client


@pytest.mark.parametrize("key", ["seen_at", "login_at"])
def test_an_idle_or_old_session_is_over(console: Console, key: str) -> None:
    client = _logged_in(console, "supervisor")
    with client.session_transaction() as session:
        session[key] = time.time() - 13 * 3600  # past both the idle and the absolute limits
    assert client.get("/api/agents").status_code == 401
    assert client.get("/wallboard").status_code == 302  # the page sends to the login


def test_a_new_password_ends_the_user_s_sessions(console: Console) -> None:
    users = console.controller.users
    users.add("changer", PASSWORD, "supervisor", agent="boss")
    client = console.app.test_client()
    data = {**_form(client), "username": "changer", "password": PASSWORD}
    assert client.post("/login", data=data).status_code == 302
    assert client.get("/api/agents").status_code == 200
    users.set_password("changer", "a brand new passphrase")
    assert client.get("/api/agents").status_code == 401


# -- tokens -------------------------------------------------------------------------------
def test_a_token_is_refused_from_its_expiry_and_within_its_role(console: Console) -> None:
    users = console.controller.users
    token = users.create_token("short-lived", "supervisor", time.time() + 3600)
    client = console.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    assert client.get("/api/agents").status_code == 200
    assert client.get("/api/admin/users").status_code == 403  # its role is its scope
    with console.controller.storage.sessions.begin() as session:
        session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.name == "short-lived")
            .values(expires_at=time.time() - 1)
        )
    assert client.get("/api/agents").status_code == 401
    [listed] = [t for t in users.tokens() if t.name == "short-lived"]
    assert listed.expired(time.time())
    with pytest.raises(UserError):
        users.create_token("already-gone", "agent", time.time() - 5)


# -- passwords ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "said"),
    [
        ("short-one", "at least 12 characters"),
        ("aaaaaaaaaaaaaaaa", "too few different"),
        ("password1234", "guessing list"),
        ("my-name-is-walter", "user name"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, said: str) -> None:
    problem = password_problem(password, "walter")
    assert problem is not None and said in problem


def test_the_console_refuses_a_weak_user_password(console: Console) -> None:
    with pytest.raises(UserError, match="at least 12"):
        console.controller.users.add("weakling", "too-short", "supervisor")


# -- every playback audited -----------------------------------------------------------------
def test_a_ranged_playback_from_any_offset_is_audited_once(console: Console) -> None:
    root = console.controller.recordings.host_root
    (root / "range").mkdir(parents=True, exist_ok=True)
    (root / "range/one.wav").write_bytes(b"RIFF" + bytes(4000))
    with console.controller.storage.sessions.begin() as session:
        row = RecordingRow(call_id="ranged", path="range/one.wav", started_at=1e9, ended_at=1e9)
        session.add(row)
        session.flush()
        recording = row.id
    client = _logged_in(console, "supervisor")
    for ranged in ("bytes=1-", "bytes=2000-", "bytes=0-", None):
        headers = {"Range": ranged} if ranged else {}
        assert client.get(f"/api/recordings/{recording}/audio", headers=headers).status_code in (
            200,
            206,
        )
    rows = [
        e
        for e in console.controller.users.audit_entries(1000)
        if e.target == f"recording:{recording}"
    ]
    assert [(e.actor, e.action) for e in rows] == [(USERNAMES["supervisor"], "recording.played")]


# -- no state changed by a GET ---------------------------------------------------------------
def test_reading_the_preview_changes_nothing(console: Console) -> None:
    client = _logged_in(console, "agent")
    before = console.run(_state(console))
    shown = client.get(f"/api/outbound/preview/{AGENT}")
    assert shown.status_code == 404 and "holds no lead" in shown.get_json()["message"]
    assert console.run(_state(console)) == before
    taken = client.post(f"/api/outbound/preview/{AGENT}", json={})
    assert taken.status_code in (404, 409)  # no preview campaign here: nothing to take
    assert client.post("/api/outbound/preview/agent2", json={}).status_code == 403


async def _state(console: Console) -> str:
    return console.controller.agents.status(AGENT).state.value


# -- callbacks: whose they are ----------------------------------------------------------------
def _later() -> str:
    return (datetime.now(UTC) + timedelta(hours=2)).isoformat()


def test_an_agent_sees_their_own_and_their_queues_callbacks_only(console: Console) -> None:
    callbacks = console.controller.callbacks

    async def book(queue: str, booked_by: str) -> int:
        at = time.time() + 7200
        booked = await callbacks.book(
            queue,
            "+12125550199",
            at,
            time.time(),
            booked_by=booked_by,
            origin=("agent", booked_by),
            where="api",
        )
        return booked.id

    theirs = console.run(book("support", AGENT))
    their_queue = console.run(book("support", "agent2"))
    console.load_site(_with_sales())
    elsewhere = console.run(book("sales", "agent2"))
    agent = _logged_in(console, "agent")
    seen = {c["id"] for c in agent.get("/api/callbacks").get_json()["callbacks"]}
    assert {theirs, their_queue} <= seen and elsewhere not in seen
    supervisor = _logged_in(console, "supervisor")
    everything = {c["id"] for c in supervisor.get("/api/callbacks").get_json()["callbacks"]}
    assert {theirs, their_queue, elsewhere} <= everything


def _with_sales() -> dict[str, object]:
    from tests.adapter.console_support import SITE

    queues = [*SITE["queues"], {"name": "sales", "requirements": {"sales": 1}}]  # type: ignore[misc]
    return {**SITE, "queues": queues}


def test_an_agent_may_not_copy_another_agent_s_call_into_a_booking(console: Console) -> None:
    from callcenter.core.calls.live import LiveCall

    async def someone_elses_call() -> None:
        call = LiveCall("c0ffee01", "1.1", "PJSIP/trunk-1", "+12125550123", "", "100", time.time())
        call.agent = "agent2"
        call.data["account"] = "secret-account"
        console.controller.calls.add(call)

    console.run(someone_elses_call())
    agent = _logged_in(console, "agent")
    booking = {"queue": "support", "number": "+12125550177", "at": _later(), "call_id": "c0ffee01"}
    refused = agent.post("/api/callbacks", json=booking)
    assert refused.status_code == 403 and "not yours" in refused.get_json()["message"]


def test_the_generated_certificate_key_is_private(tmp_path: Path) -> None:
    files = ensure_certificate(tmp_path / "tls")
    assert files.key.stat().st_mode & 0o777 == 0o600
    again = ensure_certificate(tmp_path / "tls")
    assert again.cert.read_bytes() == files.cert.read_bytes()  # kept while fresh
