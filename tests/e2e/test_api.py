"""The controller's JSON API: roles, tokens, CSRF, agent state changes."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.e2e.conftest import CallCenter
from tests.e2e.sites import one_queue_site

pytestmark = pytest.mark.e2e


def _client(callcenter: CallCenter) -> FlaskClient:
    web = callcenter.controller.web
    assert web is not None
    return web.app.test_client()  # type: ignore[attr-defined]


def _login(client: FlaskClient, username: str, password: str) -> str:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, page
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token.group(1)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    home = client.get("/desktop").get_data(as_text=True)
    meta = re.search(r'name="csrf-token" content="([^"]+)"', home)
    assert meta
    return meta.group(1)


def test_api_refuses_the_wrong_role_and_honours_tokens(callcenter: CallCenter) -> None:
    callcenter.load_site(one_queue_site("agent1", "agent2"))
    users = callcenter.controller.users
    supervisor = users.create_token("tv", "supervisor")
    agent_token = users.create_token("crm-agent", "agent")
    client = _client(callcenter)

    assert client.get("/api/agents").status_code == 401
    assert client.get("/api/agents", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert (
        client.get("/api/agents", headers={"Authorization": f"Bearer {agent_token}"}).status_code
        == 403
    )
    listed = client.get("/api/agents", headers={"Authorization": f"Bearer {supervisor}"})
    assert listed.status_code == 200
    assert {a["agent"] for a in listed.get_json()["agents"]} == {"agent1", "agent2"}
    assert client.get("/api/health").get_json()["ami"] is True
    assert client.get("/api/openapi.json").status_code == 200

    changed = client.post(
        "/api/agents/agent1/state",
        json={"action": "login"},
        headers={"Authorization": f"Bearer {supervisor}"},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["state"] == "ready"
    again = client.post(
        "/api/agents/agent1/state",
        json={"action": "login"},
        headers={"Authorization": f"Bearer {supervisor}"},
    )
    assert again.status_code == 409
    bad = client.post(
        "/api/agents/agent1/state",
        json={"action": "pause", "reason": "x;y"},
        headers={"Authorization": f"Bearer {supervisor}"},
    )
    assert bad.status_code in (400, 422)


def test_agents_act_only_for_themselves_and_csrf_is_enforced(callcenter: CallCenter) -> None:
    callcenter.load_site(one_queue_site("agent1", "agent2"))
    callcenter.controller.users.add("alice", "correct horse battery", "agent", agent="agent1")
    client = _client(callcenter)
    csrf = _login(client, "alice", "correct horse battery")

    no_csrf = client.post("/api/agents/agent1/state", json={"action": "login"})
    assert no_csrf.status_code == 400
    mine = client.post(
        "/api/agents/agent1/state", json={"action": "login"}, headers={"X-CSRFToken": csrf}
    )
    assert mine.status_code == 200, mine.get_json()
    theirs = client.post(
        "/api/agents/agent2/state", json={"action": "login"}, headers={"X-CSRFToken": csrf}
    )
    assert theirs.status_code == 403
    assert client.get("/api/agents").status_code == 403
    assert client.get("/api/agents/agent1").status_code == 200
    assert client.get("/api/agents/agent2").status_code == 403
    wrong = _client(callcenter).post("/login", data={"username": "alice", "password": "nope"})
    assert wrong.status_code in (400, 401)
