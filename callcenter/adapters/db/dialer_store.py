"""What the dialer reads and writes: campaigns, due leads, DNC lists, the audit rows.

Every method is one short transaction, called from the event loop through
``asyncio.to_thread``. A lead is claimed (status ``dialing``) with a
conditional update, so two ticks never dial the same lead.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.call_records import call_row
from callcenter.adapters.db.campaigns import CampaignRepository, campaign_record, lead_record
from callcenter.adapters.db.models import (
    CallRow,
    CampaignRow,
    DialAttemptRow,
    DncRow,
    LeadRow,
)
from callcenter.core.calls.record import CallRecord
from callcenter.core.outbound.records import (
    Campaign,
    DialSample,
    LeadRecord,
    NewDialAttempt,
)
from callcenter.core.outbound.retry import TABLE, LeadState

DUE_STATUSES = tuple(sorted(TABLE["dial"]))  # the lead states a dial may start from
UNOBSERVED = "unobserved"  # an attempt dialled by a controller that died before its end


HANDLES = 200  # recent handle times pacing reads an agent's time on call against
RESOLVED = 500  # recent dials pacing reads a ringing call's age against


class DialerStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # -- campaigns and leads -----------------------------------------------------------
    def campaigns(self) -> list[Campaign]:
        """The running campaigns."""
        with self._sessions() as session:
            query = select(CampaignRow).where(CampaignRow.status == "running")
            return [campaign_record(row) for row in session.scalars(query.order_by(CampaignRow.id))]

    def due_leads(self, campaign_id: int, now: float, limit: int) -> list[LeadRecord]:
        with self._sessions() as session:
            rows = session.scalars(
                select(LeadRow)
                .where(
                    LeadRow.campaign_id == campaign_id,
                    LeadRow.status.in_(DUE_STATUSES),
                    LeadRow.next_attempt_at <= now,
                )
                .order_by(LeadRow.next_attempt_at, LeadRow.id)
                .limit(limit)
            )
            return [lead_record(r) for r in rows]

    def claim(self, lead_id: int) -> bool:
        """Take a due lead (status ``dialing``) for one attempt or a preview; False if
        someone else did. The attempt itself is counted when the call is placed."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(LeadRow)
                .where(LeadRow.id == lead_id, LeadRow.status.in_(DUE_STATUSES))
                .values(status="dialing")
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def release_stale(self, now: float) -> int:
        """Leads still ``dialing`` from a run that ended: due again; how many."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(LeadRow)
                .where(LeadRow.status == "dialing")
                .values(status="scheduled", next_attempt_at=now)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def hold_unobserved(self, now: float, hold: float) -> int:
        with self._sessions.begin() as session:
            open_attempt = (
                DialAttemptRow.lead_id.is_not(None),
                DialAttemptRow.dialled.is_(True),
                DialAttemptRow.outcome == "",
            )
            dialling = select(DialAttemptRow.lead_id).where(*open_attempt)
            leads = list(
                session.scalars(
                    select(LeadRow.id).where(LeadRow.status == "dialing", LeadRow.id.in_(dialling))
                )
            )
            if not leads:
                return 0
            session.execute(
                update(DialAttemptRow)
                .where(DialAttemptRow.lead_id.in_(leads), *open_attempt[1:])
                .values(outcome=UNOBSERVED)
            )
            session.execute(
                update(LeadRow)
                .where(LeadRow.id.in_(leads))
                .values(status="scheduled", next_attempt_at=now + hold, last_outcome=UNOBSERVED)
            )
            return len(leads)

    def save_lead(self, lead_id: int, state: LeadState) -> None:
        with self._sessions.begin() as session:
            session.execute(update(LeadRow).where(LeadRow.id == lead_id).values(**asdict(state)))

    def dnc_scopes(self, number: str, campaign: str) -> list[str]:
        """The DNC lists (site, campaign:<name>) that hold ``number``."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(DncRow.scope).where(
                        DncRow.number == number,
                        DncRow.scope.in_(("site", f"campaign:{campaign}")),
                    )
                )
            )

    def add_dnc(self, scope: str, number: str, now: float) -> None:
        """An agent's do-not-call disposition: the number goes on the campaign's list."""
        CampaignRepository(self._sessions).add_dnc(scope, [number], "agent disposition", now)

    # -- the audit -----------------------------------------------------------------------
    def add_attempt(self, attempt: NewDialAttempt, call: CallRecord | None) -> int:
        """One audit row (and the call's record, when it is dialled), written together."""
        row = DialAttemptRow(
            campaign_id=attempt.campaign_id,
            lead_id=attempt.lead_id,
            call_id=attempt.call_id,
            at=attempt.at,
            number=attempt.number,
            lead_local_time=attempt.lead_local_time,
            dnc_check=attempt.dnc_check,
            hours_check=attempt.hours_check,
            dialled=attempt.dialled,
            outcome=attempt.outcome,
        )
        with self._sessions.begin() as session:
            session.add(row)
            if call is not None:
                session.add(call_row(call))
            session.flush()
            return row.id

    def finish_attempt(
        self, attempt_id: int, call_id: str, end: dict[str, Any], ended_at: float
    ) -> None:
        """The attempt's result; a call that never reached an agent is closed here too
        (a connected one is closed by the call records from the ACD's events)."""
        with self._sessions.begin() as session:
            session.execute(
                update(DialAttemptRow).where(DialAttemptRow.id == attempt_id).values(**end)
            )
            if call_id and not end.get("agent_connected_at"):
                session.execute(
                    update(CallRow)
                    .where(CallRow.id == call_id, CallRow.outcome == "")
                    .values(outcome=end.get("outcome", ""), ended_at=ended_at)
                )

    def sample(
        self, campaign_id: int, name: str, since: float, handle_since: float | None = None
    ) -> DialSample:
        """What pacing learns from the campaign's dials since ``since`` (the rule's window)
        and from its talk and wrap-up times since ``handle_since`` (default: the same).

        Only dials that are over count: a call still ringing or on has no outcome
        yet, and counted as a dial it would read as one nobody answered."""
        row = DialAttemptRow
        live = row.outcome.in_(("connected", "abandoned"))
        with self._sessions() as session:
            dials, connects, abandoned, answer = session.execute(
                select(
                    func.count(row.id),
                    func.coalesce(func.sum(case((live, 1), else_=0)), 0),
                    func.coalesce(func.sum(case((row.abandoned, 1), else_=0)), 0),
                    func.avg(row.answered_at - row.at),
                ).where(
                    row.campaign_id == campaign_id,
                    row.at >= since,
                    row.dialled,
                    row.outcome != "",
                )
            ).one()
            handled = CallRow.talk_seconds + func.coalesce(CallRow.wrapup_seconds, 0)
            calls = (
                CallRow.flow == f"campaign:{name}"[:32],
                CallRow.entered_at >= (since if handle_since is None else handle_since),
                CallRow.talk_seconds.is_not(None),
            )
            handle = session.execute(select(func.avg(handled)).where(*calls)).scalar()
            recent = session.scalars(
                select(handled).where(*calls).order_by(CallRow.entered_at.desc()).limit(HANDLES)
            ).all()
            ended = session.execute(
                select(row.at, row.answered_at, CallRow.ended_at, live)
                .join(CallRow, CallRow.id == row.call_id)
                .where(
                    row.campaign_id == campaign_id,
                    row.at >= (since if handle_since is None else handle_since),
                    row.dialled,
                    row.outcome != "",
                )
                .order_by(row.at.desc())
                .limit(RESOLVED)
            ).all()
        times = tuple(float(t) for t in recent if t is not None)
        resolved = []
        for at, answered, end, needed in ended:
            stop = answered if answered is not None else end
            if stop is not None:
                resolved.append((float(stop - at), bool(needed)))
        return DialSample(
            int(dials), int(connects), int(abandoned), answer, handle, times, tuple(resolved)
        )
