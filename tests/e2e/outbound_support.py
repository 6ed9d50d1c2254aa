"""Outbound end-to-end helpers: a campaign in the database, simulated customers,
agents on auto-answer softphones who end each call after a short talk."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from callcenter.adapters.db.models import CampaignRow, DialAttemptRow, DncRow, LeadRow
from callcenter.core.acd.model import AgentState
from callcenter.core.outbound.settings import load_settings
from callcenter.simulate.customers import Customers
from callcenter.simulate.procs import wait_for
from callcenter.simulate.softphone import Softphone
from tests.e2e.conftest import (
    CUSTOMER_ADDRESS,
    CUSTOMER_MEDIA_PORT,
    CUSTOMER_PORT,
    CallCenter,
    active_channels,
)
from tests.e2e.sites import agent, quiet_queue

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Zones spread round the clock: some are always inside 09:00-20:00 local time.
ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Pacific/Honolulu",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def local_now(zone: str) -> datetime:
    return datetime.now(ZoneInfo(zone))


def zone_in_hours(avoid: str = "") -> str:
    """A zone whose local time is well inside the law's hours (09:00-20:00) now,
    at least two hours away from ``avoid``'s local time."""
    for zone in ZONES:
        now = local_now(zone)
        if not 9 <= now.hour < 20:
            continue
        if avoid and abs(_minutes(now) - _minutes(local_now(avoid))) < 120:
            continue
        return zone
    pytest.skip("no zone inside calling hours now")


def zone_elsewhere(here: str) -> str:
    """A zone whose clock is at least two hours from ``here``'s (in calling hours if any is)."""
    far = [z for z in ZONES if abs(_minutes(local_now(z)) - _minutes(local_now(here))) >= 120]
    return next((z for z in far if 9 <= local_now(z).hour < 20), far[0])


def _minutes(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def window_around(zone: str, margin: int = 45) -> dict[str, list[str]]:
    """Every day's campaign window: ``margin`` minutes either side of now in ``zone``."""
    now = _minutes(local_now(zone))
    start, end = max(0, now - margin), min(24 * 60, now + margin)
    text = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    return {day: [text] for day in DAYS}


@dataclass
class Outbound:
    center: CallCenter
    customers: Customers
    phones: dict[str, Softphone] = field(default_factory=dict)

    def site(self, *agents: str, wrapup: float = 0.0) -> None:
        """Agents with skill sales, the queue `sales` that campaigns name; all logged in."""
        self.center.load_site(
            {
                "agents": [agent(name, 2001 + i, sales=3) for i, name in enumerate(agents)],
                "queues": [quiet_queue("sales", requirements={"sales": 1}, wrapup=wrapup)],
            }
        )
        for name in agents:
            self.phones[name] = self.center.softphone(self.center.account(name), auto_answer=True)
        self.center.login(*agents)
        self.center.wait_available(*agents)

    def campaign(
        self, name: str, leads: list[tuple[str, str]], status: str = "running", **settings: Any
    ) -> int:
        """A campaign and its leads (number, IANA zone); settings over the defaults."""
        document = load_settings(
            {"queue": "sales", "caller_id": "+12125550199", **settings}
        ).document()
        now = time.time()
        with self.center.controller.storage.sessions.begin() as session:
            row = CampaignRow(name=name, settings=document, status=status, created_at=now)
            session.add(row)
            session.flush()
            for number, zone in leads:
                session.add(
                    LeadRow(
                        campaign_id=row.id,
                        phone=number,
                        first_name="Lead",
                        last_name=number[-4:],
                        timezone=zone,
                        data={"offer": "upgrade"},
                        created_at=now,
                    )
                )
            return row.id

    def start(self, campaign_id: int) -> None:
        with self.center.controller.storage.sessions.begin() as session:
            session.execute(
                update(CampaignRow).where(CampaignRow.id == campaign_id).values(status="running")
            )

    def dnc(self, number: str, scope: str = "site") -> None:
        with self.center.controller.storage.sessions.begin() as session:
            session.add(DncRow(scope=scope, number=number, added_at=time.time(), source="test"))

    def leads(self, campaign_id: int) -> dict[str, LeadRow]:
        return {
            lead.phone: lead
            for lead in self.center.rows(LeadRow, LeadRow.campaign_id == campaign_id)
        }

    def attempts(self, campaign_id: int) -> list[DialAttemptRow]:
        return self.center.rows(DialAttemptRow, DialAttemptRow.campaign_id == campaign_id)

    def history(self, campaign_id: int, dials: int, connects: int) -> None:
        """Audit rows of calls placed an hour ago: the sample predictive pacing learns from."""
        at = time.time() - 3600
        with self.center.controller.storage.sessions.begin() as session:
            for index in range(dials):
                answered = index < connects
                session.add(
                    DialAttemptRow(
                        campaign_id=campaign_id,
                        number="+12125550000",
                        at=at,
                        dialled=True,
                        answered_at=at + 8 if answered else None,
                        outcome="connected" if answered else "no-answer",
                    )
                )

    def make_due(self, lead_id: int) -> None:
        """Time passes: the lead's retry is due now (the rule's delay is minutes)."""
        with self.center.controller.storage.sessions.begin() as session:
            session.execute(update(LeadRow).where(LeadRow.id == lead_id).values(next_attempt_at=0))

    def work(self, done: Callable[[], bool], timeout: float = 90, talk: float = 1.5) -> None:
        """Agents end each call after ``talk`` seconds, until ``done()`` (or the deadline)."""
        deadline = time.monotonic() + timeout
        ended: set[str] = set()  # a second hangup on an idle baresip drops its control link
        while not done():
            assert time.monotonic() < deadline, "outbound calls did not finish in time"
            for name, phone in self.phones.items():
                status = self.center.get(lambda c, n=name: c.agents.status(n))
                call = status.call_id or ""
                talked = time.time() - status.since > talk
                if status.state is AgentState.ON_CALL and talked and call not in ended:
                    ended.add(call)
                    phone.hangup()
            time.sleep(0.2)

    def settle(self, campaign_id: int, timeout: float = 60) -> None:
        """No attempt of the campaign in progress, no channel left in Asterisk."""
        wait_for(
            lambda: (
                not self.center.get(
                    lambda c: [
                        a for a in c.dialer_calls.attempts.values() if a.campaign.id == campaign_id
                    ]
                )
            ),
            timeout,
            "every dial attempt finished",
        )
        wait_for(lambda: active_channels(self.center.pbx) == 0, 20, "no channels left")
        self.center.wait_available(*self.phones)  # wrap-up over: its time is on the record

    def customer_calls(self, expected: int) -> int:
        """Calls the simulated customers received (SIPp's statistics, written each second)."""
        stat = self.customers.workdir / "customers_stat.csv"

        def count() -> int:
            with stat.open() as handle:
                rows = list(csv.DictReader(handle, delimiter=";"))
            return int(rows[-1]["IncomingCall(C)"]) if rows else 0

        deadline = time.monotonic() + 3.0
        while count() != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        return count()


def outbound_fixture(center: CallCenter, workdir: Path) -> Iterator[Outbound]:
    customers = Customers(
        workdir / "customers", CUSTOMER_ADDRESS, CUSTOMER_PORT, CUSTOMER_MEDIA_PORT
    )
    customers.start()
    try:
        yield Outbound(center, customers)
    finally:
        if active_channels(center.pbx) > 0:
            center.pbx.cli("channel request hangup all")
            time.sleep(1.0)
        customers.stop()
