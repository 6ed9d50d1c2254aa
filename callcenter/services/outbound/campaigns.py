"""Campaign administration: create and configure campaigns, add leads, keep DNC lists.

Domain errors carry a stable ``code`` (not-found, exists, invalid) and know
nothing of HTTP; the console maps them to status codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from callcenter.core.outbound.compliance import SITE_SCOPE, campaign_scope
from callcenter.core.outbound.leads_csv import LeadIn, lead_from_fields
from callcenter.core.outbound.numbers import BadNumber, normalise
from callcenter.core.outbound.records import Campaign, CampaignExists, Figures, LeadRecord
from callcenter.core.outbound.settings import (
    CampaignSettings,
    CampaignSettingsError,
    load_settings,
)
from callcenter.services.dial_guard import DialGuard
from callcenter.services.repositories import CampaignRepository

Status = Literal["running", "paused", "done"]
MAX_API_LEADS = 1000


class CampaignError(Exception):
    def __init__(self, code: str, message: str, problems: list[Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.problems = problems or []


@dataclass(frozen=True, slots=True)
class Progress:
    campaign: Campaign
    figures: Figures  # attempts over the campaign's abandon-rule window
    window_seconds: float
    abandon_rate_pct: float
    cap_pct: float


@dataclass(frozen=True, slots=True)
class LeadsAdded:
    added: int
    refused: list[dict[str, object]]  # {"index", "reason"} per lead not added


class Campaigns:
    def __init__(
        self, repository: CampaignRepository, clock: Callable[[], float], guard: DialGuard
    ) -> None:
        self.repository = repository
        self.clock = clock
        self.guard = guard

    def refusal(self, campaign: Campaign, lead: LeadIn, where: str) -> str | None:
        """Why the dial policy refuses ``lead``'s number (audited), or None (blocking)."""
        settings = self.settings(campaign)
        verdict = self.guard.check(
            lead.phone,
            settings.default_region,
            settings.allowed_countries,
            ("campaign", campaign.name),
            where,
        )
        return (
            None
            if verdict.ok
            else f"refused by the dial policy ({verdict.reason}): " + (verdict.detail)
        )

    # -- campaigns ----------------------------------------------------------------------------
    def create(self, name: str, settings: Mapping[str, Any]) -> Campaign:
        valid = _settings(settings, name)
        try:
            return self.repository.create(name, valid.document(), self.clock())
        except CampaignExists:
            raise CampaignError("exists", f"a campaign named {name} exists") from None

    def get(self, campaign_id: int) -> Campaign:
        found = self.repository.get(campaign_id)
        if found is None:
            raise CampaignError("not-found", f"no campaign {campaign_id}")
        return found

    def all(self) -> list[Campaign]:
        return self.repository.all()

    def configure(self, campaign_id: int, settings: Mapping[str, Any]) -> Campaign:
        campaign = self.get(campaign_id)
        valid = _settings(settings, campaign.name)
        self.repository.update(campaign_id, settings=valid.document())
        return self.get(campaign_id)

    def set_status(self, campaign_id: int, status: Status) -> Campaign:
        self.get(campaign_id)
        self.repository.update(campaign_id, status=status)
        return self.get(campaign_id)

    def settings(self, campaign: Campaign) -> CampaignSettings:
        return _settings(campaign.settings, campaign.name)

    def progress(self, campaign_id: int) -> Progress:
        campaign = self.get(campaign_id)
        rules = self.settings(campaign)
        window = rules.abandon_window_seconds
        figures = self.repository.figures(campaign_id, self.clock() - window)
        rate = 100.0 * figures.abandoned / figures.live_answered if figures.live_answered else 0.0
        return Progress(campaign, figures, window, rate, rules.abandon_cap_pct)

    def leads(self, campaign_id: int) -> Iterator[LeadRecord]:
        """Every lead of the campaign as stored, by id (the CSV export)."""
        return self.repository.leads(self.get(campaign_id).id)

    # -- leads by API -------------------------------------------------------------------------
    def add_leads(self, campaign_id: int, leads: Sequence[Mapping[str, str]]) -> LeadsAdded:
        """Each lead as CSV columns by name; bad ones are refused by index, the rest added."""
        campaign = self.get(campaign_id)
        if len(leads) > MAX_API_LEADS:
            raise CampaignError("invalid", f"at most {MAX_API_LEADS} leads per request")
        region = self.settings(campaign).default_region
        existing = self.repository.lead_numbers(campaign_id)
        good: list[LeadIn] = []
        refused: list[dict[str, object]] = []
        for index, fields in enumerate(leads):
            try:
                lead = lead_from_fields(index, dict(fields), region)
            except ValueError as exc:
                refused.append({"index": index, "reason": str(exc)})
                continue
            if lead.phone in existing:
                refused.append({"index": index, "reason": f"duplicate: {lead.phone}"})
                continue
            why = self.refusal(campaign, lead, "lead-api")
            if why is not None:
                refused.append({"index": index, "reason": why})
                continue
            existing.add(lead.phone)
            good.append(lead)
        late = self.repository.add_leads(campaign_id, good, self.clock())
        refused += [{"index": lead.line, "reason": f"duplicate: {lead.phone}"} for lead in late]
        return LeadsAdded(len(good) - len(late), sorted(refused, key=lambda r: str(r["index"])))

    # -- do not call --------------------------------------------------------------------------
    def dnc_scope(self, campaign_id: int | None) -> tuple[str, str]:
        """The scope and region numbers are read in ("site": the site's default, US)."""
        if campaign_id is None:
            return SITE_SCOPE, "US"
        campaign = self.get(campaign_id)
        return campaign_scope(campaign.name), self.settings(campaign).default_region

    def add_dnc(self, campaign_id: int | None, numbers: Iterable[str], source: str) -> int:
        scope, region = self.dnc_scope(campaign_id)
        clean, bad = [], []
        for raw in numbers:
            try:
                clean.append(normalise(raw, region))
            except BadNumber as exc:
                bad.append(f"{raw[:40]!r}: {exc}")
        if bad:
            raise CampaignError("invalid", "bad numbers, nothing added", bad)
        return self.repository.add_dnc(scope, clean, source, self.clock())

    def dnc(self, scope: str, offset: int, limit: int) -> tuple[list[tuple[str, float, str]], int]:
        """One page of a DNC list, by number: (number, added at, source); and the total."""
        return self.repository.dnc(scope, offset, limit)

    def remove_dnc(self, campaign_id: int | None, number: str) -> bool:
        scope, region = self.dnc_scope(campaign_id)
        try:
            return self.repository.remove_dnc(scope, normalise(number, region))
        except BadNumber as exc:
            raise CampaignError("invalid", str(exc)) from None


def _settings(document: Mapping[str, Any], name: str) -> CampaignSettings:
    try:
        return load_settings(document, source=f"campaign {name}")
    except CampaignSettingsError as exc:
        raise CampaignError("invalid", "bad campaign settings", str(exc).splitlines()) from None
