"""Callbacks over HTTP on a real controller and database (no Asterisk): an agent books
one for a time, bad numbers and times are refused with their reason, a supervisor
lists and cancels; the booking is a row in the database and an armed job."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from callcenter.adapters.db.models import DncRow
from callcenter.core.dial_limits import BookingLimits
from callcenter.simulate.console import Console
from tests.adapter.console_support import AGENT, login


@pytest.fixture(scope="module")
def agent(console: Console) -> FlaskClient:
    client = console.app.test_client()
    client.environ_base["HTTP_X_CSRFTOKEN"] = login(client, "agent")  # agents log in, no tokens
    return client


@pytest.fixture(scope="module")
def supervisor(console: Console) -> FlaskClient:
    token = console.controller.users.create_token("callbacks-supervisor", "supervisor")
    client = console.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def later(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def test_an_agent_books_a_callback_and_a_supervisor_cancels_it(
    console: Console, agent: FlaskClient, supervisor: FlaskClient
) -> None:
    answer = agent.post(
        "/api/callbacks",
        json={"queue": "support", "number": "(212) 555-0101", "at": later(30), "notes": "quote"},
    )
    assert answer.status_code == 201, answer.get_json()
    booked = answer.get_json()
    assert booked["number"] == "+12125550101" and booked["status"] == "pending"
    assert booked["kind"] == "scheduled" and booked["booked_by"] == AGENT
    job = console.controller.scheduler.next_run(f"callback-{booked['id']}")
    assert job is not None and abs(job - booked["due_at"]) < 1

    listed = supervisor.get("/api/callbacks?status=pending").get_json()["callbacks"]
    assert booked["id"] in [c["id"] for c in listed]
    assert agent.delete(f"/api/callbacks/{booked['id']}").status_code == 403
    cancelled = supervisor.delete(f"/api/callbacks/{booked['id']}")
    assert cancelled.status_code == 200
    assert console.controller.scheduler.next_run(f"callback-{booked['id']}") is None
    again = supervisor.delete(f"/api/callbacks/{booked['id']}")
    assert again.status_code == 409 and again.get_json()["code"] == "not-pending"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"number": "555"}, 422, "bad-number"),
        ({"number": "2125550101; Dial(x)"}, 422, "bad-number"),
        ({"at": "2020-01-01T10:00:00+00:00"}, 422, "bad-time"),
        ({"queue": "nowhere"}, 404, "unknown-queue"),
    ],
)
def test_bad_bookings_are_refused_with_the_reason(
    agent: FlaskClient, body: dict[str, str], status: int, code: str
) -> None:
    document = {"queue": "support", "number": "2125550101", "at": later(10), **body}
    answer = agent.post("/api/callbacks", json=document)
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["code"] == code


def test_a_time_without_its_offset_is_refused(agent: FlaskClient) -> None:
    answer = agent.post(
        "/api/callbacks",
        json={"queue": "support", "number": "2125550101", "at": "2030-01-01T10:00"},
    )
    assert answer.status_code == 422


def test_a_do_not_call_number_cannot_be_booked(console: Console, agent: FlaskClient) -> None:
    with console.controller.storage.sessions.begin() as session:
        session.add(DncRow(scope="site", number="+13125550109", added_at=time.time()))
    answer = agent.post(
        "/api/callbacks", json={"queue": "support", "number": "+13125550109", "at": later(5)}
    )
    assert answer.status_code == 422 and answer.get_json()["code"] == "dnc"


def test_the_desktop_has_the_booking_form(agent: FlaskClient) -> None:
    page = agent.get("/desktop").get_data(as_text=True)
    assert 'id="callback"' in page and 'id="cb-at"' in page and 'type="datetime-local"' in page


@pytest.mark.parametrize(
    ("number", "code", "said"),
    [
        ("011449098790000", "number-type", "+449098790000 is a premium-rate number"),
        ("0088213000000", "international-network", "+882"),
        ("+19005551234", "number-type", "premium-rate"),
        ("+881631456789", "international-network", "satellite"),
        ("+33612345678", "country", "is in FR"),
    ],
)
def test_the_dial_policy_refuses_with_the_reason(
    console: Console, agent: FlaskClient, number: str, code: str, said: str
) -> None:
    answer = agent.post(
        "/api/callbacks", json={"queue": "support", "number": number, "at": later(5)}
    )
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["code"] == code and said in answer.get_json()["message"]
    rows, _ = console.controller.dial_refusals.recent(0.0, 0, 1)
    assert (rows[0].number, rows[0].reason, rows[0].where) == (number, code, "api")
    assert (rows[0].origin_kind, rows[0].origin_id) == ("agent", AGENT)


def test_too_many_bookings_in_an_hour_are_a_429(console: Console, agent: FlaskClient) -> None:
    guard = console.controller.dial_guard
    kept = guard.limits
    guard.limits = BookingLimits({"agent": 1}, total=100)  # one an hour, for this test
    try:
        booked = agent.post(
            "/api/callbacks", json={"queue": "support", "number": "2125550177", "at": later(5)}
        )
        assert booked.status_code == 201, booked.get_json()
        again = agent.post(
            "/api/callbacks", json={"queue": "support", "number": "2125550178", "at": later(5)}
        )
        assert again.status_code == 429 and again.get_json()["code"] == "rate-limit"
        guard.limits = BookingLimits({"agent": 100}, total=1)
        guard.limits.take("agent", "someone-else", time.time())
        capped = agent.post(
            "/api/callbacks", json={"queue": "support", "number": "2125550179", "at": later(5)}
        )
        assert capped.status_code == 429 and capped.get_json()["code"] == "hourly-cap"
    finally:
        guard.limits = kept


def test_the_desktop_lists_the_phone_codes_and_numbers_the_queues(agent: FlaskClient) -> None:
    page = agent.get("/desktop").get_data(as_text=True)
    assert 'id="phone-codes"' in page and "*1 hold / resume" in page, page
    assert "support (*1 on the phone)" in page
