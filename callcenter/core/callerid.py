"""Vet caller-supplied identity before it goes anywhere (pure).

Caller ID number and name come from the far end and may hold anything. Only
the vetted forms reach the dialplan, the database or an agent's screen.

A number that the numbering plan knows (read as national in the site's
country when it has no +) is kept in E.164 form, so ``2125550100`` and
``+12125550100`` are the same customer; anything else that is digits (an
extension, a short code) is kept as sent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from callcenter.core.outbound.numbers import BadNumber, normalise

_NUMBER = re.compile(r"\+?[0-9]{1,20}")
MAX_NAME = 40


@dataclass(frozen=True, slots=True)
class CallerId:
    number: str  # "" when withheld or malformed
    name: str
    valid: bool  # False when the far end sent something that is not a number


def vet_number(raw: str, region: str = "") -> tuple[str, bool]:
    """The number (E.164 when ``region`` is given and the number is valid), and whether
    what was sent was a number at all."""
    text = raw.strip()
    if text.lower() in ("", "unknown", "anonymous", "<unknown>", "restricted", "private"):
        return "", True
    compact = re.sub(r"[\s().-]", "", text)
    if not _NUMBER.fullmatch(compact):
        return "", False
    if region:
        try:
            return normalise(compact, region), True
        except BadNumber:
            pass
    return compact, True


def vet_name(raw: str) -> str:
    kept = []
    for char in raw:
        category = unicodedata.category(char)
        if category[0] in "LN" or char in " .'-&":
            kept.append(char)
    return " ".join("".join(kept).split())[:MAX_NAME].rstrip()


def vet_caller_id(number: str, name: str, region: str = "") -> CallerId:
    vetted, ok = vet_number(number, region)
    clean_name = vet_name(name)
    if clean_name.lower() in ("unknown", "anonymous"):
        clean_name = ""
    return CallerId(vetted, clean_name, ok)
