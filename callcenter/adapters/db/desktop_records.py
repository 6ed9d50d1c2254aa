"""What the desktop reads from the database: calls, customers, earlier calls.

Blocking reads: the desktop service runs them in a worker thread
(asyncio.to_thread), never on the controller's event loop.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.call_records import call_record
from callcenter.adapters.db.customers import CustomerRepository
from callcenter.adapters.db.models import CallRow, CustomerRow
from callcenter.core.calls.record import CallRecord
from callcenter.core.customers import Customer
from callcenter.core.repeat_contacts import number_spellings
from callcenter.services.console.desktop_pop import CallFacts, CustomerCard, CustomerLookups

HISTORY_LIMIT = 10


class DesktopRecords:
    def __init__(self, sessions: sessionmaker[Session], customers: CustomerRepository) -> None:
        self._sessions = sessions
        self._customers = customers
        self.lookups = CustomerLookups(
            by_id=lambda customer_id: self._card(customers.get(customer_id)),
            by_account=lambda account: self._card(customers.by_account(account)),
            by_number=lambda number: self._card(customers.by_number(number)),
        )

    def call(self, call_id: str) -> CallFacts | None:
        with self._sessions() as session:
            row = session.get(CallRow, call_id)
            return CallFacts.from_record(call_record(row)) if row is not None else None

    def earlier_calls(
        self, facts: CallFacts, customer: CustomerCard | None, limit: int = HISTORY_LIMIT
    ) -> list[CallRecord]:
        """This customer's earlier calls (by record or by their own numbers); with
        no customer, the earlier calls from the same number. Newest first."""
        if customer is not None:
            numbers = set(customer.numbers)
            matches = [CallRow.customer_id == customer.id]
        else:
            # The same number however it was written: +12025550143, 2025550143, ...
            numbers = number_spellings(facts.caller)
            matches = []
        if numbers:
            matches.append(CallRow.caller_number.in_(sorted(numbers)))
        if not matches:
            return []
        with self._sessions() as session:
            rows = session.scalars(
                select(CallRow)
                .where(or_(*matches), CallRow.id != facts.call_id)
                .where(CallRow.entered_at < facts.entered_at)
                .order_by(CallRow.entered_at.desc())
                .limit(limit)
            )
            return [call_record(row) for row in rows]

    def last_unwrapped(self, agent: str, since: float) -> CallFacts | None:
        """The agent's latest answered call still without a disposition (after-call work
        when the queue gives no wrap-up time, or it ran out before the agent saved)."""
        with self._sessions() as session:
            row = session.scalars(
                select(CallRow)
                .where(
                    CallRow.agent == agent,
                    CallRow.answered_at.is_not(None),
                    CallRow.disposition == "",
                    CallRow.entered_at >= since,
                )
                .order_by(CallRow.entered_at.desc())
                .limit(1)
            ).first()
            return CallFacts.from_record(call_record(row)) if row is not None else None

    def _card(self, customer: Customer | None) -> CustomerCard | None:
        if customer is None:
            return None
        with self._sessions() as session:
            # The repository's record leaves the notes out; the PIN hash is never read.
            notes = session.scalar(select(CustomerRow.notes).where(CustomerRow.id == customer.id))
        return CustomerCard(
            id=customer.id,
            name=customer.name,
            account=customer.account,
            tier=customer.tier,
            numbers=list(customer.numbers),
            notes=notes or "",
        )
