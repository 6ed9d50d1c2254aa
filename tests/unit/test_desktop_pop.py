"""The screen pop assembled from plain rows: who, why, history, CRM link; no secrets."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.record import CallRecord
from callcenter.core.calls.state import CallState
from callcenter.services.console.desktop_pop import (
    CallFacts,
    CustomerCard,
    CustomerLookups,
    assemble_pop,
    find_customer,
    visible_data,
)
from callcenter.services.console.desktop_settings import CrmSettings, DesktopSettings

PARIS = ZoneInfo("Europe/Paris")
T0 = 1_750_000_000.0  # 2025-06-15 17:06:40 in Paris

CAROL = CustomerCard(
    id=7,
    name="Carol Customer",
    account="123456",
    tier="gold",
    numbers=["+15550001111"],
    notes="Prefers email",
)
DAVE = CustomerCard(id=8, name="Dave", account="999", tier="", numbers=["+15550002222"], notes="")


def live_call(**changes: object) -> LiveCall:
    call = LiveCall(
        call_id="c2",
        unique_id="1.2",
        channel="PJSIP/trunk-1",
        caller="+15550001111",
        caller_name="CAROL",
        dialled="5000",
        entered_at=T0,
        state=CallState.RINGING,
        data={"dnis": "5000", "menu.welcome": "2", "account": "123456", "customer_found": "1"},
        path=("welcome", "account", "find", "support"),
        customer_id=None,
        queue="support",
        enqueued_at=T0 + 20,
        agent="agent1",
    )
    for name, value in changes.items():
        setattr(call, name, value)
    return call


def row(call_id: str, at: float, **values: object) -> CallRecord:
    defaults: dict[str, object] = {
        "caller_number": "+15550001111",
        "queue": "support",
        "agent": "agent1",
        "outcome": "completed",
        "disposition": "",
        "notes": "",
        "wait_seconds": 12.0,
        "talk_seconds": 95.0,
    }
    return CallRecord(id=call_id, unique_id=call_id, entered_at=at, **{**defaults, **values})


def lookups(*customers: CustomerCard) -> CustomerLookups:
    return CustomerLookups(
        by_id=lambda i: next((c for c in customers if c.id == i), None),
        by_account=lambda a: next((c for c in customers if c.account == a), None),
        by_number=lambda n: next((c for c in customers if n in c.numbers), None),
    )


def test_pop_shows_who_why_and_history_in_order() -> None:
    facts = CallFacts.from_live(live_call(), now=T0 + 50)
    earlier = [
        row("c1", T0 - 86_400, disposition="follow-up", notes="Refund promised by Friday"),
        row("c0", T0 - 2 * 86_400, outcome="abandoned", agent="", talk_seconds=None),
    ]
    pop = assemble_pop(
        facts, "ringing", CAROL, "account", earlier, DesktopSettings(), PARIS
    ).model_dump()

    assert pop["customer"]["name"] == "Carol Customer"
    assert pop["matched_by"] == "account"
    assert (pop["queue"], pop["wait_seconds"], pop["phase"]) == ("support", 30.0, "ringing")
    assert [(e["key"], e["value"]) for e in pop["ivr_data"]][:3] == [
        ("dnis", "5000"),
        ("menu.welcome", "2"),
        ("account", "123456"),
    ]
    assert pop["ivr_path"] == ["welcome", "account", "find", "support"]
    first, second = pop["history"]
    assert first["call_id"] == "c1"
    assert first["when"] == "2025-06-14 17:06"  # the site's zone, not UTC
    assert (first["disposition"], first["disposition_label"]) == ("follow-up", "Follow-up needed")
    assert first["notes"] == "Refund promised by Friday"
    assert (second["outcome"], second["disposition_label"]) == ("abandoned", "")
    assert pop["crm_url"] is None  # no template configured


def test_the_call_itself_is_never_in_its_own_history() -> None:
    facts = CallFacts.from_live(live_call(), now=T0)
    pop = assemble_pop(facts, "ringing", None, "", [row("c2", T0)], DesktopSettings(), None)
    assert pop.history == []


def test_secrets_never_reach_the_pop() -> None:
    data = {"account": "1", "pin": "4321", "card_pin": "1", "verify.pin": "1", "Password": "x"}
    shown = [entry.key for entry in visible_data(data)]
    # A verify result ("did the PIN match") is fine to show; the PIN itself is not.
    assert shown == ["account", "verify.pin"]
    assert "pin_hash" not in CustomerCard.model_fields
    assert "has_pin" not in CustomerCard.model_fields


def test_customer_found_in_the_ivr_outranks_the_calling_number() -> None:
    # Carol calls from Dave's phone and gives her own account.
    facts = CallFacts.from_live(live_call(caller="+15550002222", customer_id=7), now=T0)
    assert find_customer(facts, lookups(CAROL, DAVE)) == (CAROL, "ivr")

    by_data = CallFacts.from_live(
        live_call(caller="+15550002222", data={"customer_id": "7"}), now=T0
    )
    assert find_customer(by_data, lookups(CAROL, DAVE)) == (CAROL, "ivr")

    by_account = CallFacts.from_live(
        live_call(caller="+15550002222", data={"account": "123456"}), now=T0
    )
    assert find_customer(by_account, lookups(CAROL, DAVE)) == (CAROL, "account")

    by_number = CallFacts.from_live(live_call(caller="+15550002222", data={}), now=T0)
    assert find_customer(by_number, lookups(CAROL, DAVE)) == (DAVE, "caller-number")

    nobody = CallFacts.from_live(live_call(caller="", data={"account": "000"}), now=T0)
    assert find_customer(nobody, lookups(CAROL, DAVE)) == (None, "")


def test_crm_link_is_filled_and_encoded() -> None:
    settings = DesktopSettings(
        crm=CrmSettings(
            screen_pop_url="https://crm.example/c?phone={caller}&account={customer_account}"
            "&call={call_id}&q={queue}&id={customer_id}&to={dialled}"
        )
    )
    facts = CallFacts.from_live(live_call(caller="+1 555&x=y"), now=T0)
    known = assemble_pop(facts, "ringing", CAROL, "ivr", [], settings, None)
    assert known.crm_url == (
        "https://crm.example/c?phone=%2B1%20555%26x%3Dy&account=123456"
        "&call=c2&q=support&id=7&to=5000"
    )
    # Unknown customer: the account the caller typed, and an empty id.
    unknown = assemble_pop(facts, "ringing", None, "", [], settings, None)
    assert unknown.crm_url is not None
    assert "account=123456&" in unknown.crm_url and unknown.crm_url.endswith("&id=&to=5000")


def test_facts_from_a_finished_calls_row() -> None:
    stored = row(
        "c1",
        T0,
        enqueued_at=T0 + 5,
        answered_at=T0 + 25,
        wait_seconds=None,
        ended_at=T0 + 200,
        data={"menu.welcome": "2"},
        ivr_path=["welcome"],
        customer_id=7,
        disposition="resolved",
        notes="ok",
    )
    facts = CallFacts.from_record(stored)
    assert (facts.wait, facts.state, facts.customer_id) == (20.0, "ended", 7)
    assert (facts.disposition, facts.notes, dict(facts.data)) == (
        "resolved",
        "ok",
        {"menu.welcome": "2"},
    )


def test_pop_says_how_often_the_caller_called_within_the_queues_window() -> None:
    facts = CallFacts.from_live(live_call(), now=T0 + 50)
    day = 86_400
    earlier = [row(f"r{n}", T0 - n * day, queue="support", disposition="follow-up") for n in (1, 2)]
    earlier += [row("s1", T0 - 3 * day, queue="sales"), row("old", T0 - 9 * day, queue="support")]
    earlier += [row(f"h{n}", T0 - 10 * day - n) for n in range(12)]  # beyond the window
    pop = assemble_pop(
        facts, "ringing", None, "", earlier, DesktopSettings(), None, {"support": 168.0}
    )
    assert (pop.recent_calls, pop.recent_same_queue) == (3, 2)
    assert pop.recent_summary == (
        "Called 3 times in the last 7 days (2 to this queue), mostly about Follow-up needed"
    )
    assert len(pop.history) == 10  # the latest ten are listed, all are counted
    short = assemble_pop(
        facts, "ringing", None, "", earlier, DesktopSettings(), None, {"support": 36.0}
    )
    assert short.recent_summary == (
        "Called once in the last 36 hours (1 to this queue), about Follow-up needed"
    )
