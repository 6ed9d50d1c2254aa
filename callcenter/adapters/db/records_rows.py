"""One batch of call-record writes on one connection (adapters/db/records_writer.py).

Rows that nothing in the batch reads back are gathered per table and sent with
one executemany; before any other statement on a table its gathered rows go
first, and at the end every table's, so each table receives its rows and
changes in the order the events came. Statements are built once and given
their values as parameters (building and keying a statement costs more than
running it). Rows that only ever hold the latest values of something (an
agent's current state) are set once per batch with the last values given
(``latest``): the same row at commit, one statement instead of one per change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Executable,
    Insert,
    Table,
    Update,
    bindparam,
    insert,
    update,
)

from callcenter.adapters.db.models import Base

KEY = "key_"  # the parameter naming the row in Rows.update


def table(name: str) -> Table:
    return Base.metadata.tables[name]


def by_key(on: Table, column: str) -> Update:
    """UPDATE ``on`` WHERE ``column`` = :key_; SET from the parameters given at execution."""
    return update(on).where(on.c[column] == bindparam(KEY))


# Statements built once for the process: a new statement object costs its building and
# its cache key at every execution (SQLAlchemy keeps the key on the object).
_UPDATES: dict[tuple[Table, str], Update] = {}
_INSERTS: dict[Table, Insert] = {}


def update_by_key(on: Table, column: str) -> Update:
    statement = _UPDATES.get((on, column))
    if statement is None:
        statement = _UPDATES[(on, column)] = by_key(on, column)
    return statement


def insert_into(into: Table) -> Insert:
    """INSERT INTO ``into``, its values given as parameters at execution."""
    statement = _INSERTS.get(into)
    if statement is None:
        statement = _INSERTS[into] = insert(into)
    return statement


class Rows:
    def __init__(self, connection: Connection, order: tuple[Table, ...]) -> None:
        """``order``: the gathered tables, in the order they are sent at the end."""
        self.connection = connection
        self._gathered: dict[Table, list[dict[str, Any]]] = {t: [] for t in order}
        self._latest: dict[Table, tuple[str, dict[Any, dict[str, Any]]]] = {}

    def add(self, into: Table, **values: Any) -> None:
        """A new row for ``into``, sent later (``into`` must be one of the gathered tables)."""
        self._gathered[into].append(values)

    def latest(self, on: Table, column: str, key: Any, **values: Any) -> None:
        """The row of ``on`` whose ``column`` is ``key`` is to hold ``values`` (all the
        columns it sets: the last call for a key wins), inserted if there is none;
        written before any other statement on ``on`` and at the end."""
        _, rows = self._latest.setdefault(on, (column, {}))
        rows[key] = values

    def execute(
        self, on: Table, statement: Executable, parameters: dict[str, Any] | None = None
    ) -> CursorResult[Any]:
        """Run ``statement`` (on table ``on``) after that table's gathered rows."""
        self.send(on)
        return self.connection.execute(statement, parameters)

    def update(self, on: Table, column: str, key: Any, **values: Any) -> CursorResult[Any]:
        """Set ``values`` on the rows of ``on`` whose ``column`` is ``key``."""
        return self.execute(on, update_by_key(on, column), {KEY: key, **values})

    def send(self, into: Table) -> None:
        rows = self._gathered.get(into)
        if rows:
            self._gathered[into] = []
            self.connection.execute(insert_into(into), rows)
        latest = self._latest.pop(into, None)
        if latest is not None:
            column, values = latest
            for key, row in values.items():
                if self.update(into, column, key, **row).rowcount == 0:
                    self.connection.execute(insert_into(into), {column: key, **row})

    def finish(self) -> None:
        for gathered in list(self._gathered):
            self.send(gathered)
        for table_ in list(self._latest):
            self.send(table_)
