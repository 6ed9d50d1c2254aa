"""Phone numbers of leads: one written form (E.164) and the time zones they ring in.

Every number the dialer keeps, compares (DNC lists, duplicates) or dials goes
through ``normalise`` first, so "+1 (212) 555-0100", "212-555-0100" (national,
region US) and "0012125550100" are the same lead and the same DNC entry.
``phonenumbers`` (Google's libphonenumber data) knows each country's numbering
plan and the time zones of its area codes; we keep only numbers it calls valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import timezone as number_zones

E164 = re.compile(r"\+[1-9][0-9]{6,14}")  # whole text (fullmatch): "$" lets "\n" through
MAX_INPUT = 40  # longer than any written form of a real number
_SEPARATORS = re.compile(r"[\s().\-/]")
_UNKNOWN_ZONE = "Etc/Unknown"


class BadNumber(ValueError):
    """A lead's number cannot be dialled; the message says why."""


@dataclass(frozen=True, slots=True)
class NumberZones:
    """The IANA zones a number may ring in (several for some area codes, toll-free)."""

    zones: tuple[str, ...]
    country: str  # ISO 3166 region code, "" when the number belongs to none (e.g. +800)


def normalise(raw: str, default_region: str = "US") -> str:
    """E.164 form of ``raw``, read as a national number of ``default_region`` without a +.

    Raises BadNumber for anything that is not a valid, dialable number.
    """
    text = raw.strip()
    if not text:
        raise BadNumber("no number")
    if len(text) > MAX_INPUT:
        raise BadNumber(f"too long ({len(text)} characters)")
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):  # international prefix written out
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+?[0-9]+", compact):
        raise BadNumber(f"{raw.strip()!r} is not a phone number (digits, spaces, + ( ) - . only)")
    try:
        parsed = phonenumbers.parse(compact, None if compact.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise BadNumber(f"{compact!r}: {exc}") from None
    if not phonenumbers.is_valid_number(parsed):
        region = phonenumbers.region_code_for_number(parsed) or default_region
        raise BadNumber(f"{compact!r} is not a valid number (numbering plan of {region})")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_e164(number: str) -> bool:
    return E164.fullmatch(number) is not None


def zones_of(number: str) -> NumberZones:
    """The zones of an E.164 number (from its country and area code); empty if unknown."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return NumberZones((), "")
    zones = tuple(z for z in number_zones.time_zones_for_number(parsed) if z != _UNKNOWN_ZONE)
    return NumberZones(zones, phonenumbers.region_code_for_number(parsed) or "")
