"""Customer records for caller lookup, account verification and screen pops.

PINs are stored as salted hashes (werkzeug's PBKDF2); the IVR compares what
the caller typed against the hash and never keeps the PIN itself.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from callcenter.adapters.db.models import CustomerNumberRow, CustomerRow
from callcenter.core.customers import Customer


class CustomerRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(
        self,
        session: Session,
        name: str,
        account: str | None,
        pin: str,
        tier: str,
        numbers: list[str],
        notes: str = "",
    ) -> int:
        row = None
        if account:
            row = session.scalars(select(CustomerRow).where(CustomerRow.account == account)).first()
        if row is None:
            row = CustomerRow(name=name, account=account or None)
            session.add(row)
        row.name, row.tier, row.notes = name, tier, notes
        row.pin_hash = generate_password_hash(pin) if pin else ""
        session.flush()
        for number in numbers:
            session.merge(CustomerNumberRow(number=number, customer_id=row.id))
        return row.id

    def by_number(self, number: str) -> Customer | None:
        if not number:
            return None
        with self._sessions() as session:
            link = session.get(CustomerNumberRow, number)
            return self._load(session, link.customer_id) if link else None

    def by_account(self, account: str) -> Customer | None:
        if not account:
            return None
        with self._sessions() as session:
            row = session.scalars(select(CustomerRow).where(CustomerRow.account == account)).first()
            return self._load(session, row.id) if row else None

    def get(self, customer_id: int) -> Customer | None:
        with self._sessions() as session:
            return self._load(session, customer_id)

    def check_pin(self, customer_id: int, pin: str) -> bool:
        with self._sessions() as session:
            row = session.get(CustomerRow, customer_id)
            return bool(row and row.pin_hash and pin and check_password_hash(row.pin_hash, pin))

    @staticmethod
    def _load(session: Session, customer_id: int) -> Customer | None:
        row = session.get(CustomerRow, customer_id)
        if row is None:
            return None
        numbers = session.scalars(
            select(CustomerNumberRow.number).where(CustomerNumberRow.customer_id == row.id)
        )
        return Customer(
            row.id, row.name, row.account or "", row.tier, tuple(numbers), bool(row.pin_hash)
        )
