"""Outbound campaigns end to end: the real Asterisk dials simulated customers
(SIPp, behaviour by the number's last digit: 0-3 person, 4-5 answering
machine, 6 busy, 7 no answer), AMD listens, agents on baresip auto-answer.

Leads carry their own time zone, chosen per run so they are inside calling
hours now; each test keeps to a few leads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.adapters.db.models import CallRow, RecordingRow
from tests.e2e.conftest import CallCenter
from tests.e2e.outbound_support import Outbound, outbound_fixture, window_around, zone_in_hours

pytestmark = pytest.mark.e2e


@pytest.fixture
def outbound(callcenter: CallCenter, tmp_path: Path) -> Iterator[Outbound]:
    yield from outbound_fixture(callcenter, tmp_path)


def _recorded(center: CallCenter, call_id: str) -> Path:
    rows = center.rows(RecordingRow, RecordingRow.call_id == call_id)
    assert rows, f"no recording row for {call_id}"
    path: Path = center.controller.recordings.host_path(rows[0].path)
    assert path.exists() and path.stat().st_size > 44, f"empty recording {path}"
    return path


def test_progressive_connects_records_and_audits(outbound: Outbound) -> None:
    center = outbound.center
    outbound.site("agent1", "agent2", wrapup=1.0)
    zone = zone_in_hours()
    leads = [("+12125550100", zone), ("+12125550111", zone), ("+12125550122", zone)]
    campaign = outbound.campaign("spring", leads, mode="progressive", windows=window_around(zone))

    outbound.work(lambda: all(lead.status == "done" for lead in outbound.leads(campaign).values()))
    outbound.settle(campaign)

    attempts = outbound.attempts(campaign)
    assert len(attempts) == 3
    for row in attempts:
        assert row.dialled and row.outcome == "connected", row.__dict__
        assert row.dnc_check == "clear" and row.hours_check == "inside"
        assert row.lead_local_time and row.answered_at and row.agent_connected_at
        assert row.amd_result == "HUMAN", row.amd_cause
        assert row.agent in ("agent1", "agent2")
        assert row.answer_to_agent_seconds is not None and row.answer_to_agent_seconds > 0
        assert not row.abandoned
        call = center.rows(CallRow, CallRow.id == row.call_id)[0]
        assert call.direction == "outbound" and call.agent == row.agent
        assert call.talk_seconds and call.wrapup_seconds is not None
        _recorded(center, row.call_id)
    assert outbound.customer_calls() == 3
