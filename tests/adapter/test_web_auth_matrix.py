"""Every route of the console, walked from the app's url_map, against every kind of caller.

What a route needs is read from its ``@requires`` (recorded on the view), so
a route added later is checked by these tests without editing them.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from callcenter.adapters.web.app import create_app
from callcenter.adapters.web.auth import RANK, access_of
from callcenter.core.records_backlog import RecordsBacklog
from callcenter.simulate.console import Console
from tests.adapter.console_support import (
    CHANGES,
    PUBLIC,
    ROLES,
    Answer,
    Route,
    call,
    login,
    protected,
    routes,
)

CSRF_REFUSAL = "CSRF token missing or invalid"


def _report(failures: list[str]) -> None:
    assert not failures, "\n".join(failures)


def test_every_route_says_who_may_use_it(console: Console) -> None:
    app = console.app
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    unguarded = sorted(e for e in endpoints - PUBLIC if access_of(app.view_functions[e]) is None)
    assert not unguarded, f"routes with no @requires (add one, or list them in PUBLIC): {unguarded}"
    assert endpoints >= PUBLIC, f"PUBLIC names routes that are gone: {PUBLIC - endpoints}"
    assert len(protected(console)) >= 30  # the walk really sees the console's routes


def test_anonymous_callers_are_refused_before_their_request_is_read(console: Console) -> None:
    client = console.app.test_client()
    failures = []
    for route in protected(console):
        assert route.access is not None
        answer = call(client, route)
        if route.access.page:
            if answer.status != 302 or not answer.location.startswith("/login?next="):
                failures.append(f"{route}: {answer.status} to {answer.location!r}, wanted login")
        elif answer.status != 401:
            failures.append(f"{route}: {answer.status} {answer.body[:120]}, wanted 401")
    _report(failures)


def _expect(role: str, route: Route, answer: Answer) -> str | None:
    assert route.access is not None
    status, body = answer.status, answer.body
    if RANK[role] < RANK[route.access.role]:
        if status != 403:
            return f"{route}: {status} {body[:120]}, wanted 403"
        if route.access.page and "not for your role" not in body:
            return f"{route}: a page refused with {body[:120]}, wanted the HTML refusal page"
        return None
    if status in (401, 403) or status >= 500 or CSRF_REFUSAL in body:
        return f"{route}: {status} {body[:160]} for {role}, who may use it"
    return None


def test_each_role_is_refused_below_its_rank_in_a_session(console: Console) -> None:
    failures = []
    for role in ROLES:
        client = console.app.test_client()
        csrf = login(client, role)
        for route in protected(console):
            answer = call(client, route, {"X-CSRFToken": csrf})
            failures.append(_expect(role, route, answer) or "")
    _report([f for f in failures if f])


def test_each_role_is_refused_below_its_rank_with_a_token(console: Console) -> None:
    users = console.controller.users
    failures = []
    for role in ROLES:
        token = users.create_token(f"matrix-{role}", role)
        client = console.app.test_client()
        for route in protected(console):
            assert route.access is not None
            answer = call(client, route, {"Authorization": f"Bearer {token}"})
            if RANK[role] >= RANK[route.access.role] and answer.status == 403:
                continue  # a token acts for no agent: per-agent routes refuse it
            failures.append(_expect(role, route, answer) or "")
    _report([f for f in failures if f])


def test_csrf_guards_every_change_made_with_a_session(console: Console) -> None:
    client = console.app.test_client()
    csrf = login(client, "admin")
    changes = [r for r in routes(console) if r.method in CHANGES and r.endpoint != "pages.logout"]
    assert changes
    failures = []
    for route in changes:
        for headers in ({}, {"X-CSRFToken": "forged"}, {"X-CSRFToken": csrf + "x"}):
            answer = call(client, route, headers)
            if answer.status != 400 or CSRF_REFUSAL not in answer.body:
                failures.append(f"{route} with {headers}: {answer.status} {answer.body[:120]}")
        if CSRF_REFUSAL in call(client, route, {"X-CSRFToken": csrf}).body:
            failures.append(f"{route}: the page's own token was refused")
    _report(failures)


def test_logging_in_and_out_need_the_forms_token(console: Console) -> None:
    stranger = console.app.test_client()
    forged = stranger.post("/login", data={"username": "admin-user", "password": "x" * 20})
    assert forged.status_code == 400
    assert stranger.get("/api/wallboard").status_code == 401

    client = console.app.test_client()
    csrf = login(client, "supervisor")
    assert client.post("/logout").status_code == 400  # a cross-site form cannot log you out
    assert client.get("/api/wallboard").status_code == 200
    assert client.post("/logout", headers={"X-CSRFToken": csrf}).status_code == 302
    assert client.get("/api/wallboard").status_code == 401


def test_tokens_need_no_csrf_and_stop_working_when_revoked(console: Console) -> None:
    users = console.controller.users
    token = users.create_token("tv-wall", "admin")
    client = console.app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/wallboard", headers=bearer).status_code == 200
    changed = client.put("/api/recordings/retention", json={"retention_days": 90}, headers=bearer)
    assert changed.status_code == 200, changed.get_json()

    assert users.revoke_token("tv-wall")
    assert not users.revoke_token("tv-wall")
    failures = []
    for route in protected(console):
        answer = call(client, route, bearer)
        if answer.status != 401:
            failures.append(f"{route}: {answer.status} {answer.body[:120]} with a revoked token")
    _report(failures)


def test_bad_tokens_are_refused(console: Console) -> None:
    token = console.controller.users.create_token("crm", "supervisor")
    stored = hashlib.sha256(token.encode()).hexdigest()  # what a database leak would show
    client = console.app.test_client()
    for value in ("", "nope", stored, token + "x", token[:-1], f"{token} {token}"):
        answer = client.get("/api/wallboard", headers={"Authorization": f"Bearer {value}"})
        assert answer.status_code == 401, (value, answer.status_code)
    assert client.get("/api/wallboard", headers={"Authorization": token}).status_code == 401


def test_health_is_public_and_says_when_the_call_records_are_behind(console: Console) -> None:
    answer = console.app.test_client().get("/api/health")
    assert answer.status_code == 200
    health = answer.get_json()
    assert health["ami"] is False and isinstance(health["calls"], int)
    assert health["records"]["behind"] is False and health["records"]["last_error"] == ""

    behind = RecordsBacklog(
        waiting=4200,
        behind_since=1_760_000_000.0,
        last_error="database unreachable (OperationalError: connection refused)",
        journal=200,
        dropped=3,
    )
    app = create_app(replace(console.services, records=lambda: behind), "another-secret")
    records = app.test_client().get("/api/health").get_json()["records"]
    assert records == {
        "behind": True,
        "waiting": 4200,
        "since": 1_760_000_000.0,
        "last_error": "database unreachable (OperationalError: connection refused)",
        "journal": 200,
        "dropped": 3,
    }
