"""First-contact resolution: which answered calls brought the caller back (pure).

- The caller: the identified customer where the call was matched to one, else
  the caller's number in E.164 form (read as a number of ``DEFAULT_REGION`` when
  it has no +), else its digits (internal extensions, odd numbers). Withheld
  numbers of unidentified callers are nobody: never a contact.
- A repeat contact: the same caller entering the same queue again within the
  queue's window (``repeat_window_hours``, 7 days by default) after an answered
  call, answered or not (a caller who rings back and gives up was not helped
  either).
- First-contact resolution (FCR): answered calls not followed by a repeat
  within the window / answered calls whose window has closed or that were
  repeated. A call whose window is still open with no repeat yet is pending:
  counted in neither part, as its outcome is not known.
- A repeat counts against the queue, the agent and the disposition of the
  answered call it follows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import phonenumbers

from callcenter.core.outbound.numbers import BadNumber, normalise

DEFAULT_REGION = "US"
DEFAULT_WINDOW_HOURS = 168.0


def caller_key(number: str, customer_id: int | None, region: str = DEFAULT_REGION) -> str:
    """Who called, as the repeat-contact rules compare them ("" for nobody known)."""
    if customer_id is not None:
        return f"customer:{customer_id}"
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    if not digits.strip("+"):
        return ""
    try:
        return f"number:{normalise(digits, region)}"
    except BadNumber:
        return f"number:{digits.lstrip('+')}"


def number_spellings(number: str, region: str = DEFAULT_REGION) -> set[str]:
    """The ways one number may have been stored (E.164, without the +, with 00, the
    national form), so a lookup by exact match finds the same caller's calls."""
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    if not digits.strip("+"):
        return set()
    found = {digits}
    try:
        e164 = normalise(digits, region)
    except BadNumber:
        return found
    parsed = phonenumbers.parse(e164, None)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    found |= {e164, e164[1:], "00" + e164[1:], "".join(ch for ch in national if ch.isdigit())}
    return found


@dataclass(frozen=True, slots=True)
class Contact:
    call_id: str
    caller: str  # caller_key()
    queue: str
    at: float  # entered the call center
    answered: bool
    agent: str = ""
    disposition: str = ""


@dataclass(frozen=True, slots=True)
class Judged:
    contact: Contact
    repeat: Contact | None  # the first repeat within the window
    pending: bool  # window still open, no repeat yet

    @property
    def resolved(self) -> bool:
        return self.repeat is None and not self.pending


def judge(contacts: Iterable[Contact], window: Callable[[str], float], now: float) -> list[Judged]:
    """Every answered contact with its fate; ``window`` gives a queue's window in seconds."""
    by_caller: dict[tuple[str, str], list[Contact]] = defaultdict(list)
    for c in contacts:
        if c.caller and c.queue:
            by_caller[(c.caller, c.queue)].append(c)
    found = []
    for series in by_caller.values():
        series.sort(key=lambda c: (c.at, c.call_id))
        for index, contact in enumerate(series):
            if not contact.answered:
                continue
            limit = contact.at + window(contact.queue)
            repeat = next((c for c in series[index + 1 :] if contact.at < c.at <= limit), None)
            found.append(Judged(contact, repeat, repeat is None and now < limit))
    found.sort(key=lambda j: (j.contact.at, j.contact.call_id))
    return found


@dataclass(frozen=True, slots=True)
class Resolution:
    answered: int
    repeated: int
    pending: int

    @property
    def resolved(self) -> int:
        return self.answered - self.repeated - self.pending

    @property
    def fcr(self) -> float | None:
        decided = self.answered - self.pending
        return self.resolved / decided if decided else None


def tally(judged: Iterable[Judged], by: Callable[[Contact], str]) -> dict[str, Resolution]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for j in judged:
        cell = counts[by(j.contact)]
        cell[0] += 1
        cell[1] += j.repeat is not None
        cell[2] += j.pending
    return {name: Resolution(*counts[name]) for name in sorted(counts)}


def total(parts: Iterable[Resolution]) -> Resolution:
    items = list(parts)
    return Resolution(
        sum(p.answered for p in items),
        sum(p.repeated for p in items),
        sum(p.pending for p in items),
    )


# -- the screen pop ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Earlier:
    at: float
    queue: str
    disposition: str  # its label, or the code


@dataclass(frozen=True, slots=True)
class RecentContacts:
    """How often this caller called before, within the window of the queue called now."""

    count: int  # earlier calls within the window, any queue
    same_queue: int  # of those, to this queue
    window_hours: float
    about: str  # the commonest disposition among them ("" if none)

    def summary(self) -> str:
        if not self.count:
            return ""
        days, hours = self.window_hours / 24, self.window_hours
        if days == int(days):
            span = "day" if days == 1 else f"{days:g} days"
        else:
            span = "hour" if hours == 1 else f"{hours:g} hours"
        times = "once" if self.count == 1 else f"{self.count} times"
        about = f", mostly about {self.about}" if self.about and self.count > 1 else ""
        if self.about and self.count == 1:
            about = f", about {self.about}"
        return f"Called {times} in the last {span} ({self.same_queue} to this queue){about}"


def recent_contacts(
    earlier: Sequence[Earlier], queue: str, now: float, windows: Mapping[str, float]
) -> RecentContacts:
    hours = windows.get(queue, DEFAULT_WINDOW_HOURS)
    since = now - hours * 3600
    inside = [e for e in earlier if since <= e.at < now]
    labels: dict[str, int] = defaultdict(int)
    for e in inside:
        if e.disposition:
            labels[e.disposition] += 1
    about = max(sorted(labels), key=lambda k: labels[k]) if labels else ""
    return RecentContacts(len(inside), sum(e.queue == queue for e in inside), hours, about)
