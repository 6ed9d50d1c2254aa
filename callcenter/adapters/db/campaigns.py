"""Campaigns as the console manages them: settings, leads, imports, DNC lists, figures.

(The dialer's own reads and writes while dialling are in dialer_store.py.)
Every method is one short transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.models import (
    CampaignRow,
    DialAttemptRow,
    DncRow,
    LeadImportRow,
    LeadRow,
)
from callcenter.core.outbound.leads_csv import LeadIn
from callcenter.core.outbound.records import (
    Campaign,
    CampaignExists,
    Figures,
    LeadImport,
    LeadRecord,
)
from callcenter.core.outbound.retry import LeadState


def campaign_record(row: CampaignRow) -> Campaign:
    return Campaign(row.id, row.name, dict(row.settings or {}), row.status, row.created_at)


def lead_record(row: LeadRow) -> LeadRecord:
    state = LeadState(
        status=row.status,  # type: ignore[arg-type]  # the column holds LeadStatus values
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_attempt_at=row.last_attempt_at,
        last_outcome=row.last_outcome,
        last_abandoned_at=row.last_abandoned_at,
    )
    return LeadRecord(
        row.id,
        row.campaign_id,
        row.phone,
        row.first_name,
        row.last_name,
        row.account,
        row.timezone,
        dict(row.data or {}),
        state,
    )


def lead_import_record(row: LeadImportRow) -> LeadImport:
    return LeadImport(
        row.id,
        row.campaign_id,
        row.filename,
        row.started_at,
        row.finished_at,
        row.rows,
        row.good,
        row.bad,
        list(row.errors or []),
        row.status,
        row.size_bytes,
        row.read_bytes,
        row.encoding,
        row.warning,
    )


class CampaignRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # -- campaigns ----------------------------------------------------------------------------
    def create(self, name: str, settings: dict[str, Any], now: float) -> Campaign:
        try:
            with self._sessions.begin() as session:
                row = CampaignRow(name=name, settings=settings, status="paused", created_at=now)
                session.add(row)
                session.flush()
                return campaign_record(row)
        except IntegrityError:
            raise CampaignExists(name) from None

    def all(self) -> list[Campaign]:
        with self._sessions() as session:
            rows = session.scalars(select(CampaignRow).order_by(CampaignRow.name))
            return [campaign_record(r) for r in rows]

    def get(self, campaign_id: int) -> Campaign | None:
        with self._sessions() as session:
            row = session.get(CampaignRow, campaign_id)
            return campaign_record(row) if row is not None else None

    def update(self, campaign_id: int, **values: Any) -> bool:
        with self._sessions.begin() as session:
            done = session.execute(
                update(CampaignRow).where(CampaignRow.id == campaign_id).values(**values)
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    # -- leads --------------------------------------------------------------------------------
    def leads(self, campaign_id: int) -> Iterator[LeadRecord]:
        """Every lead of the campaign, by id, read in batches (an export)."""
        with self._sessions() as session:
            query = select(LeadRow).where(LeadRow.campaign_id == campaign_id)
            rows = session.scalars(query.order_by(LeadRow.id).execution_options(yield_per=1000))
            for row in rows:
                yield lead_record(row)

    def lead_numbers(self, campaign_id: int) -> set[str]:
        with self._sessions() as session:
            return set(
                session.scalars(select(LeadRow.phone).where(LeadRow.campaign_id == campaign_id))
            )

    def add_leads(self, campaign_id: int, leads: Sequence[LeadIn], now: float) -> list[LeadIn]:
        """Insert all in one transaction; if any is already there, one by one.

        Returns the leads refused as duplicates (another import or the API
        added the same number meanwhile), so the caller can report them.
        """
        if not leads:
            return []
        try:
            with self._sessions.begin() as session:
                session.add_all(_lead_row(campaign_id, lead, now) for lead in leads)
            return []
        except IntegrityError:
            pass
        refused = []
        for lead in leads:
            try:
                with self._sessions.begin() as session:
                    session.add(_lead_row(campaign_id, lead, now))
            except IntegrityError:
                refused.append(lead)
        return refused

    # -- imports ------------------------------------------------------------------------------
    def start_import(self, campaign_id: int, filename: str, size: int, now: float) -> int:
        with self._sessions.begin() as session:
            row = LeadImportRow(
                campaign_id=campaign_id,
                filename=filename,
                started_at=now,
                size_bytes=size,
                rows=0,
                good=0,
                bad=0,
                errors=[],
                status="running",
            )
            session.add(row)
            session.flush()
            return row.id

    def update_import(self, import_id: int, **values: Any) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(LeadImportRow).where(LeadImportRow.id == import_id).values(**values)
            )

    def get_import(self, import_id: int) -> LeadImport | None:
        with self._sessions() as session:
            row = session.get(LeadImportRow, import_id)
            return lead_import_record(row) if row is not None else None

    def imports(self, campaign_id: int, limit: int = 20) -> list[LeadImport]:
        with self._sessions() as session:
            rows = session.scalars(
                select(LeadImportRow)
                .where(LeadImportRow.campaign_id == campaign_id)
                .order_by(LeadImportRow.id.desc())
                .limit(limit)
            )
            return [lead_import_record(r) for r in rows]

    def running_imports(self) -> list[LeadImport]:
        with self._sessions() as session:
            rows = session.scalars(select(LeadImportRow).where(LeadImportRow.status == "running"))
            return [lead_import_record(r) for r in rows]

    # -- do not call --------------------------------------------------------------------------
    def add_dnc(self, scope: str, numbers: Iterable[str], source: str, now: float) -> int:
        wanted = set(numbers)
        with self._sessions.begin() as session:
            have = set(
                session.scalars(
                    select(DncRow.number).where(DncRow.scope == scope, DncRow.number.in_(wanted))
                )
            )
            session.add_all(
                DncRow(scope=scope, number=n, added_at=now, source=source)
                for n in sorted(wanted - have)
            )
        return len(wanted - have)

    def remove_dnc(self, scope: str, number: str) -> bool:
        with self._sessions.begin() as session:
            done = session.execute(
                delete(DncRow).where(DncRow.scope == scope, DncRow.number == number)
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def dnc(self, scope: str, offset: int, limit: int) -> tuple[list[tuple[str, float, str]], int]:
        with self._sessions() as session:
            total = session.scalar(select(func.count()).where(DncRow.scope == scope)) or 0
            rows = session.execute(
                select(DncRow.number, DncRow.added_at, DncRow.source)
                .where(DncRow.scope == scope)
                .order_by(DncRow.number)
                .offset(offset)
                .limit(limit)
            )
            return [(n, at, src) for n, at, src in rows], total

    # -- figures ------------------------------------------------------------------------------
    def figures(self, campaign_id: int, since: float) -> Figures:
        with self._sessions() as session:
            leads = session.execute(
                select(LeadRow.status, func.count())
                .where(LeadRow.campaign_id == campaign_id)
                .group_by(LeadRow.status)
            )
            attempts = DialAttemptRow.campaign_id == campaign_id, DialAttemptRow.at >= since
            outcomes = session.execute(
                select(DialAttemptRow.outcome, func.count())
                .where(*attempts)
                .group_by(DialAttemptRow.outcome)
            )
            totals = session.execute(
                select(
                    func.count(),
                    func.count().filter(DialAttemptRow.dialled.is_(True)),
                    func.count().filter(
                        DialAttemptRow.answered_at.is_not(None),
                        DialAttemptRow.amd_result.in_(("", "HUMAN", "NOTSURE")),
                    ),
                    func.count().filter(DialAttemptRow.agent_connected_at.is_not(None)),
                    func.count().filter(DialAttemptRow.abandoned.is_(True)),
                ).where(*attempts)
            ).one()
            return Figures(
                leads={status: n for status, n in leads},
                attempts=totals[0],
                dialled=totals[1],
                live_answered=totals[2],
                connected=totals[3],
                abandoned=totals[4],
                outcomes={outcome or "(none yet)": n for outcome, n in outcomes},
            )


def _lead_row(campaign_id: int, lead: LeadIn, now: float) -> LeadRow:
    return LeadRow(
        campaign_id=campaign_id,
        phone=lead.phone,
        first_name=lead.first_name,
        last_name=lead.last_name,
        account=lead.account,
        timezone=lead.timezone,
        data=dict(lead.data),
        status="new",
        attempts=0,
        next_attempt_at=0.0,
        last_outcome="",
        created_at=now,
    )
