"""The screen pop, assembled (pure): who is calling, why, and what happened before.

Inputs are plain facts (a live call or a stored call record, the matched customer,
the earlier calls' records); the output is what the agent's desktop shows, so the
caller never has to repeat what they told the IVR. Nothing secret goes in: the
customer card has no PIN hash, and IVR entries whose key names a secret are
left out even if a flow stored one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from pydantic import BaseModel

from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.record import CallRecord
from callcenter.core.repeat_contacts import Earlier, recent_contacts
from callcenter.services.console.desktop_settings import DesktopSettings, render_pop_url

# Keys ending in one of these words are never shown (a collect node may store a PIN).
# "verify.<node>" is the engine's own did-it-match flag ("1"/"0"), never the secret.
_SECRET_KEY = re.compile(r"(^|[._-])(pin|pass|password|passcode|secret|cvv|cvc|otp)\s*\Z")


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What is known of one call, from the live CallBook or from its stored record."""

    call_id: str
    caller: str
    caller_name: str
    dialled: str
    queue: str
    agent: str
    entered_at: float
    enqueued_at: float | None
    answered_at: float | None
    wait: float
    state: str  # the live call's state, or "ended" for a call only on record
    data: Mapping[str, str] = field(default_factory=dict)
    path: tuple[str, ...] = ()
    customer_id: int | None = None
    disposition: str = ""
    notes: str = ""
    on_hold: bool = False

    @classmethod
    def from_live(cls, call: LiveCall, now: float) -> CallFacts:
        return cls(
            call_id=call.call_id,
            caller=call.caller,
            caller_name=call.caller_name,
            dialled=call.dialled,
            queue=call.queue,
            agent=call.agent,
            entered_at=call.entered_at,
            enqueued_at=call.enqueued_at,
            answered_at=call.answered_at,
            wait=call.wait(now),
            state=call.state.value,
            data=dict(call.data),
            path=tuple(call.path),
            customer_id=call.customer_id,
            on_hold=call.holds.on_hold,
        )

    @classmethod
    def from_record(cls, row: CallRecord) -> CallFacts:
        wait = row.wait_seconds
        if wait is None and row.enqueued_at is not None and row.answered_at is not None:
            wait = row.answered_at - row.enqueued_at
        return cls(
            call_id=row.id,
            caller=row.caller_number,
            caller_name=row.caller_name,
            dialled=row.dialled,
            queue=row.queue,
            agent=row.agent,
            entered_at=row.entered_at,
            enqueued_at=row.enqueued_at,
            answered_at=row.answered_at,
            wait=max(0.0, wait or 0.0),
            state="ended" if row.ended_at is not None else "unknown",
            data={str(k): str(v) for k, v in (row.data or {}).items()},
            path=tuple(str(p) for p in (row.ivr_path or [])),
            customer_id=row.customer_id,
            disposition=row.disposition,
            notes=row.notes,
        )


class CustomerCard(BaseModel):
    id: int
    name: str
    account: str
    tier: str
    numbers: list[str]
    notes: str


class PastCall(BaseModel):
    call_id: str
    entered_at: float
    when: str  # in the site's time zone
    caller: str
    queue: str
    agent: str
    outcome: str
    disposition: str
    disposition_label: str
    notes: str
    wait_seconds: float | None
    talk_seconds: float | None


class IvrEntry(BaseModel):
    key: str
    value: str


class ScreenPop(BaseModel):
    call_id: str
    phase: str  # ringing | talking | wrap-up | after-call | <live call state> | ended
    caller: str
    caller_name: str
    dialled: str
    queue: str
    agent: str
    entered_at: float
    enqueued_at: float | None
    answered_at: float | None
    wait_seconds: float
    ivr_path: list[str]
    ivr_data: list[IvrEntry]  # in the order the IVR gathered them
    customer: CustomerCard | None
    matched_by: str  # ivr | account | caller-number | "" (no customer matched)
    history: list[PastCall]  # the latest HISTORY_SHOWN
    # Earlier calls within the repeat-contact window of this call's queue
    # (core/repeat_contacts.py): how many, to this queue, and a sentence for the agent.
    recent_calls: int = 0
    recent_same_queue: int = 0
    recent_summary: str = ""
    crm_url: str | None
    disposition: str
    notes: str
    # A caller an agent transferred (services/inbound/call_control.py): from whom, why,
    # and the note they left for the next agent.
    transferred_from: str = ""
    transfer_reason: str = ""
    transfer_note: str = ""
    # The wrap-up the previous agent saved (it may come after the transfer).
    previous_disposition: str = ""
    previous_notes: str = ""
    on_hold: bool = False  # the caller is on hold now


TRANSFER_KEYS = (
    "transferred_from",
    "transfer_reason",
    "transfer_note",
    "previous_disposition",
    "previous_notes",
)


def visible_data(data: Mapping[str, str]) -> list[IvrEntry]:
    return [
        IvrEntry(key=key, value=value)
        for key, value in data.items()
        if (key.startswith("verify.") or not _SECRET_KEY.search(key.lower()))
        and key not in TRANSFER_KEYS
    ]


def account_entered(data: Mapping[str, str]) -> str:
    """The account the caller gave the IVR (a lookup's field first, then the raw entry)."""
    return data.get("customer_account") or data.get("account") or ""


@dataclass(frozen=True, slots=True)
class CustomerLookups:
    by_id: Callable[[int], CustomerCard | None]
    by_account: Callable[[str], CustomerCard | None]
    by_number: Callable[[str], CustomerCard | None]


def find_customer(facts: CallFacts, lookups: CustomerLookups) -> tuple[CustomerCard | None, str]:
    """The customer this call is about, and how we know.

    What the caller proved in the IVR (a looked-up account) outranks the
    number they call from: people call from other people's phones.
    """
    ids = [facts.customer_id, _int(facts.data.get("customer_id", ""))]
    for customer_id in ids:
        if customer_id is not None and (found := lookups.by_id(customer_id)):
            return found, "ivr"
    account = account_entered(facts.data)
    if account and (found := lookups.by_account(account)):
        return found, "account"
    if facts.caller and (found := lookups.by_number(facts.caller)):
        return found, "caller-number"
    return None, ""


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def format_when(at: float, zone: tzinfo | None) -> str:
    moment = datetime.fromtimestamp(at, zone) if zone else datetime.fromtimestamp(at).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")


def past_call(row: CallRecord, settings: DesktopSettings, zone: tzinfo | None) -> PastCall:
    return PastCall(
        call_id=row.id,
        entered_at=row.entered_at,
        when=format_when(row.entered_at, zone),
        caller=row.caller_number,
        queue=row.queue,
        agent=row.agent,
        outcome=row.outcome,
        disposition=row.disposition,
        disposition_label=settings.label_of(row.disposition) if row.disposition else "",
        notes=row.notes,
        wait_seconds=row.wait_seconds,
        talk_seconds=row.talk_seconds,
    )


def pop_url_values(facts: CallFacts, customer: CustomerCard | None) -> dict[str, str]:
    return {
        "caller": facts.caller,
        "call_id": facts.call_id,
        "queue": facts.queue,
        "dialled": facts.dialled,
        "customer_account": customer.account if customer else account_entered(facts.data),
        "customer_id": str(customer.id) if customer else "",
    }


HISTORY_SHOWN = 10


def assemble_pop(
    facts: CallFacts,
    phase: str,
    customer: CustomerCard | None,
    matched_by: str,
    earlier: Sequence[CallRecord],
    settings: DesktopSettings,
    zone: tzinfo | None,
    windows: Mapping[str, float] | None = None,
) -> ScreenPop:
    """``earlier``: newest first; ``windows``: each queue's repeat window, hours."""
    before = [row for row in earlier if row.id != facts.call_id]
    recent = recent_contacts(
        [
            Earlier(
                row.entered_at,
                row.queue,
                settings.label_of(row.disposition) if row.disposition else "",
            )
            for row in before
        ],
        facts.queue,
        facts.entered_at,
        windows or {},
    )
    return ScreenPop(
        call_id=facts.call_id,
        phase=phase,
        caller=facts.caller,
        caller_name=facts.caller_name,
        dialled=facts.dialled,
        queue=facts.queue,
        agent=facts.agent,
        entered_at=facts.entered_at,
        enqueued_at=facts.enqueued_at,
        answered_at=facts.answered_at,
        wait_seconds=round(facts.wait, 1),
        ivr_path=list(facts.path),
        ivr_data=visible_data(facts.data),
        transferred_from=facts.data.get("transferred_from", ""),
        transfer_reason=facts.data.get("transfer_reason", ""),
        transfer_note=facts.data.get("transfer_note", ""),
        previous_disposition=facts.data.get("previous_disposition", ""),
        previous_notes=facts.data.get("previous_notes", ""),
        on_hold=facts.on_hold,
        customer=customer,
        matched_by=matched_by,
        history=[past_call(row, settings, zone) for row in before[:HISTORY_SHOWN]],
        recent_calls=recent.count,
        recent_same_queue=recent.same_queue,
        recent_summary=recent.summary() if facts.queue else "",
        crm_url=render_pop_url(settings.crm.screen_pop_url, pop_url_values(facts, customer)),
        disposition=facts.disposition,
        notes=facts.notes,
    )
