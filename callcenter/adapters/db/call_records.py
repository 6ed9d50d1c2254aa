"""A ``calls`` row to the core's CallRecord and back."""

from __future__ import annotations

from dataclasses import fields

from callcenter.adapters.db.models import CallRow
from callcenter.core.calls.record import CallRecord

_COLUMNS = tuple(f.name for f in fields(CallRecord))


def call_record(row: CallRow) -> CallRecord:
    values = {name: getattr(row, name) for name in _COLUMNS}
    values["ivr_path"] = tuple(row.ivr_path or ())
    values["data"] = dict(row.data or {})
    values["requirements"] = dict(row.requirements or {})
    return CallRecord(**values)


def call_row(record: CallRecord) -> CallRow:
    values = {name: getattr(record, name) for name in _COLUMNS}
    values["ivr_path"] = list(record.ivr_path)
    values["data"] = dict(record.data)
    values["requirements"] = dict(record.requirements)
    return CallRow(**values)
