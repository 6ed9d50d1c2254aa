"""Every CSV the console hands out: RFC 4180, and no cell a spreadsheet would run.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read by Excel or LibreOffice as a formula (``=cmd|' /C calc'!A0``
starts a program): such text gets a leading apostrophe, which spreadsheets
show as text and do not run. Numbers stay numbers (the writer gets them as
numbers, so -5 is not text). Names, numbers keyed by callers, lead fields:
whatever came from outside goes through ``cell``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response

RISKY = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet will not run; None is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(RISKY):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; quotes what needs it
    writer.writerow([cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return out.getvalue()


def csv_response(text: str, filename: str) -> Response:
    """``text`` as a download named ``filename`` (letters, digits, . _ - only)."""
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in filename)
    return Response(
        text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{safe}"'}
    )


def csv_doc(rows: str, **others: str) -> dict[int | str, dict[str, Any]]:
    """An operation's documented answers: 200 as CSV (one row per ``rows``), and
    ``others`` by status (``not_found="No such campaign"`` is 404)."""
    statuses = {"not_found": 404, "unprocessable": 422}
    doc: dict[int | str, dict[str, Any]] = {
        200: {"description": f"CSV, one row per {rows}", "content": {"text/csv": {}}}
    }
    for name, text in others.items():
        doc[statuses[name]] = {"description": text}
    return doc
