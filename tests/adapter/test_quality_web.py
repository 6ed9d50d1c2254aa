"""QA scoring over HTTP on a real controller and database (no Asterisk): admins keep the
forms, supervisors draw calls and score recordings, agents see and acknowledge only
their own evaluations; the reports' QA figures as JSON and CSV."""

from __future__ import annotations

import csv
import io
import wave
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from callcenter.adapters.db.models import CallRow, RecordingRow
from callcenter.simulate.console import Console
from tests.adapter.console_support import AGENT, PASSWORD, login
from tests.support.console import login as login_as

FORM: dict[str, Any] = {
    "title": "Support calls",
    "sections": [
        {"title": "Opening", "questions": [
            {"key": "greeting", "text": "Greeted?", "weight": 1},
            {"key": "verified", "text": "Verified identity?", "weight": 2, "critical": True},
        ]},
        {"title": "Handling", "questions": [
            {"key": "tone", "text": "Tone", "kind": "scale", "scale": 4, "weight": 2,
             "allow_na": True},
        ]},
    ],
}  # fmt: skip
DAY = datetime(2026, 12, 1, 10, 0)


def _client(console: Console, role: str) -> FlaskClient:
    token = console.controller.users.create_token(f"qa-{role}", role)
    client = console.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture(scope="module")
def admin(console: Console) -> FlaskClient:
    return _client(console, "admin")


@pytest.fixture(scope="module")
def supervisor(console: Console) -> FlaskClient:
    return _client(console, "supervisor")


@pytest.fixture(scope="module")
def agent(console: Console) -> FlaskClient:
    client = console.app.test_client()
    client.environ_base["HTTP_X_CSRFTOKEN"] = login(client, "agent")
    return client


@pytest.fixture(scope="module")
def other_agent(console: Console) -> FlaskClient:
    console.controller.users.add("agent2-user", PASSWORD, "agent", agent="agent2")
    client = console.app.test_client()
    client.environ_base["HTTP_X_CSRFTOKEN"] = login_as(client, "agent2-user", PASSWORD, "/desktop")
    return client


@pytest.fixture(scope="module")
def calls(console: Console) -> dict[str, int]:
    """Recorded calls of 1 December: two of agent1, one of agent2, one never answered."""
    controller = console.controller
    at = controller.reports.zone.instant(DAY)
    root = controller.recordings.host_root
    made = {}
    with controller.storage.sessions.begin() as session:
        rows = [
            ("a1", AGENT, True),
            ("a2", AGENT, True),
            ("b1", "agent2", True),
            ("x", AGENT, False),
        ]
        for n, (name, agent, answered) in enumerate(rows):
            start = at + 600 * n
            answered_at = start if answered else None
            session.add(
                CallRow(id=f"qa{name}", unique_id=f"qa.{n}", queue="support", agent=agent,
                        entered_at=start - 10, answered_at=answered_at)
            )  # fmt: skip
            row = RecordingRow(
                call_id=f"qa{name}", agent=agent, queue="support", caller_number="+12125550100",
                path=f"qa/{name}.wav", started_at=start, ended_at=start + 30,
            )  # fmt: skip
            session.add(row)
            session.flush()
            made[name] = row.id
    (root / "qa").mkdir(parents=True, exist_ok=True)
    with wave.open(str(root / "qa" / "a1.wav"), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x00\x01" * 800)
    return made


ALL_GOOD = {"greeting": "yes", "verified": "yes", "tone": 4}


def _form(admin: FlaskClient) -> dict[str, Any]:
    saved = admin.put("/api/qa/forms/support", json=FORM)
    assert saved.status_code == 200, saved.get_json()
    return dict(saved.get_json())


def test_only_admins_keep_the_forms_and_a_bad_one_comes_back_with_its_problems(
    console: Console, agent: FlaskClient, admin: FlaskClient, supervisor: FlaskClient
) -> None:
    assert supervisor.put("/api/qa/forms/support", json=FORM).status_code == 403
    assert agent.get("/api/qa/forms").status_code == 403
    bad = {**FORM, "sections": [{"title": "x", "questions": [
        {"key": "a", "text": "A", "kind": "scale", "scale": 3, "critical": True},
        {"key": "a", "text": "B"}]}]}  # fmt: skip
    refused = admin.put("/api/qa/forms/support", json=bad)
    assert refused.status_code == 422
    problems = refused.get_json()["problems"]
    assert any("critical question is answered yes or no" in p for p in problems), problems
    assert any("used twice" in p for p in problems), problems
    assert admin.put("/api/qa/forms/Bad%20Name", json=FORM).status_code == 422
    form = _form(admin)
    assert (form["version"], form["used"], form["definition"]["title"]) == (
        1,
        False,
        "Support calls",
    )
    listed = supervisor.get("/api/qa/forms").get_json()["forms"]
    assert [(f["name"], f["version"]) for f in listed] == [("support", 1)]


def test_a_supervisor_scores_a_drawn_call_and_the_agent_sees_and_acknowledges_it(
    console: Console,
    agent: FlaskClient,
    other_agent: FlaskClient,
    admin: FlaskClient,
    supervisor: FlaskClient,
    calls: dict[str, int],
) -> None:
    form = _form(admin)
    query = "from=2026-12-01&to=2026-12-07&per_agent=5"
    drawn = supervisor.get(f"/api/qa/sample?{query}").get_json()
    by_agent = {a["agent"]: [c["recording_id"] for c in a["calls"]] for a in drawn["agents"]}
    assert sorted(by_agent[AGENT]) == [calls["a1"], calls["a2"]]  # never answered: not drawn
    assert by_agent["agent2"] == [calls["b1"]] and drawn["seed"] == "2026-12-01/2026-12-07"
    assert supervisor.get(f"/api/qa/sample?{query}").get_json() == drawn  # reproducible
    assert agent.get(f"/api/qa/sample?{query}").status_code == 403

    sheet = {"form_id": form["id"], "recording_id": calls["a1"], "answers": ALL_GOOD}
    assert agent.post("/api/qa/evaluations", json=sheet).status_code == 403
    partial = supervisor.post("/api/qa/evaluations", json={**sheet, "answers": {"greeting": "yes"}})
    assert partial.status_code == 422 and "verified: not answered" in partial.get_json()["problems"]
    unanswered = supervisor.post("/api/qa/evaluations", json={**sheet, "recording_id": calls["x"]})
    assert unanswered.status_code == 404
    answers = {"greeting": "no", "verified": "yes", "tone": 2}  # 0 + 2 + 1 of 5: 60 %
    made = supervisor.post("/api/qa/evaluations", json={**sheet, "answers": answers,
                                                          "comment": "Greet by name."})  # fmt: skip
    assert made.status_code == 201, made.get_json()
    mine = made.get_json()
    assert (mine["score"], mine["critical_failed"], mine["agent"], mine["queue"]) == (
        60.0, False, AGENT, "support",
    )  # fmt: skip
    assert [s["score"] for s in mine["sections"]] == [66.67, 50.0]
    again = supervisor.post("/api/qa/evaluations", json=sheet)
    assert again.status_code == 409 and again.get_json()["code"] == "evaluated"
    failed = supervisor.post("/api/qa/evaluations", json={
        "form_id": form["id"], "recording_id": calls["b1"],
        "answers": {**ALL_GOOD, "verified": "no"}}).get_json()  # fmt: skip
    assert (failed["score"], failed["critical_failed"]) == (0.0, True)
    assert failed["critical_questions_failed"] == ["verified"]

    # The form changes: a new version; the evaluation keeps the one it used.
    changed = admin.put("/api/qa/forms/support", json={**FORM, "title": "Support v2"}).get_json()
    assert (changed["version"], changed["id"]) == (2, changed["id"])
    assert changed["id"] != form["id"]
    stale = supervisor.post("/api/qa/evaluations", json={**sheet, "recording_id": calls["a2"]})
    assert stale.status_code == 409 and stale.get_json()["code"] == "retired"

    # The agent sees their own evaluation only, plays its call, acknowledges it once.
    listed = agent.get("/api/qa/evaluations").get_json()["evaluations"]
    assert [e["id"] for e in listed] == [mine["id"]]
    assert agent.get("/api/qa/evaluations?agent=agent2").get_json()["evaluations"] == listed
    assert agent.get(f"/api/qa/evaluations/{failed['id']}").status_code == 404
    detail = agent.get(f"/api/qa/evaluations/{mine['id']}").get_json()
    assert (detail["form"]["title"], detail["form_version"], detail["comment"]) == (
        "Support calls", 1, "Greet by name.",
    )  # fmt: skip
    played = agent.get(f"/api/qa/evaluations/{mine['id']}/audio")
    assert played.status_code == 200 and played.data[:4] == b"RIFF"
    audited = console.controller.users.audit_entries(1000)
    assert any(
        e.action == "recording.played" and e.actor == "agent-user"
        and e.target == f"recording:{calls['a1']}" for e in audited
    )  # fmt: skip
    assert other_agent.get(f"/api/qa/evaluations/{mine['id']}/audio").status_code == 404
    assert (
        other_agent.post(f"/api/qa/evaluations/{mine['id']}/acknowledge", json={}).status_code
        == 404
    )
    assert (
        supervisor.post(f"/api/qa/evaluations/{mine['id']}/acknowledge", json={}).status_code == 403
    )
    done = agent.post(f"/api/qa/evaluations/{mine['id']}/acknowledge", json={"comment": "Will do"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["agent_comment"] == "Will do" and done.get_json()["acknowledged_at"]
    twice = agent.post(f"/api/qa/evaluations/{mine['id']}/acknowledge", json={})
    assert twice.status_code == 409 and twice.get_json()["code"] == "acknowledged"

    # Scored calls leave the draw; what was drawn for the others stays.
    later = supervisor.get(f"/api/qa/sample?{query}").get_json()
    counts = {a["agent"]: (a["evaluated"], [c["recording_id"] for c in a["calls"]])
              for a in later["agents"]}  # fmt: skip
    assert counts == {AGENT: (1, [calls["a2"]]), "agent2": (1, [])}

    # The reports' QA figures: per agent, per queue, as JSON and CSV.
    report = supervisor.get("/api/reports/qa?from=2026-12-01&to=2026-12-01").get_json()
    rows = {r["name"]: r for r in report["agents"]}
    assert (rows[AGENT]["mean_score"], rows[AGENT]["acknowledged"]) == (60.0, 1)
    assert (rows["agent2"]["mean_score"], rows["agent2"]["critical_failures"]) == (0.0, 1)
    assert report["queues"][0]["name"] == "support" and report["totals"]["mean_score"] == 30.0
    assert supervisor.get("/api/reports/qa?from=2026-12-02&to=2026-12-02").get_json()[
        "totals"]["evaluations"] == 0  # fmt: skip
    assert agent.get("/api/reports/qa?from=2026-12-01&to=2026-12-01").status_code == 403
    sheet_csv = supervisor.get("/api/reports/qa.csv?from=2026-12-01&to=2026-12-01&agent=agent2")
    lines = list(csv.reader(io.StringIO(sheet_csv.get_data(as_text=True))))
    assert lines[0][:5] == ["by", "name", "start", "end", "evaluations"]
    assert [line[:2] for line in lines[1:]] == [
        ["agent", "agent2"],
        ["queue", "support"],
        ["all", ""],
    ]


def test_a_retired_form_scores_nothing_more(
    admin: FlaskClient, supervisor: FlaskClient, calls: dict[str, int]
) -> None:
    admin.put("/api/qa/forms/short", json=FORM)
    form = next(
        f for f in supervisor.get("/api/qa/forms").get_json()["forms"] if f["name"] == "short"
    )
    assert supervisor.delete("/api/qa/forms/short").status_code == 403
    assert admin.delete("/api/qa/forms/short").status_code == 204
    assert admin.delete("/api/qa/forms/short").status_code == 404
    assert "short" not in {f["name"] for f in supervisor.get("/api/qa/forms").get_json()["forms"]}
    refused = supervisor.post("/api/qa/evaluations", json={
        "form_id": form["id"], "recording_id": calls["a2"], "answers": ALL_GOOD})  # fmt: skip
    assert refused.status_code == 409 and refused.get_json()["code"] == "retired"


def test_the_pages_are_for_their_roles(console: Console, agent: FlaskClient) -> None:
    assert agent.get("/qa/mine").status_code == 200
    assert agent.get("/qa").status_code == 403
    assert agent.get("/qa/forms").status_code == 403
    supervisor = console.app.test_client()
    login(supervisor, "supervisor")
    assert supervisor.get("/qa").status_code == 200
    assert supervisor.get("/qa/forms").status_code == 403
    page = supervisor.get("/reports").get_data(as_text=True)
    assert 'id="qa-report-agents"' in page and "qa_report.js" in page
