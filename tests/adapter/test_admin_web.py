"""The admin area over HTTP (Flask's test client, a real database, no Asterisk):
roles, CSRF, refusals that name the problem and change nothing, the audit log,
and a reload after every accepted change."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callcenter.adapters.db.migrate import upgrade
from callcenter.services.console.admin import AdminError
from callcenter.services.site import AgentEntry
from tests.e2e.sites import menu_flow, queue_node
from tests.support.console import ConsoleRig, console, login

ROUTES = [
    ("GET", "/api/admin/agents"),
    ("POST", "/api/admin/agents"),
    ("PUT", "/api/admin/agents/alice"),
    ("PUT", "/api/admin/agents/alice/active"),
    ("POST", "/api/admin/agents/alice/password"),
    ("GET", "/api/admin/skills"),
    ("PUT", "/api/admin/skills/support"),
    ("GET", "/api/admin/queues"),
    ("POST", "/api/admin/queues"),
    ("PUT", "/api/admin/queues/support"),
    ("GET", "/api/admin/schedules"),
    ("PUT", "/api/admin/schedules/office"),
    ("GET", "/api/admin/schedules/office/preview"),
    ("GET", "/api/admin/flows"),
    ("PUT", "/api/admin/flows/main"),
    ("GET", "/api/admin/users"),
    ("POST", "/api/admin/users"),
    ("POST", "/api/admin/users/bob/password"),
    ("PUT", "/api/admin/users/bob/active"),
]
PAGE_IDS = (
    "admin-agents", "admin-agents-table", "admin-agent-form", "admin-skills", "admin-queues",
    "admin-queue-json", "admin-flows", "admin-flow-json", "admin-schedules",
    "admin-schedule-json", "admin-users", "admin-user-form",
)  # fmt: skip
ALICE = {"username": "alice", "name": "Alice", "extension": "1001", "skills": {"support": 3}}


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[ConsoleRig]:
    url = f"sqlite:///{tmp_path / 'callcenter.db'}"
    upgrade(url)
    with console(url) as found:
        yield found


class Api:
    def __init__(self, rig: ConsoleRig) -> None:
        self.client = rig.client()
        self.headers = rig.token("admin")

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = self.client.open(path, method=method, json=body, headers=self.headers)
        return response.status_code, response.get_json()


@pytest.fixture
def api(rig: ConsoleRig) -> Api:
    return Api(rig)


def staffed(api: Api) -> None:
    assert api("PUT", "/api/admin/skills/support", {"description": "Support"})[0] == 200
    assert api("POST", "/api/admin/agents", ALICE)[0] == 201
    assert (
        api("POST", "/api/admin/queues", {"name": "support", "requirements": {"support": 1}})[0]
        == 201
    )


def audit(rig: ConsoleRig) -> list[tuple[str, str, dict[str, Any]]]:
    return [(e.action, e.target, e.detail) for e in reversed(rig.users.audit_entries())]


# -- who may ---------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_admin_route_refuses_strangers_agents_and_supervisors(
    rig: ConsoleRig, method: str, path: str
) -> None:
    client = rig.client()
    assert client.open(path, method=method, json={}).status_code == 401
    for role in ("agent", "supervisor"):
        response = client.open(path, method=method, json={}, headers=rig.token(role))
        assert response.status_code == 403, (role, response.get_json())
    assert rig.reloads == 0


def test_the_page_is_for_admins_and_posts_need_the_csrf_token(rig: ConsoleRig) -> None:
    rig.users.add("boss", "a long admin password", "admin")
    rig.users.add("sue", "a long supervisor password", "supervisor")
    anonymous = rig.client().get("/admin")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    supervisor = rig.client()
    login(supervisor, "sue", "a long supervisor password", page="/reports")
    assert supervisor.get("/admin").status_code == 403

    admin = rig.client()
    csrf = login(admin, "boss", "a long admin password")
    html = admin.get("/admin").get_data(as_text=True)
    for element in PAGE_IDS:
        assert f'id="{element}"' in html, element
    body = {"description": "Support"}
    assert admin.put("/api/admin/skills/support", json=body).status_code == 400  # no CSRF token
    saved = admin.put("/api/admin/skills/support", json=body, headers={"X-CSRFToken": csrf})
    assert saved.status_code == 200, saved.get_json()
    assert audit(rig)[-1][:2] == ("admin.skill.saved", "skill:support")
    assert rig.users.audit_entries(1)[0].actor == "boss"


# -- agents ----------------------------------------------------------------------------
def test_an_agent_is_created_audited_and_the_controller_reloaded(rig: ConsoleRig, api: Api) -> None:
    api("PUT", "/api/admin/skills/support", {})
    reloads = rig.reloads
    status, body = api("POST", "/api/admin/agents", {**ALICE, "password": "alice-sip-secret"})
    assert status == 201, body
    assert body["applied"] is True and body["password"] == "alice-sip-secret"
    assert body["agent"] == {**ALICE, "active": True, "static_contact": ""}
    assert rig.reloads == reloads + 1
    action, target, detail = audit(rig)[-1]
    assert (action, target, detail["password_set"]) == ("admin.agent.created", "agent:alice", True)
    assert "alice-sip-secret" not in str(audit(rig))  # never a password in the log

    status, body = api("POST", "/api/admin/agents/alice/password")
    assert status == 200 and len(body["password"]) >= 10 and body["password"] != "alice-sip-secret"
    status, body = api("PUT", "/api/admin/agents/alice", {**ALICE, "name": "Alice Smith"})
    assert status == 200 and body["password"] == "" and body["agent"]["name"] == "Alice Smith"
    status, body = api("PUT", "/api/admin/agents/alice/active", {"active": False})
    assert status == 200 and body["agent"]["active"] is False
    assert [a for a, _, _ in audit(rig)][-3:] == [
        "admin.agent.password-reset", "admin.agent.updated", "admin.agent.disabled",
    ]  # fmt: skip


def test_bad_agents_are_refused_with_the_reason_and_nothing_is_saved(
    rig: ConsoleRig, api: Api
) -> None:
    staffed(api)
    before, reloads, logged = api("GET", "/api/admin/agents")[1], rig.reloads, len(audit(rig))
    cases: list[tuple[str, str, dict[str, Any] | None, int, str]] = [
        ("POST", "/api/admin/agents", ALICE, 409, "agent 'alice' exists"),
        ("POST", "/api/admin/agents", {**ALICE, "username": "bob"}, 409,
         "extension: 1001 is taken by agent 'alice'"),
        ("POST", "/api/admin/agents", {**ALICE, "username": "bob", "extension": "1002",
                                       "skills": {"billing": 2}}, 422,
         "unknown skill 'billing' (known: support; add it under Skills first)"),
        ("POST", "/api/admin/agents", {**ALICE, "username": "bob", "skills": {"support": 9}}, 422,
         "must be 1..5, got 9"),
        ("POST", "/api/admin/agents", {**ALICE, "username": "bob", "password": "abc"}, 422,
         "at least 12 characters"),
        ("PUT", "/api/admin/agents/alice", {**ALICE, "username": "alicia"}, 422,
         "'alicia' is not 'alice'; renaming is not supported"),
        ("PUT", "/api/admin/agents/nobody", {**ALICE, "username": "nobody", "extension": "1009"},
         404, "no agent 'nobody'"),
        ("PUT", "/api/admin/agents/Bad%20Name/active", {"active": True}, 422, "not a valid name"),
        ("POST", "/api/admin/agents/ghost/password", None, 404, "no agent 'ghost'"),
    ]  # fmt: skip
    for method, path, sent, status, said in cases:
        got, body = api(method, path, sent)
        assert got == status, (path, sent, body)
        assert said in str(body), body
    assert api("GET", "/api/admin/agents")[1] == before
    assert rig.reloads == reloads and len(audit(rig)) == logged


def test_an_update_that_fails_keeps_the_old_agent_whole(rig: ConsoleRig, api: Api) -> None:
    staffed(api)
    entry = AgentEntry.model_validate({**ALICE, "name": "Changed", "skills": {"ghost": 1}})
    with pytest.raises(AdminError):
        rig.admin.save_agent(entry, create=False)
    agents = api("GET", "/api/admin/agents")[1]["agents"]
    assert agents[0]["name"] == "Alice" and agents[0]["skills"] == {"support": 3}


# -- queues, flows, schedules ------------------------------------------------------------
def test_a_bad_queue_is_refused_and_the_stored_one_stays(rig: ConsoleRig, api: Api) -> None:
    staffed(api)
    before = api("GET", "/api/admin/queues")[1]
    reloads = rig.reloads
    support = {"name": "support", "requirements": {"support": 2}}
    cases: list[tuple[str, str, dict[str, Any] | None, int, str]] = [
        ("PUT", "/api/admin/queues/support",
         {**support, "relax": [{"after": 30, "requirements": {"support": 4}}]}, 422,
         "relax steps may only loosen"),
        ("PUT", "/api/admin/queues/support", {**support, "requirements": {"magic": 1}}, 422,
         "queue support: unknown skill 'magic'"),
        ("PUT", "/api/admin/queues/support",
         {**support, "max_wait": 60, "on_max_wait": {"action": "queue", "target": "nowhere"}},
         422, "overflows to unknown queue 'nowhere'"),
        ("PUT", "/api/admin/queues/support", {**support, "schedule": "office"}, 422,
         "unknown schedule 'office'"),
        ("PUT", "/api/admin/queues/support", {**support, "weight": -1}, 422, "weight"),
        ("PUT", "/api/admin/queues/support", {**support, "name": "other"}, 422,
         "renaming is not supported"),
        ("POST", "/api/admin/queues", support, 409, "queue 'support' exists"),
        ("PUT", "/api/admin/queues/sales", {"name": "sales"}, 404, "no queue 'sales'"),
    ]  # fmt: skip
    for method, path, sent, status, said in cases:
        got, body = api(method, path, sent)
        assert got == status, (sent, body)
        assert said in str(body), body
    assert api("GET", "/api/admin/queues")[1] == before
    assert rig.reloads == reloads

    better = {**support, "relax": [{"after": 30, "requirements": {"support": 1}}], "wrapup": 5,
              "service_level_target": 30, "weight": 2, "max_wait": 120}  # fmt: skip
    status, body = api("PUT", "/api/admin/queues/support", better)
    assert status == 200, body
    assert body["queue"]["relax"] == [{"after": 30.0, "requirements": {"support": 1}}]
    assert api("GET", "/api/admin/queues")[1]["queues"][0]["service_level_target"] == 30
    assert audit(rig)[-1][:2] == ("admin.queue.updated", "queue:support")
    assert rig.reloads == reloads + 1


def test_flows_are_checked_against_queues_and_numbers(rig: ConsoleRig, api: Api) -> None:
    staffed(api)
    good = menu_flow({"1": "support"}, {"support": queue_node("support", skills={"support": 1})})
    status, body = api("PUT", "/api/admin/flows/main", {"document": good, "numbers": ["100"]})
    assert status == 200, body
    ghost = menu_flow({"1": "q"}, {"q": queue_node("ghost")})
    status, body = api("PUT", "/api/admin/flows/other", {"document": ghost, "numbers": ["100"]})
    assert status == 422
    assert "flows.other: node 'q', field 'queue': no queue named 'ghost'" in body["problems"]
    assert "flow other: number 100 is already flow main's" in body["problems"]
    status, body = api("PUT", "/api/admin/flows/main", {"document": good, "numbers": ["1;2"]})
    assert status == 422 and "bad number '1;2'" in str(body["detail"])
    flows = api("GET", "/api/admin/flows")[1]["flows"]
    assert [(f["name"], f["numbers"]) for f in flows] == [("main", ["100"])]


def test_schedules_report_each_problem_on_its_own_line(rig: ConsoleRig, api: Api) -> None:
    bad = {"timezone": "Mars/Olympus", "weekly": {"mon": ["25:00-18:00"]}}
    status, body = api("PUT", "/api/admin/schedules/office", {"document": bad})
    assert status == 422
    assert body["problems"] == [
        "schedules.office: timezone: unknown time zone 'Mars/Olympus' (use an IANA name)",
        "schedules.office: weekly.mon.0: bad window '25:00-18:00': no such time of day",
    ]
    good = {"timezone": "Europe/Paris", "weekly": {"mon": ["08:00-18:00"]}, "country": "FR",
            "closed": ["2026-12-24"], "special": {"2026-12-31": ["08:00-12:00"]}}  # fmt: skip
    status, body = api("PUT", "/api/admin/schedules/office", {"document": good})
    assert status == 200, body
    assert body["schedule"] == {"name": "office", "document": good}
    assert api("GET", "/api/admin/schedules")[1]["schedules"][0]["name"] == "office"


def test_a_schedule_preview_shows_the_days_ahead(rig: ConsoleRig, api: Api) -> None:
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    office = {"timezone": "Europe/Paris", "country": "FR", "closed": ["2026-12-24"],
              "weekly": {d: ["08:00-18:00"] for d in weekdays}}  # fmt: skip
    assert api("PUT", "/api/admin/schedules/office", {"document": office})[0] == 200
    rig.clock_at = 1798016400.0  # 2026-12-23 09:00 UTC, 10:00 in Paris
    status, body = api("GET", "/api/admin/schedules/office/preview?days=3")
    assert status == 200, body
    assert body["open_now"] is True and body["next_change"] == "2026-12-23T18:00+01:00"
    assert [(d["day"], d["windows"], d["holiday"]) for d in body["days"]] == [
        ("2026-12-23", ["08:00-18:00"], ""),
        ("2026-12-24", [], "closed"),
        ("2026-12-25", [], "Christmas Day"),
    ]
    assert api("GET", "/api/admin/schedules/nope/preview")[0] == 404
    assert api("GET", "/api/admin/schedules/office/preview?days=0")[0] == 422


def test_a_failed_reload_is_reported_and_the_change_kept(rig: ConsoleRig, api: Api) -> None:
    rig.reload_error = ConnectionError("AMI is not connected")
    status, body = api("PUT", "/api/admin/skills/support", {"description": "x"})
    assert status == 200
    assert body["applied"] is False and "AMI is not connected" in body["warning"]
    assert api("GET", "/api/admin/skills")[1]["skills"][0]["name"] == "support"


# -- console users -----------------------------------------------------------------------
def test_users_are_added_reset_and_disabled_but_never_the_last_admin(
    rig: ConsoleRig, api: Api
) -> None:
    staffed(api)
    status, body = api("POST", "/api/admin/users", {"username": "boss", "role": "admin"})
    assert status == 201 and len(body["password"]) >= 10
    al = {"username": "al", "role": "agent", "agent": "alice", "password": "al's console pw"}
    status, body = api("POST", "/api/admin/users", al)
    assert status == 201 and body["user"] == {"username": "al", "role": "agent", "agent": "alice",
                                              "active": True}  # fmt: skip
    for sent, said in [
        ({"username": "al", "role": "agent", "agent": "alice"}, "user 'al' exists"),
        ({"username": "x", "role": "agent", "agent": "nobody"}, "no active agent 'nobody'"),
        ({"username": "y", "role": "agent"}, "needs the agent it works as"),
        ({"username": "z", "role": "supervisor", "password": "short"}, "at least 12 characters"),
        ({"username": "w", "role": "root"}, "role"),
    ]:
        status, body = api("POST", "/api/admin/users", sent)
        assert status in (409, 422) and said in str(body), body

    status, body = api("POST", "/api/admin/users/al/password", {"password": "a brand new password"})
    assert status == 200 and body["password"] == "a brand new password"
    assert rig.users.authenticate("al", "a brand new password") is not None
    assert api("PUT", "/api/admin/users/al/active", {"active": False})[1]["user"]["active"] is False
    assert rig.users.authenticate("al", "a brand new password") is None
    status, body = api("PUT", "/api/admin/users/boss/active", {"active": False})
    assert status == 409 and "last active admin" in body["message"]
    assert api("POST", "/api/admin/users/ghost/password", {})[0] == 404
    actions = [a for a, _, _ in audit(rig)]
    assert actions[-4:] == ["admin.user.created", "admin.user.created",
                            "admin.user.password-reset", "admin.user.disabled"]  # fmt: skip
    assert "a brand new password" not in str(audit(rig))


def test_the_openapi_document_describes_every_admin_route(rig: ConsoleRig) -> None:
    spec = rig.client().get("/api/openapi.json").get_json()
    documented = {
        (method.upper(), re.sub(r"\{[^}]+\}", "[^/]+", path))
        for path, operations in spec["paths"].items()
        if path.startswith("/api/admin/")
        for method in operations
    }
    assert len(documented) == len(ROUTES)
    for method, path in ROUTES:
        assert any(m == method and re.fullmatch(p, path) for m, p in documented), path
    body = spec["paths"]["/api/admin/agents"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]
