"""Vet caller-supplied identity before it goes anywhere (pure).

Caller ID number and name come from the far end and may hold anything. Only
the vetted forms reach the dialplan, the database or an agent's screen.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_NUMBER = re.compile(r"^\+?[0-9]{1,20}$")
MAX_NAME = 40


@dataclass(frozen=True, slots=True)
class CallerId:
    number: str  # "" when withheld or malformed
    name: str
    valid: bool  # False when the far end sent something that is not a number


def vet_number(raw: str) -> tuple[str, bool]:
    text = raw.strip()
    if text.lower() in ("", "unknown", "anonymous", "<unknown>", "restricted", "private"):
        return "", True
    compact = re.sub(r"[\s().-]", "", text)
    if _NUMBER.match(compact):
        return compact, True
    return "", False


def vet_name(raw: str) -> str:
    kept = []
    for char in raw:
        category = unicodedata.category(char)
        if category[0] in "LN" or char in " .'-&":
            kept.append(char)
    return " ".join("".join(kept).split())[:MAX_NAME].rstrip()


def vet_caller_id(number: str, name: str) -> CallerId:
    vetted, ok = vet_number(number)
    clean_name = vet_name(name)
    if clean_name.lower() in ("unknown", "anonymous"):
        clean_name = ""
    return CallerId(vetted, clean_name, ok)
