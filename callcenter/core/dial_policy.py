"""The dial policy: which numbers the call center may ever dial (pure).

Every number that can end up in an Originate passes ``check_number`` first:
callbacks booked by a caller in the IVR (keep-my-place, the callback menu),
by an agent (the desktop, ``POST /api/callbacks``), campaign leads at import,
and both dialers again right before they dial. A caller with no login must
not be able to make the call center ring a premium-rate line or a satellite
phone it pays for (toll fraud), so the default is narrow:

- only the site's own country (``[dial_policy] country``) and the countries
  listed in ``allowed_countries``; a queue's callback rules or a campaign's
  settings may name their own list instead;
- number types, read from the numbering plan (``phonenumbers``): fixed line,
  mobile and toll free are allowed; premium rate, shared cost, personal
  numbers, UAN, pagers, VoIP and voicemail access only when listed in
  ``allowed_types``; a number whose type is unknown never;
- international networks and satellite systems (+870, +881, +882, +883...)
  only with ``allow_international_networks``; phonenumbers calls +881/+870
  numbers MOBILE and +882 VOIP, so these are refused by country code;
- other non-geographic numbers (region "001": +800, +808, +979) only with
  ``allow_non_geographic`` (and their type is still checked).

A refusal carries a stable reason (``Reason``) and a sentence for people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal, get_args

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from callcenter.core.outbound.numbers import BadNumber, normalise

NumberType = Literal[
    "FIXED_LINE",
    "MOBILE",
    "FIXED_LINE_OR_MOBILE",
    "TOLL_FREE",
    "PREMIUM_RATE",
    "SHARED_COST",
    "VOIP",
    "PERSONAL_NUMBER",
    "PAGER",
    "UAN",
    "VOICEMAIL",
]
ALLOWED_BY_DEFAULT: frozenset[str] = frozenset(
    {"FIXED_LINE", "MOBILE", "FIXED_LINE_OR_MOBILE", "TOLL_FREE"}
)
# ITU international networks: Inmarsat (870), GMSS satellite (881), international
# networks (882, 883), and the retired Inmarsat codes a stale table may still hold.
INTERNATIONAL_NETWORKS: frozenset[int] = frozenset({870, 871, 872, 873, 874, 881, 882, 883})
NON_GEOGRAPHIC = "001"  # phonenumbers' region of numbers that belong to no country

Reason = Literal[
    "bad-number",
    "country",
    "number-type",
    "international-network",
    "non-geographic",
    "rate-limit",
    "hourly-cap",
]
REASONS: tuple[Reason, ...] = get_args(Reason)
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
_TYPE_NAMES = {
    getattr(phonenumbers.PhoneNumberType, name): name
    for name in (*NumberType.__args__, "UNKNOWN")  # type: ignore[attr-defined]
}


class DialPolicy(BaseModel):
    """The site's dial policy (``[dial_policy]`` in callcenter.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The site's own country: allowed, and the region of caller IDs without a +.
    country: Country = "US"
    # Countries allowed besides ``country`` (a queue or campaign may name its own list).
    allowed_countries: tuple[Country, ...] = ()
    # Number types allowed besides fixed line, mobile and toll free.
    allowed_types: tuple[NumberType, ...] = ()
    allow_non_geographic: bool = False
    allow_international_networks: bool = False
    # Callbacks one caller (by caller ID) / one agent may book in an hour, and all
    # callbacks booked in an hour, whoever booked them.
    per_caller_per_hour: int = Field(3, ge=1, le=1000)
    per_agent_per_hour: int = Field(60, ge=1, le=10000)
    callbacks_per_hour: int = Field(300, ge=1, le=100000)

    def rules(self, countries: Sequence[str] = ()) -> DialRules:
        """The rules for a queue or campaign: its own countries, else the site's."""
        allowed = frozenset(countries) if countries else self.countries()
        return DialRules(
            countries=allowed,
            types=ALLOWED_BY_DEFAULT | frozenset(self.allowed_types),
            non_geographic=self.allow_non_geographic,
            international_networks=self.allow_international_networks,
        )

    def countries(self) -> frozenset[str]:
        return frozenset({self.country, *self.allowed_countries})


@dataclass(frozen=True, slots=True)
class DialRules:
    countries: frozenset[str]
    types: frozenset[str]
    non_geographic: bool = False
    international_networks: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    number: str  # E.164 when the number could be read, else ""
    reason: Reason | None  # None: may be dialled
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.reason is None


def check_number(raw: str, region: str, rules: DialRules) -> Verdict:
    """May ``raw`` (E.164, or national in ``region``) be dialled under ``rules``?"""
    try:
        number = normalise(raw, region)
    except BadNumber as exc:
        return Verdict("", "bad-number", str(exc))
    parsed = phonenumbers.parse(number, None)
    country = phonenumbers.region_code_for_number(parsed) or NON_GEOGRAPHIC
    kind = _TYPE_NAMES.get(phonenumbers.number_type(parsed), "UNKNOWN")
    if parsed.country_code in INTERNATIONAL_NETWORKS and not rules.international_networks:
        return Verdict(
            number,
            "international-network",
            f"{number} belongs to an international network or satellite system "
            f"(+{parsed.country_code}), which is not allowed",
        )
    network = parsed.country_code in INTERNATIONAL_NETWORKS  # allowed, if we are here
    if country == NON_GEOGRAPHIC and not rules.non_geographic and not network:
        return Verdict(
            number, "non-geographic", f"{number} is a non-geographic number, not allowed"
        )
    # The type before the country: a premium-rate number abroad is counted as what it
    # is (toll fraud shows in the audit's reasons), not as a foreign number.
    if kind not in rules.types:
        return Verdict(
            number,
            "number-type",
            f"{number} is a {kind.lower().replace('_', '-')} number, not allowed",
        )
    if country != NON_GEOGRAPHIC and country not in rules.countries:
        allowed = ", ".join(sorted(rules.countries)) or "none"
        return Verdict(number, "country", f"{number} is in {country}; allowed countries: {allowed}")
    return Verdict(number, None)


MAX_STORED = 40


def safe_text(raw: str, limit: int = MAX_STORED) -> str:
    """``raw`` as it may be stored and shown: control characters as ``?``, cut short."""
    return "".join(ch if ch.isprintable() else "?" for ch in raw[:limit])


@dataclass(frozen=True, slots=True)
class DialRefusal:
    """One refused number, for the audit (table dial_refusals)."""

    at: float
    origin_kind: str  # caller, agent, user, campaign, callback, dialer
    origin_id: str
    number: str  # as given, made safe (``safe_text``)
    reason: Reason
    detail: str
    where: str  # keep-place, ivr-callback, api, lead-import, callback-dialer, dialer

    @staticmethod
    def of(
        verdict: Verdict, raw: str, origin: tuple[str, str], where: str, at: float
    ) -> DialRefusal:
        assert verdict.reason is not None
        return DialRefusal(
            at=at,
            origin_kind=origin[0][:16],
            origin_id=safe_text(origin[1], 64),
            number=safe_text(raw),
            reason=verdict.reason,
            detail=safe_text(verdict.detail, 200),
            where=where[:32],
        )
