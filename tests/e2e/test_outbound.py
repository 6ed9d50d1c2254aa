"""Outbound campaigns end to end: the real Asterisk dials simulated customers
(SIPp, behaviour by the number's last digit: 0-3 person, 4-5 answering
machine, 6 busy, 7 no answer), AMD listens, agents on baresip auto-answer.

Leads carry their own time zone, chosen per run so they are inside calling
hours now; each test keeps to a few leads.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from callcenter.adapters.db.models import CallRow, RecordingRow
from callcenter.simulate.procs import wait_for
from tests.e2e.browser import log_in
from tests.e2e.conftest import CallCenter
from tests.e2e.outbound_support import (
    Outbound,
    local_now,
    window_around,
    zone_elsewhere,
    zone_in_hours,
)
from tests.e2e.test_api import _client as api_client
from tests.e2e.test_api import _login as login

pytestmark = pytest.mark.e2e


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
    assert outbound.customer_calls(3) == 3


def test_preview_the_agent_sees_the_lead_then_dials(outbound: Outbound) -> None:
    center = outbound.center
    outbound.site("agent1")
    center.controller.users.add("amy", "correct horse battery", "agent", agent="agent1")
    client = api_client(center)
    csrf = login(client, "amy", "correct horse battery")
    zone = zone_in_hours()
    leads = [("+12125550130", zone), ("+12125550131", zone)]
    campaign = outbound.campaign("look", leads, mode="preview", windows=window_around(zone))
    wait_for(lambda: center.get(lambda c: campaign in c.dialer.campaigns), 10, "campaign loaded")
    assert outbound.attempts(campaign) == []  # preview: nothing dialled by itself

    assert client.get("/api/outbound/preview/agent1").status_code == 404  # a read: none held
    assert center.get(lambda c: c.agents.status("agent1").state.value) == "ready"
    taken = client.post("/api/outbound/preview/agent1", headers={"X-CSRFToken": csrf})
    assert taken.status_code == 200, taken.get_json()
    lead = taken.get_json()
    assert lead["campaign"] == "look" and lead["phone"] == "+12125550130"
    assert center.get(lambda c: c.agents.status("agent1").state.value) == "ringing"  # held
    assert client.get("/api/outbound/preview/agent1").get_json() == lead  # read again, unchanged
    refused = client.post("/api/outbound/preview/agent2", headers={"X-CSRFToken": csrf})
    assert refused.status_code == 403
    skipped = client.post("/api/outbound/preview/agent1/skip", headers={"X-CSRFToken": csrf})
    assert skipped.status_code == 200
    center.wait_available("agent1")

    again = client.post("/api/outbound/preview/agent1", headers={"X-CSRFToken": csrf}).get_json()
    dialled = client.post("/api/outbound/preview/agent1/dial", headers={"X-CSRFToken": csrf})
    assert dialled.status_code == 200, dialled.get_json()
    call_id = dialled.get_json()["call_id"]
    outbound.work(lambda: outbound.leads(campaign)[again["phone"]].status == "done")
    outbound.settle(campaign)
    [row] = [r for r in outbound.attempts(campaign) if r.call_id == call_id]
    assert (row.outcome, row.agent, row.amd_result) == ("connected", "agent1", "HUMAN")
    _recorded(center, call_id)
    assert len(outbound.attempts(campaign)) == 1
    assert outbound.customer_calls(1) == 1


def test_predictive_places_more_calls_than_free_agents(outbound: Outbound) -> None:
    center = outbound.center
    outbound.site("agent1", "agent2")
    zone = zone_in_hours()
    leads = [(f"+1212555014{d}", zone) for d in range(4)]
    campaign = outbound.campaign(
        "rush", leads, status="paused", mode="predictive", windows=window_around(zone)
    )
    # The campaign's past: 100 calls, one in ten answered by a person, none abandoned.
    outbound.history(campaign, dials=100, connects=10)
    outbound.start(campaign)

    outbound.work(
        lambda: all(
            lead.status != "dialing" and lead.attempts for lead in outbound.leads(campaign).values()
        )
    )
    outbound.settle(campaign)
    attempts = [row for row in outbound.attempts(campaign) if row.call_id]
    assert len(attempts) == 4
    first = min(row.at for row in attempts)
    assert sum(1 for row in attempts if row.at - first < 1.0) > 2, "no more calls than agents"
    outcomes = {row.outcome for row in attempts}
    assert outcomes <= {"connected", "abandoned"}, outcomes
    connected = [row for row in attempts if row.outcome == "connected"]
    assert len(connected) >= 2
    for row in connected:
        _recorded(center, row.call_id)
    leads_now = outbound.leads(campaign)
    for row in attempts:
        lead = leads_now[row.number]
        if row.outcome == "abandoned":
            assert row.abandoned and row.amd_result == "HUMAN" and not row.agent
            assert lead.last_abandoned_at is not None
            assert lead.next_attempt_at > time.time() + 71 * 3600  # the quiet period
        else:
            assert lead.status == "done"


def test_amd_hears_the_machine_and_the_campaign_leaves_a_message(outbound: Outbound) -> None:
    center = outbound.center
    outbound.site("agent1")
    zone = zone_in_hours()
    leads = [("+12125550154", zone), ("+12125550103", zone)]
    campaign = outbound.campaign(
        "notes", leads, mode="progressive", amd_action="message", windows=window_around(zone)
    )
    outbound.work(
        lambda: all(
            lead.status != "dialing" and lead.attempts for lead in outbound.leads(campaign).values()
        ),
        timeout=120,
    )
    outbound.settle(campaign)
    rows = {row.number: row for row in outbound.attempts(campaign)}
    machine, person = rows["+12125550154"], rows["+12125550103"]
    assert (machine.amd_result, machine.outcome, machine.agent) == ("MACHINE", "machine", "")
    assert machine.agent_connected_at is None and not machine.abandoned
    assert (person.amd_result, person.outcome, person.agent) == ("HUMAN", "connected", "agent1")
    # The message waited for the end of the greeting, then was said: a long call.
    call = center.rows(CallRow, CallRow.id == machine.call_id)[0]
    assert call.ended_at - machine.answered_at > 10, call.ended_at - machine.answered_at
    lead = outbound.leads(campaign)["+12125550154"]
    settings = center.get(lambda c: c.dialer.campaigns[campaign].settings)
    assert lead.status == "scheduled"
    assert lead.next_attempt_at == pytest.approx(
        call.ended_at + settings.retry.machine_minutes * 60, abs=5
    )


def test_amd_hears_the_machine_and_the_campaign_passes_it_to_an_agent(
    outbound: Outbound,
) -> None:
    center = outbound.center
    outbound.site("agent1")
    zone = zone_in_hours()
    campaign = outbound.campaign(
        "handoff",
        [("+12125550154", zone)],
        mode="progressive",
        amd_action="agent",
        windows=window_around(zone),
    )
    outbound.work(
        lambda: all(
            lead.status != "dialing" and lead.attempts for lead in outbound.leads(campaign).values()
        ),
        timeout=120,
    )
    outbound.settle(campaign)
    [machine] = outbound.attempts(campaign)
    # The machine reaches the agent (not counted as abandoned: a machine is no person
    # left waiting), and the call is recorded like any connected call.
    assert (machine.amd_result, machine.outcome, machine.agent) == (
        "MACHINE",
        "connected",
        "agent1",
    )
    assert machine.agent_connected_at is not None and not machine.abandoned
    _recorded(center, machine.call_id)


def test_busy_and_unanswered_leads_are_retried_per_the_rules(outbound: Outbound) -> None:
    outbound.site("agent1", "agent2")
    zone = zone_in_hours()
    busy, silent = "+12125550166", "+12125550177"
    campaign = outbound.campaign(
        "again",
        [(busy, zone), (silent, zone)],
        mode="progressive",
        ring_seconds=15,
        retry={"busy_minutes": 5, "no_answer_minutes": 30, "max_attempts": 2},
        windows=window_around(zone),
    )

    def settled(attempts: int) -> bool:
        leads = outbound.leads(campaign).values()
        return all(lead.status != "dialing" and lead.attempts >= attempts for lead in leads)

    outbound.work(lambda: settled(1), timeout=60)
    leads = outbound.leads(campaign)
    rows = {row.number: row for row in outbound.attempts(campaign)}
    assert rows[busy].outcome == "busy" and rows[silent].outcome == "no-answer"
    assert rows[silent].answered_at is None
    for number, minutes in ((busy, 5), (silent, 30)):
        tried = leads[number].last_attempt_at
        assert leads[number].status == "scheduled" and tried is not None
        assert leads[number].next_attempt_at == pytest.approx(tried + minutes * 60, abs=25)

    outbound.make_due(leads[busy].id)  # five minutes later
    outbound.work(
        lambda: (
            outbound.leads(campaign)[busy].attempts == 2
            and outbound.leads(campaign)[busy].status != "dialing"
        )
    )
    outbound.settle(campaign)
    lead = outbound.leads(campaign)[busy]
    tries = [(r.outcome, r.dialled) for r in outbound.attempts(campaign) if r.number == busy]
    assert (lead.status, lead.last_outcome) == ("exhausted", "busy"), tries  # max_attempts 2
    assert [r.outcome for r in outbound.attempts(campaign) if r.number == busy] == ["busy"] * 2
    assert outbound.customer_calls(3) == 3


def test_dnc_and_out_of_hours_leads_are_never_dialled(outbound: Outbound) -> None:
    outbound.site("agent1")
    here = zone_in_hours()
    elsewhere = zone_elsewhere(here)
    leads = [
        ("+12125550180", here),  # dialled
        ("+12125550181", here),  # on the site's do-not-call list
        ("+12125550182", here),  # on this campaign's list
        ("+12125550183", elsewhere),  # outside the campaign's window in its own zone
    ]
    outbound.dnc("+12125550181")
    outbound.dnc("+12125550182", "campaign:fair")
    window = window_around(here)
    campaign = outbound.campaign("fair", leads, mode="progressive", windows=window)
    outbound.work(
        lambda: all(
            lead.status in ("done", "dnc", "scheduled")
            for lead in outbound.leads(campaign).values()
        )
    )
    outbound.settle(campaign)

    rows = {row.number: row for row in outbound.attempts(campaign)}
    assert len(rows) == 4
    assert (rows["+12125550180"].outcome, rows["+12125550180"].dialled) == ("connected", True)
    checks = {
        number: (row.dialled, row.outcome, row.dnc_check, row.hours_check)
        for number, row in rows.items()
    }
    assert checks["+12125550181"] == (False, "dnc-site", "listed-site", "inside")
    assert checks["+12125550182"] == (False, "dnc-campaign", "listed-campaign", "inside")
    assert checks["+12125550183"][:3] == (False, rows["+12125550183"].hours_check, "clear")
    assert rows["+12125550183"].hours_check.startswith("outside-")
    leads_now = outbound.leads(campaign)
    assert leads_now["+12125550181"].status == "dnc" and leads_now["+12125550182"].status == "dnc"
    # Each lead's audit shows its own clock; the far lead waits for its own window.
    offset = local_now(elsewhere).strftime("%z")
    assert rows["+12125550183"].lead_local_time.replace(":", "").find(offset) > 0
    later = leads_now["+12125550183"]
    assert later.status == "scheduled" and later.next_attempt_at > time.time()
    opens = datetime.fromtimestamp(later.next_attempt_at, ZoneInfo(elsewhere))
    assert opens.strftime("%H:%M") == window["mon"][0].split("-")[0]
    assert outbound.customer_calls(1) == 1  # the customers' side: one call, no other


def test_preview_on_the_desktop_in_a_browser(outbound: Outbound, browser: webdriver.Chrome) -> None:
    center = outbound.center
    outbound.site("agent1")
    center.controller.users.add("amy", "correct horse battery", "agent", agent="agent1")
    zone = zone_in_hours()
    campaign = outbound.campaign(
        "look", [("+12125550132", zone)], mode="preview", windows=window_around(zone)
    )
    wait_for(lambda: center.get(lambda c: campaign in c.dialer.campaigns), 10, "campaign loaded")
    log_in(browser, center.base_url, "amy", "correct horse battery")
    browser.get(f"{center.base_url}/desktop")
    wait = WebDriverWait(browser, 10)
    wait.until(lambda d: d.find_element(By.ID, "preview-next").is_enabled())
    browser.find_element(By.ID, "preview-next").click()
    wait.until(lambda d: "+12125550132" in d.find_element(By.ID, "preview-lead").text)
    assert "upgrade" in browser.find_element(By.ID, "preview-lead").text  # the lead's own data
    browser.find_element(By.ID, "preview-dial").click()
    wait.until(lambda d: "Dialling" in d.find_element(By.ID, "preview-status").text)
    outbound.work(lambda: outbound.leads(campaign)["+12125550132"].status == "done")
    outbound.settle(campaign)
    [row] = outbound.attempts(campaign)
    assert (row.outcome, row.agent) == ("connected", "agent1")
