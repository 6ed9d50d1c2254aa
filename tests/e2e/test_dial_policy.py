"""The dial policy end to end: the real Asterisk, SIPp callers, the SIPp customers' server.

- A caller keys each toll-fraud number of issue 12 in the callback menu (UK and US
  premium rate, a +882 network, a +881 satellite phone): told it cannot be called
  (Asterisk plays the refusal prompt), the refusal audited with the number as
  keyed, nothing booked, no INVITE reaches the customers' side.
- A caller whose own caller ID is a US premium-rate number takes keep-my-place and
  confirms it: refused and told, and they keep their place in line.
- A supervisor sees the refusals counted on the reports page (headless Chromium).
- A campaign whose lead list holds the toll-fraud numbers (written straight to the
  database, past the import's check) dials only the ordinary number: the others
  are refused at dial time, audited, and never reach the trunk.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver

from callcenter.adapters.db.models import CallbackRow, DialRefusalRow
from callcenter.simulate.procs import wait_for
from tests.e2e.browser import log_in, screenshot
from tests.e2e.conftest import CallCenter
from tests.e2e.console import PASSWORD, add_user, fetch_json, poll, text
from tests.e2e.console import console as console
from tests.e2e.outbound_support import Outbound, outbound_fixture, window_around, zone_in_hours
from tests.e2e.test_callbacks import (
    callback_site,
    caller,
    start_alice,
    wait_talking_to,
    waiting,
)

pytestmark = pytest.mark.e2e

REFUSAL_PROMPT = "Playing 'cannot-complete-as-dialed"


@pytest.fixture
def customers(console: CallCenter, tmp_path: Path) -> Iterator[Outbound]:
    yield from outbound_fixture(console, tmp_path)


class AsteriskLog:
    """What Asterisk logged (messages.log, verbose 3: each prompt played) since now."""

    def __init__(self, center: CallCenter) -> None:
        self.path = center.pbx.settings.pbx_dir / "log" / "messages.log"
        self.start = self.path.stat().st_size if self.path.exists() else 0

    def since(self) -> str:
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            return handle.read().decode(errors="replace")

    def played(self, channel_part: str, prompt_line: str) -> bool:
        return any(
            prompt_line in line and channel_part in line for line in self.since().splitlines()
        )


def refusals(center: CallCenter) -> list[Any]:
    return center.rows(DialRefusalRow, order_by=DialRefusalRow.at)


# The toll-fraud numbers of issue 12 as a caller keys them on a keypad (no +).
KEYED = [
    ("011449098790000", "+449098790000", "number-type"),  # UK premium rate, US prefix
    ("0088213000000", "+88213000000", "international-network"),
    ("19005551234", "+19005551234", "number-type"),  # US premium rate
    ("011881631456789", "+881631456789", "international-network"),  # satellite
]


@pytest.mark.parametrize(("keyed", "number", "reason"), KEYED)
def test_a_premium_number_keyed_in_the_callback_menu_is_refused_and_never_dialled(
    callcenter: CallCenter, outbound: Outbound, keyed: str, number: str, reason: str
) -> None:
    center = callcenter
    start_alice(center, callback_site())  # a free agent: a booked callback would ring at once
    log = AsteriskLog(center)
    # Menu key 2: a callback; key 1 there: now. The caller ID is no number the plan knows,
    # so the caller is asked to key one in (ended by #).
    booker = caller(center, ["2", 1500, "1", 2500, keyed + "#", 500], "5550142", 0)
    wait_for(lambda: bool(refusals(center)), 40, "the refusal audited")
    wait_for(booker.ended, 30, "the caller told, then sent off")
    (refusal,) = refusals(center)
    assert (refusal.reason, refusal.place, refusal.number) == (reason, "ivr-callback", keyed)
    assert (refusal.origin_kind, refusal.origin_id) == ("caller", "5550142")
    assert number in refusal.detail
    assert center.rows(CallbackRow) == []
    wait_for(lambda: log.played("PJSIP/sipp", REFUSAL_PROMPT), 10, "the refusal prompt played")
    assert log.played("PJSIP/sipp", "Playing 'im-sorry")
    time.sleep(5)  # what a wrongly booked "now" callback would take to ring out
    assert outbound.customer_calls(0) == 0  # no INVITE reached the customers' side
    assert center.get(lambda c: len(c.calls.all())) == 0


def test_keep_my_place_to_a_premium_caller_id_is_refused_and_the_caller_keeps_waiting(
    callcenter: CallCenter, outbound: Outbound
) -> None:
    center = callcenter
    phone = start_alice(center, callback_site())
    log = AsteriskLog(center)
    first = caller(center, ["1", 120_000], "2125550100", 0)  # national: +12125550100
    wait_talking_to(center, "+12125550100")
    premium = "+19005551234"
    five: list[str | int] = ["5", 300]
    one: list[str | int] = ["1", 400]
    keeper = caller(center, ["1", 1500, *five * 8, 500, *one * 16, 60_000], premium, 1)
    wait_for(lambda: bool(refusals(center)), 40, "the refusal audited")
    (refusal,) = refusals(center)
    assert (refusal.reason, refusal.place, refusal.origin_id) == (
        "number-type",
        "keep-place",
        premium,
    )
    wait_for(lambda: log.played("PJSIP/sipp", REFUSAL_PROMPT), 10, "the refusal prompt played")
    assert waiting(center, premium), "the caller keeps their place in line"
    assert center.rows(CallbackRow) == []
    # The agent frees up: the premium caller is put through live, as any waiting caller.
    phone.hangup()
    wait_talking_to(center, premium)
    phone.hangup()
    for placed in (first, keeper):
        placed.finish(30)
    center.wait_no_calls(20)
    assert outbound.customer_calls(0) == 0


def test_a_lead_list_of_toll_fraud_numbers_dials_only_the_ordinary_one(
    outbound: Outbound,
) -> None:
    center = outbound.center
    outbound.site("agent1")
    zone = zone_in_hours()
    fraud = ["+19005551234", "+449098790000", "+88213000000", "+881631456789"]
    leads = [(number, zone) for number in [*fraud, "+12125550160"]]
    campaign = outbound.campaign("fraud", leads, mode="progressive", windows=window_around(zone))
    outbound.work(
        lambda: all(
            lead.status in ("done", "invalid") for lead in outbound.leads(campaign).values()
        )
    )
    outbound.settle(campaign)
    found = outbound.leads(campaign)
    assert found["+12125550160"].status == "done"
    for number in fraud:
        assert (found[number].status, found[number].last_outcome) == ("invalid", "dial-policy")
    dialled = [a.number for a in outbound.attempts(campaign) if a.dialled]
    assert dialled == ["+12125550160"]
    audited = {r.number: r.reason for r in refusals(center) if r.place == "dialer"}
    assert audited == {
        "+19005551234": "number-type",
        "+449098790000": "number-type",
        "+88213000000": "international-network",
        "+881631456789": "international-network",
    }
    assert outbound.customer_calls(1) == 1  # the ordinary number only


def test_a_supervisor_sees_the_refusals_on_the_reports_page(
    console: CallCenter, customers: Outbound, browser: webdriver.Chrome
) -> None:
    center = console
    start_alice(center, callback_site())
    booker = caller(center, ["2", 1500, "1", 2500, "19005551234#", 500], "5550143", 0)
    wait_for(lambda: bool(refusals(center)), 40, "the refusal audited")
    wait_for(booker.ended, 30, "the caller told, then sent off")
    add_user(center, "sue", "supervisor")
    log_in(browser, center.base_url, "sue", PASSWORD)
    browser.get(f"{center.base_url}/reports")  # today, in the site's zone
    try:
        poll(lambda: "number-type" in text(browser, "#report-refusals tbody"), 15, "the count")
    except AssertionError:
        screenshot(browser, "dial-refusals-report")
        raise
    assert text(browser, "#report-refusals tbody").split() == ["number-type", "1"]
    assert text(browser, "#report-refusals tfoot").split() == ["All", "reasons", "1"]
    listed = fetch_json(browser, "/api/dial-refusals?hours=1")
    assert [(r["number"], r["where"]) for r in listed["refusals"]] == [
        ("19005551234", "ivr-callback")
    ]
    assert customers.customer_calls(0) == 0
