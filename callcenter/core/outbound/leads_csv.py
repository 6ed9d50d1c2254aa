"""Reading a campaign's lead list from a CSV file, one row at a time.

The file as a whole is refused (``CsvFileError``) only when no row can be
trusted: a header with unknown or missing columns (named in the message),
an empty file, or bytes that are no text. Otherwise every row either becomes
a ``LeadIn`` or a ``BadRow`` with its line number and reason: the good rows
are imported, the bad ones reported, nothing is silently dropped (only
blank lines are skipped, and counted).

Columns: ``phone`` (also ``number``, ``phone_number``) is required;
``first_name``, ``last_name``, ``name`` (split into first and last when
those are absent), ``account`` and ``timezone`` (IANA, e.g.
America/Chicago) are optional; any column named ``data_<key>`` is kept as a
custom field. Header names are matched without regard to case, spaces or
dashes. The delimiter is the header's most frequent of , ; and tab.

Encoding, decided once for the whole file before any row is read:
1. a byte-order mark says it (UTF-8, UTF-16);
2. otherwise the file is UTF-8 if every byte of it decodes as UTF-8;
3. otherwise it is read as Windows-1252 (what spreadsheets save as "CSV" on
   Windows) with a warning naming the first line that is not UTF-8, since
   accented names may then be wrong; digits and Latin letters always survive;
4. a byte Windows-1252 does not define, or NUL bytes (UTF-16 without a mark,
   a spreadsheet's binary format), refuses the file, naming the line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from callcenter.core.outbound.numbers import BadNumber, normalise
from callcenter.core.outbound.zones import check_zone

REQUIRED = "phone"
ALIASES = {
    "number": "phone",
    "phone_number": "phone",
    "telephone": "phone",
    "tz": "timezone",
    "time_zone": "timezone",
}
OPTIONAL = ("first_name", "last_name", "name", "account", "timezone")
CUSTOM = re.compile(r"^data_([a-z0-9_]{1,32})$")
LIMITS = {"first_name": 64, "last_name": 64, "name": 129, "account": 32, "timezone": 48}
CUSTOM_LIMIT = 200
RAW_LIMIT = 200  # characters of a bad row kept in its report
CHUNK = 1 << 16
DELIMITERS = (",", ";", "\t")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class CsvFileError(ValueError):
    """The file cannot be read as a lead list at all; the message says why."""


@dataclass(frozen=True, slots=True)
class LeadIn:
    line: int
    phone: str  # E.164
    first_name: str = ""
    last_name: str = ""
    account: str = ""
    timezone: str = ""
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str
    text: str  # the row as read, cut to RAW_LIMIT characters

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "reason": self.reason, "text": self.text}


@dataclass(frozen=True, slots=True)
class Encoding:
    name: str
    warning: str = ""


# -- encoding -----------------------------------------------------------------------------------
def detect_encoding(stream: BinaryIO) -> Encoding:
    """Decide how to read the whole (seekable) file; leaves the stream at its start."""
    start = stream.tell()
    head = stream.read(4)
    stream.seek(start)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return Encoding(name)
    try:
        bad_line = _first_line_not(stream, "utf-8")
        if bad_line is None:
            return Encoding("utf-8")
        cp1252_line = _first_line_not(stream, "cp1252")
    finally:
        stream.seek(start)
    if cp1252_line is not None:
        raise CsvFileError(
            f"line {cp1252_line}: the file is neither UTF-8 nor Windows-1252 text; "
            "save it as CSV UTF-8"
        )
    return Encoding(
        "cp1252",
        f"the file is not UTF-8 (line {bad_line} is the first that is not): it was read as "
        "Windows-1252; check names with accents, or save it as CSV UTF-8 and import again",
    )


def _first_line_not(stream: BinaryIO, encoding: str) -> int | None:
    """The line of the first byte that ``encoding`` cannot decode (or a NUL); None if all can."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    line = 1
    while chunk := stream.read(CHUNK):
        if b"\x00" in chunk:
            where = line + chunk.count(b"\n", 0, chunk.index(b"\x00"))
            raise CsvFileError(
                f"line {where}: NUL bytes: this is not a text CSV "
                "(UTF-16 without a byte-order mark, or a spreadsheet's own format?)"
            )
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return line + chunk.count(b"\n", 0, max(0, exc.start))
        line += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return line  # the file ends inside a character
    return None


# -- header -----------------------------------------------------------------------------------
def canonical(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    return ALIASES.get(key, key)


def check_header(names: list[str]) -> tuple[str, ...]:
    """Canonical column names, or CsvFileError naming every wrong column."""
    if not names or all(not n.strip() for n in names):
        raise CsvFileError("line 1: no header: the first line must name the columns")
    columns = tuple(canonical(n) for n in names)
    unknown = [
        raw for raw, col in zip(names, columns, strict=True) if not _known_column(col) or not col
    ]
    problems = []
    if unknown:
        problems.append(f"unknown columns {', '.join(repr(u) for u in unknown)}")
        if any(re.fullmatch(r"[\s0-9+()\-.]{6,}", u) for u in unknown):
            problems.append("the first line looks like a lead: the file needs a header line")
    doubled = sorted({c for c in columns if c and columns.count(c) > 1})
    if doubled:
        problems.append(f"columns given twice: {', '.join(doubled)}")
    if REQUIRED not in columns:
        problems.append("no phone column (also accepted: number, phone_number, telephone)")
    if problems:
        accepted = f"{REQUIRED}, {', '.join(OPTIONAL)}, and custom fields named data_<key>"
        raise CsvFileError(f"line 1: {'; '.join(problems)}. Accepted columns: {accepted}")
    return columns


def _known_column(column: str) -> bool:
    return column == REQUIRED or column in OPTIONAL or bool(CUSTOM.fullmatch(column))


def _delimiter(first_line: str) -> str:
    return (
        max(DELIMITERS, key=first_line.count) if any(d in first_line for d in DELIMITERS) else ","
    )


# -- rows -------------------------------------------------------------------------------------
class LeadReader:
    """Reads a lead CSV row by row; ``rows()`` yields LeadIn or BadRow.

    ``existing`` holds the campaign's numbers already in the database (E.164).
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        default_region: str = "US",
        existing: Container[str] = frozenset(),
    ) -> None:
        self.encoding = detect_encoding(stream)
        self._binary = stream
        self._text = io.TextIOWrapper(stream, encoding=self.encoding.name, newline="")
        first = self._text.readline()
        self._text.seek(0)
        self._reader = csv.reader(self._text, delimiter=_delimiter(first))
        try:
            self.columns = check_header(next(self._reader, []))
        except csv.Error as exc:
            raise CsvFileError(f"line 1: unreadable header: {exc}") from None
        self.region = default_region
        self.existing = existing
        self.blank_lines = 0
        self._seen: dict[str, int] = {}

    def position(self) -> int:
        """Bytes of the file read so far (for a progress bar)."""
        return self._binary.tell()

    def rows(self) -> Iterator[LeadIn | BadRow]:
        while True:
            line = self._reader.line_num + 1
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield BadRow(line, f"unreadable CSV: {exc}", "")
                continue
            if not any(cell.strip() for cell in row):
                self.blank_lines += 1
                continue
            yield self._row(line, row)

    def _row(self, line: int, row: list[str]) -> LeadIn | BadRow:
        text = self._reader.dialect.delimiter.join(row)[:RAW_LIMIT]
        try:
            lead = lead_from_fields(
                line,
                dict(zip(self.columns, row, strict=False)),
                self.region,
                len(row),
                len(self.columns),
            )
        except ValueError as exc:
            return BadRow(line, str(exc), text)
        if lead.phone in self._seen:
            return BadRow(
                line, f"duplicate: {lead.phone} is on line {self._seen[lead.phone]}", text
            )
        if lead.phone in self.existing:
            return BadRow(line, f"duplicate: {lead.phone} is already a lead of this campaign", text)
        self._seen[lead.phone] = line
        return lead


def lead_from_fields(
    line: int, fields: dict[str, str], region: str, got: int | None = None, want: int | None = None
) -> LeadIn:
    """One lead from its named fields (a CSV row, or a lead sent to the API); ValueError if bad."""
    if got is not None and want is not None and got != want:
        raise ValueError(f"{got} fields where the header has {want}")
    values = {k: v.strip() for k, v in fields.items()}
    for key, value in values.items():
        limit = LIMITS.get(key, CUSTOM_LIMIT)
        if len(value) > limit:
            raise ValueError(f"{key} is longer than {limit} characters")
        if _CONTROL.search(value):
            raise ValueError(f"{key} holds control characters")
    try:
        phone = normalise(values.get(REQUIRED, ""), region)
    except BadNumber as exc:
        raise ValueError(f"bad number: {exc}") from None
    zone = values.get("timezone", "")
    if zone:
        check_zone(zone)
    first, last = values.get("first_name", ""), values.get("last_name", "")
    if not first and not last and values.get("name"):
        first, _, last = values["name"].partition(" ")
        first, last = first[: LIMITS["first_name"]], last.strip()[: LIMITS["last_name"]]
    data = {m.group(1): v for k, v in values.items() if (m := CUSTOM.fullmatch(k)) and v}
    return LeadIn(line, phone, first, last, values.get("account", ""), zone, data)
