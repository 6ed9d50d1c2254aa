"""In-memory fakes of the storage protocols (callcenter/services/repositories.py).

For unit tests of the services that use them: Callbacks and CallbackDialer
(``FakeCallbackRepository``), Dialer and DialerCalls (``FakeDialerStore``;
its ``dnc_scopes`` also serves Callbacks), Recovery (``FakeCallRecords``:
``call`` is its call loader, ``open_calls`` its open-calls reader), the
wallboard (``FakeRecordsLag``: set ``now`` to the backlog it should report),
the dial guard (``FakeDialRefusals``).

Each behaves like the SQLAlchemy class of the same name on what the services
see; tests/fakes/contracts.py holds the checks both must pass (run on the
fakes by tests/unit/test_fakes.py, on SQLite and PostgreSQL by
tests/adapter/test_repository_contracts.py). What the services never read
back is kept as plain dicts (``attempts``) so tests can look at it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import asdict, replace
from statistics import fmean
from typing import Any

from callcenter.core.callbacks.records import PENDING, Attempt, Callback, NewCallback
from callcenter.core.calls.record import CallRecord
from callcenter.core.dial_policy import DialRefusal
from callcenter.core.outbound.records import Campaign, DialSample, LeadRecord, NewDialAttempt
from callcenter.core.outbound.retry import TABLE, LeadState
from callcenter.core.records_backlog import RecordsBacklog
from callcenter.core.survey import SurveyResult
from callcenter.core.voicemail import HANDLED, NEW, OPEN, TAKEN, LeftMessage, Voicemail

# The dial_attempts columns a result may set, with a new row's values.
ATTEMPT_DEFAULTS: dict[str, Any] = {
    "campaign_id": None,
    "lead_id": None,
    "callback_id": None,
    "call_id": "",
    "number": "",
    "at": 0.0,
    "lead_local_time": "",
    "dnc_check": "",
    "hours_check": "",
    "dialled": False,
    "answered_at": None,
    "amd_result": "",
    "amd_cause": "",
    "agent_connected_at": None,
    "answer_to_agent_seconds": None,
    "agent": "",
    "outcome": "",
    "abandoned": False,
}
DUE_STATUSES = TABLE["dial"]


def _set(row: dict[str, Any], values: dict[str, Any]) -> None:
    unknown = set(values) - set(ATTEMPT_DEFAULTS)
    if unknown:  # the database would refuse an unknown column too
        raise KeyError(f"no dial_attempts column {sorted(unknown)}")
    row.update(values)


class FakeCallRecords:
    """Stored call records (``CallRecords``), by call id."""

    def __init__(self, *records: CallRecord) -> None:
        self.records: dict[str, CallRecord] = {r.id: r for r in records}

    def add(self, record: CallRecord) -> None:
        self.records[record.id] = record

    def call(self, call_id: str) -> CallRecord | None:
        return self.records.get(call_id)

    def open_calls(self, since: float) -> list[tuple[str, str]]:
        return [
            (r.id, r.unique_id)
            for r in self.records.values()
            if r.ended_at is None and r.entered_at >= since
        ]

    def by_unique_ids(self, unique_ids: list[str]) -> dict[str, CallRecord]:
        wanted = set(unique_ids)
        return {r.unique_id: r for r in self.records.values() if r.unique_id in wanted}

    def last_event_at(self) -> float | None:
        times = [t for r in self.records.values() for t in (r.entered_at, r.ended_at) if t]
        return max(times, default=None)

    def recent_talks(self, per_queue: int) -> list[tuple[str, str, float]]:
        talked = sorted(
            (r.answered_at, r.queue, r.agent, r.talk_seconds)
            for r in self.records.values()
            if r.queue and r.answered_at is not None and r.talk_seconds is not None
        )
        kept = [
            row for row in talked
            if sum(1 for later in talked if later[1] == row[1] and later[0] > row[0]) < per_queue
        ]  # fmt: skip
        return [(queue, agent, talk) for _, queue, agent, talk in kept]


class FakeRecordsLag:
    """The records writer's account (``RecordsLag``): whatever the test sets."""

    def __init__(self, now: RecordsBacklog | None = None) -> None:
        self.now = now or RecordsBacklog()

    def backlog(self) -> RecordsBacklog:
        return self.now


class FakeCallbackRepository:
    """Callbacks (``CallbackRepository``) and their dial attempts' audit rows."""

    def __init__(self) -> None:
        self.callbacks: dict[int, Callback] = {}
        self.attempts: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._attempt_ids = itertools.count(1)

    def add(self, new: NewCallback) -> Callback:
        callback = Callback(
            id=next(self._ids),
            kind=new.kind,
            origin_call_id=new.origin_call_id,
            queue=new.queue,
            number=new.number,
            priority=new.priority,
            extra=dict(new.extra),
            data=dict(new.data),
            requested_at=new.requested_at,
            enqueued_at=new.enqueued_at,
            due_at=new.due_at,
            attempts=0,
            max_attempts=new.max_attempts,
            status="pending",
            booked_by=new.booked_by,
            last_outcome="",
            notes=new.notes,
        )
        self.callbacks[callback.id] = callback
        return callback

    def get(self, callback_id: int) -> Callback | None:
        return self.callbacks.get(callback_id)

    def update(self, callback_id: int, **values: Any) -> None:
        found = self.callbacks.get(callback_id)
        if found is not None:  # like an UPDATE that matches no row
            self.callbacks[callback_id] = replace(found, **values)

    def pending(self) -> list[Callback]:
        return [c for _, c in sorted(self.callbacks.items()) if c.status in PENDING]

    def close_unobserved(self) -> list[int]:
        found = []
        for row in self.attempts.values():
            callback = self.callbacks.get(row["callback_id"] or 0)
            if callback is None or callback.status != "dialing":
                continue
            if row["dialled"] and row["outcome"] == "":
                row["outcome"] = "unobserved"
                self.update(callback.id, status="failed", last_outcome="unobserved")
                found.append(callback.id)
        return sorted(set(found))

    def recent(
        self, status: str = "", limit: int = 100, mine: tuple[str, list[str]] | None = None
    ) -> list[Callback]:
        newest = [c for _, c in sorted(self.callbacks.items(), reverse=True)]
        if mine is not None:
            newest = [c for c in newest if c.booked_by == mine[0] or c.queue in mine[1]]
        return [c for c in newest if not status or c.status == status][:limit]

    def attempt(self, attempt: Attempt) -> int:
        attempt_id = next(self._attempt_ids)
        row = dict(ATTEMPT_DEFAULTS)
        _set(
            row,
            {
                "callback_id": attempt.callback_id,
                "call_id": attempt.call_id,
                "number": attempt.number,
                "at": attempt.at,
                "lead_local_time": attempt.local_time,
                "dnc_check": attempt.dnc_check,
                "hours_check": attempt.hours_check,
                "dialled": attempt.dialled,
                "outcome": "" if attempt.dialled else "not-dialled",
            },
        )
        self.attempts[attempt_id] = row
        return attempt_id

    def attempt_result(self, attempt_id: int, **values: Any) -> None:
        if attempt_id in self.attempts:
            _set(self.attempts[attempt_id], values)


class FakeDialerStore:
    """What the dialer reads and writes (``DialerStore``): campaigns, leads, DNC lists,
    audit rows and the calls' records. ``add_campaign``, ``add_lead`` and ``dnc``
    arrange a test's world (the console's side, which the dialer does not write)."""

    def __init__(self) -> None:
        self.campaign_records: dict[int, Campaign] = {}
        self.leads: dict[int, LeadRecord] = {}
        self.dnc: set[tuple[str, str]] = set()  # (scope, number)
        self.attempts: dict[int, dict[str, Any]] = {}
        self.calls: dict[str, CallRecord] = {}
        self._campaign_ids = itertools.count(1)
        self._lead_ids = itertools.count(1)
        self._attempt_ids = itertools.count(1)

    # -- arranging ---------------------------------------------------------------------
    def add_campaign(
        self, name: str, settings: dict[str, Any] | None = None, status: str = "running"
    ) -> Campaign:
        campaign = Campaign(next(self._campaign_ids), name, dict(settings or {}), status, 0.0)
        self.campaign_records[campaign.id] = campaign
        return campaign

    def add_lead(
        self,
        campaign_id: int,
        phone: str,
        *,
        first_name: str = "",
        last_name: str = "",
        account: str = "",
        timezone: str = "",
        data: dict[str, Any] | None = None,
        state: LeadState | None = None,
    ) -> LeadRecord:
        lead = LeadRecord(
            next(self._lead_ids), campaign_id, phone, first_name, last_name, account, timezone,
            dict(data or {}), state or LeadState(),
        )  # fmt: skip
        self.leads[lead.id] = lead
        return lead

    # -- the protocol --------------------------------------------------------------------
    def campaigns(self) -> list[Campaign]:
        return [c for _, c in sorted(self.campaign_records.items()) if c.status == "running"]

    def due_leads(self, campaign_id: int, now: float, limit: int) -> list[LeadRecord]:
        due = [
            lead
            for lead in self.leads.values()
            if lead.campaign_id == campaign_id
            and lead.state.status in DUE_STATUSES
            and lead.state.next_attempt_at <= now
        ]
        return sorted(due, key=lambda lead: (lead.state.next_attempt_at, lead.id))[:limit]

    def claim(self, lead_id: int) -> bool:
        lead = self.leads.get(lead_id)
        if lead is None or lead.state.status not in DUE_STATUSES:
            return False
        self._save(lead, replace(lead.state, status="dialing"))
        return True

    def release_stale(self, now: float) -> int:
        stale = [lead for lead in self.leads.values() if lead.state.status == "dialing"]
        for lead in stale:
            self._save(lead, replace(lead.state, status="scheduled", next_attempt_at=now))
        return len(stale)

    def hold_unobserved(self, now: float, hold: float) -> int:
        held = set()
        for row in self.attempts.values():
            lead = self.leads.get(row["lead_id"] or 0)
            if lead is None or lead.state.status != "dialing":
                continue
            if row["dialled"] and row["outcome"] == "":
                row["outcome"] = "unobserved"
                held.add(lead.id)
        for lead_id in held:
            lead = self.leads[lead_id]
            state = replace(
                lead.state,
                status="scheduled",
                next_attempt_at=now + hold,
                last_outcome="unobserved",
            )
            self._save(lead, state)
        return len(held)

    def save_lead(self, lead_id: int, state: LeadState) -> None:
        if lead_id in self.leads:
            self._save(self.leads[lead_id], state)

    def _save(self, lead: LeadRecord, state: LeadState) -> None:
        self.leads[lead.id] = replace(lead, state=state)

    def dnc_scopes(self, number: str, campaign: str) -> list[str]:
        wanted = ("site", f"campaign:{campaign}")
        return sorted(scope for scope, listed in self.dnc if listed == number and scope in wanted)

    def add_dnc(self, scope: str, number: str, now: float) -> None:
        self.dnc.add((scope, number))

    def add_attempt(self, attempt: NewDialAttempt, call: CallRecord | None) -> int:
        attempt_id = next(self._attempt_ids)
        row = dict(ATTEMPT_DEFAULTS)
        _set(row, asdict(attempt))
        self.attempts[attempt_id] = row
        if call is not None:
            self.calls[call.id] = call
        return attempt_id

    def finish_attempt(
        self, attempt_id: int, call_id: str, end: dict[str, Any], ended_at: float
    ) -> None:
        if attempt_id in self.attempts:
            _set(self.attempts[attempt_id], end)
        call = self.calls.get(call_id)
        if call is not None and not end.get("agent_connected_at") and call.outcome == "":
            self.calls[call_id] = replace(call, outcome=end.get("outcome", ""), ended_at=ended_at)

    def sample(
        self, campaign_id: int, name: str, since: float, handle_since: float | None = None
    ) -> DialSample:
        dialled = [
            row
            for row in self.attempts.values()
            if row["campaign_id"] == campaign_id
            and row["at"] >= since
            and row["dialled"]
            and row["outcome"]
        ]
        answers = [r["answered_at"] - r["at"] for r in dialled if r["answered_at"] is not None]
        handle_from = since if handle_since is None else handle_since
        handled = sorted(
            (
                call
                for call in self.calls.values()
                if call.flow == f"campaign:{name}"[:32]
                and call.entered_at >= handle_from
                and call.talk_seconds is not None
            ),
            key=lambda call: -call.entered_at,
        )
        handles = [call.talk_seconds + (call.wrapup_seconds or 0.0) for call in handled]
        return DialSample(
            dials=len(dialled),
            connects=sum(1 for r in dialled if r["outcome"] in ("connected", "abandoned")),
            abandoned=sum(1 for r in dialled if r["abandoned"]),
            mean_answer_seconds=fmean(answers) if answers else None,
            mean_handle_seconds=fmean(handles) if handles else None,
            handle_times=tuple(handles[:200]),
            resolved=tuple(self._resolved(campaign_id, handle_from)[:500]),
        )

    def _resolved(self, campaign_id: int, since: float) -> list[tuple[float, bool]]:
        found = []
        for row in sorted(self.attempts.values(), key=lambda r: -r["at"]):
            call = self.calls.get(row["call_id"])
            if row["campaign_id"] != campaign_id or row["at"] < since or call is None:
                continue
            if not row["dialled"] or not row["outcome"]:
                continue
            end = row["answered_at"] if row["answered_at"] is not None else call.ended_at
            if end is not None:
                found.append((end - row["at"], row["outcome"] in ("connected", "abandoned")))
        return found


class FakeDialRefusals:
    def __init__(self) -> None:
        self.rows: list[DialRefusal] = []

    def add(self, refusal: DialRefusal) -> int:
        self.rows.append(refusal)
        return len(self.rows)

    def recent(self, since: float, offset: int, limit: int) -> tuple[list[DialRefusal], int]:
        # Newest first; of two at the same instant, the later written first (as by id).
        kept = [(r.at, i, r) for i, r in enumerate(self.rows) if r.at >= since]
        ordered = [r for _, _, r in sorted(kept, key=lambda t: (t[0], t[1]), reverse=True)]
        return ordered[offset : offset + limit], len(ordered)

    def counts(self, since: float, until: float) -> dict[str, int]:
        found: dict[str, int] = {}
        for row in self.rows:
            if since <= row.at < until:
                found[row.reason] = found.get(row.reason, 0) + 1
        return found


class FakeVoicemails:
    """Voicemail messages in memory; no call records, so a message keeps the box's queue."""

    def __init__(self) -> None:
        self.rows: dict[int, Voicemail] = {}

    def known(self, msg_ids: Iterable[str]) -> set[str]:
        stored = {v.msg_id for v in self.rows.values()}
        return {m for m in msg_ids if m in stored}

    def add(self, message: LeftMessage, queue: str, path: str) -> int:
        if message.msg_id in self.known([message.msg_id]):
            raise ValueError(f"message {message.msg_id} is stored already")
        new_id = len(self.rows) + 1
        self.rows[new_id] = Voicemail(
            id=new_id, msg_id=message.msg_id, box=message.box, queue=queue,
            call_id=message.call_id, caller_number=message.caller_number,
            caller_name=message.caller_name, left_at=message.left_at,
            duration=message.duration, path=path, status=NEW, owner="", handled_by="",
            handled_at=None, callback_id=None, ivr_path=[],
        )  # fmt: skip
        return new_id

    def search(
        self, queues: list[str] | None, queue: str = "", status: str = "", limit: int = 200
    ) -> list[Voicemail]:
        found = [
            v
            for v in self.rows.values()
            if (queues is None or v.queue in queues)
            and (not queue or v.queue == queue)
            and (not status or v.status == status or (status == OPEN and v.status != HANDLED))
        ]
        return sorted(found, key=lambda v: (v.left_at, v.id), reverse=True)[:limit]

    def get(self, voicemail_id: int) -> Voicemail | None:
        return self.rows.get(voicemail_id)

    def take(self, voicemail_id: int, who: str) -> bool:
        found = self.rows.get(voicemail_id)
        if found is None or not (
            found.status == NEW or (found.status == TAKEN and found.owner == who)
        ):
            return False
        self.rows[voicemail_id] = replace(found, status=TAKEN, owner=who)
        return True

    def handled(self, voicemail_id: int, who: str, at: float) -> None:
        if voicemail_id in self.rows:
            self.rows[voicemail_id] = replace(
                self.rows[voicemail_id], status=HANDLED, handled_by=who, handled_at=at
            )

    def called_back(self, voicemail_id: int, callback_id: int) -> None:
        if voicemail_id in self.rows:
            self.rows[voicemail_id] = replace(self.rows[voicemail_id], callback_id=callback_id)

    def left_between(self, since: float, until: float, limit: int = 100_000) -> list[Voicemail]:
        found = [v for v in self.rows.values() if since <= v.left_at < until]
        return sorted(found, key=lambda v: v.left_at)[:limit]

    def left_before(self, cutoff: float, limit: int) -> list[Voicemail]:
        return sorted((v for v in self.rows.values() if v.left_at < cutoff), key=lambda v: v.id)[
            :limit
        ]

    def delete(self, ids: Iterable[int]) -> int:
        gone = [i for i in set(ids) if i in self.rows]
        for i in gone:
            del self.rows[i]
        return len(gone)


class FakeSurveyResults:
    """Surveys in memory; no call records, so no disposition unless ``dispositions`` has it."""

    def __init__(self) -> None:
        self.rows: list[SurveyResult] = []
        self.dispositions: dict[str, str] = {}  # call id -> disposition

    def add(self, result: SurveyResult) -> int:
        self.rows.append(result)
        return len(self.rows)

    def between(self, since: float, until: float, queue: str = "") -> list[SurveyResult]:
        kept = [
            (r.at, i, replace(r, disposition=self.dispositions.get(r.call_id, "")))
            for i, r in enumerate(self.rows)
            if since <= r.at < until and (not queue or r.queue == queue)
        ]
        return [r for _, _, r in sorted(kept, key=lambda t: (t[0], t[1]))]
