"""The console's campaigns area: campaigns, their leads (API and CSV import), DNC lists.

Supervisors and admins. A CSV is uploaded as the request body itself
(``Content-Type: text/csv``, the file name in the query), so it streams to
disk and is never parsed as a form; the import runs in its own thread and
the page polls its progress.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Literal

from apiflask import APIBlueprint
from flask import Response, render_template, request
from pydantic import BaseModel, Field

from callcenter.adapters.web import csv_export
from callcenter.adapters.web.auth import requester, requires
from callcenter.adapters.web.services import services
from callcenter.core.outbound.records import Campaign, LeadImport
from callcenter.core.outbound.settings import CAMPAIGN_NAME
from callcenter.services.outbound.lead_import import MAX_UPLOAD

api = APIBlueprint("campaigns_api", __name__, url_prefix="/api", tag="Campaigns")
pages = APIBlueprint("campaigns", __name__, enable_openapi=False)

ERRORS = {404: "No such campaign or import", 409: "Exists, or busy", 422: "Refused: see problems"}
FIND = {404: ERRORS[404]}


# -- schemas ----------------------------------------------------------------------------------
class CampaignIn(BaseModel):
    name: str = Field(pattern=CAMPAIGN_NAME)
    settings: dict[str, Any] = Field(default_factory=dict, description="CampaignSettings")


class SettingsIn(BaseModel):
    settings: dict[str, Any]


class StatusIn(BaseModel):
    status: Literal["running", "paused", "done"]


class CampaignOut(BaseModel):
    id: int
    name: str
    status: str
    settings: dict[str, Any]
    created_at: float


class CampaignList(BaseModel):
    campaigns: list[CampaignOut]


class ProgressOut(BaseModel):
    campaign: CampaignOut
    leads: dict[str, int]  # by status
    window_seconds: float  # the abandon rule's window the attempt figures cover
    attempts: int
    dialled: int
    live_answered: int
    connected: int
    abandoned: int
    abandon_rate_pct: float
    abandon_cap_pct: float
    outcomes: dict[str, int]


class LeadsIn(BaseModel):
    leads: list[dict[str, str]] = Field(
        max_length=1000, description="columns as in a CSV: phone, first_name, ..., data_<key>"
    )


class LeadsOut(BaseModel):
    added: int
    refused: list[dict[str, Any]]


class UploadQuery(BaseModel):
    filename: str = Field("upload.csv", max_length=200)


class ImportOut(BaseModel):
    id: int
    campaign_id: int
    filename: str
    status: str  # running | done | refused | interrupted
    started_at: float
    finished_at: float | None
    rows: int
    good: int
    bad: int
    size_bytes: int
    read_bytes: int
    percent: float
    encoding: str
    warning: str
    errors: list[dict[str, Any]]  # {line, reason, text}, the first 1000


class ImportQuery(BaseModel):
    campaign_id: int = Field(ge=1, le=2**31 - 1)


class ImportList(BaseModel):
    imports: list[ImportOut]


class DncQuery(BaseModel):
    campaign_id: int | None = Field(None, ge=1, le=2**31 - 1)
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(100, ge=1, le=1000)


class DncIn(BaseModel):
    campaign_id: int | None = Field(None, ge=1, le=2**31 - 1, description="none: site-wide")
    numbers: list[str] = Field(min_length=1, max_length=10_000)
    source: str = Field("", max_length=64)


class DncRemove(BaseModel):
    campaign_id: int | None = Field(None, ge=1, le=2**31 - 1)
    number: str = Field(max_length=40)


class DncOut(BaseModel):
    scope: str
    numbers: list[dict[str, Any]]
    total: int


class CountOut(BaseModel):
    count: int


# -- helpers ----------------------------------------------------------------------------------
def _campaign_out(campaign: Campaign) -> CampaignOut:
    return CampaignOut.model_validate(campaign, from_attributes=True)


def _import_out(found: LeadImport) -> ImportOut:
    read = 100.0 * found.read_bytes / max(found.size_bytes, 1)
    percent = 100.0 if found.status != "running" else round(min(100.0, read), 1)
    return ImportOut.model_validate({**asdict(found), "percent": percent})


def _audit(action: str, target: str, **detail: object) -> None:
    services().users.audit(requester().name, action, target, **detail)


# -- pages ------------------------------------------------------------------------------------
@pages.get("/campaigns")
@requires("supervisor", page=True)
def page() -> Any:
    return render_template("campaigns.html", campaigns=services().campaigns.all())


@pages.get("/campaigns/<int:campaign_id>")
@requires("supervisor", page=True)
def campaign_page(campaign_id: int) -> Any:
    campaign = services().campaigns.get(campaign_id)
    return render_template("campaign.html", campaign=campaign)


# -- campaigns --------------------------------------------------------------------------------
@api.get("/campaigns")
@api.output(CampaignList)
@api.doc(summary="Every campaign with its settings")
@requires("supervisor")
def list_campaigns() -> CampaignList:
    return CampaignList(campaigns=[_campaign_out(c) for c in services().campaigns.all()])


@api.post("/campaigns")
@api.input(CampaignIn)
@api.output(CampaignOut, status_code=201)
@api.doc(
    summary="Create a campaign (paused): mode, windows, cap, AMD action, retries", responses=ERRORS
)
@requires("supervisor")
def create_campaign(json_data: CampaignIn) -> CampaignOut:
    campaign = services().campaigns.create(json_data.name, json_data.settings)
    _audit("campaign.created", f"campaign:{campaign.id}")
    return _campaign_out(campaign)


@api.get("/campaigns/<int:campaign_id>")
@api.output(CampaignOut)
@api.doc(summary="One campaign", responses=FIND)
@requires("supervisor")
def get_campaign(campaign_id: int) -> CampaignOut:
    return _campaign_out(services().campaigns.get(campaign_id))


@api.put("/campaigns/<int:campaign_id>/settings")
@api.input(SettingsIn)
@api.output(CampaignOut)
@api.doc(summary="Replace a campaign's settings (validated as a whole)", responses=ERRORS)
@requires("supervisor")
def set_settings(campaign_id: int, json_data: SettingsIn) -> CampaignOut:
    campaign = services().campaigns.configure(campaign_id, json_data.settings)
    _audit("campaign.settings", f"campaign:{campaign_id}")
    return _campaign_out(campaign)


@api.post("/campaigns/<int:campaign_id>/status")
@api.input(StatusIn)
@api.output(CampaignOut)
@api.doc(summary="Run, pause or close a campaign", responses=FIND)
@requires("supervisor")
def set_status(campaign_id: int, json_data: StatusIn) -> CampaignOut:
    campaign = services().campaigns.set_status(campaign_id, json_data.status)
    _audit("campaign.status", f"campaign:{campaign_id}", status=json_data.status)
    return _campaign_out(campaign)


@api.get("/campaigns/<int:campaign_id>/progress")
@api.output(ProgressOut)
@api.doc(
    summary="Leads by status; attempts and abandon rate over the rule's window", responses=FIND
)
@requires("supervisor")
def progress(campaign_id: int) -> ProgressOut:
    found = services().campaigns.progress(campaign_id)
    figures = found.figures
    return ProgressOut(
        campaign=_campaign_out(found.campaign),
        leads=figures.leads,
        window_seconds=found.window_seconds,
        attempts=figures.attempts,
        dialled=figures.dialled,
        live_answered=figures.live_answered,
        connected=figures.connected,
        abandoned=figures.abandoned,
        abandon_rate_pct=round(found.abandon_rate_pct, 3),
        abandon_cap_pct=found.cap_pct,
        outcomes=figures.outcomes,
    )


# -- leads ------------------------------------------------------------------------------------
@api.post("/campaigns/<int:campaign_id>/leads")
@api.input(LeadsIn)
@api.output(LeadsOut)
@api.doc(summary="Add leads (bad ones refused by index with the reason)", responses=ERRORS)
@requires("supervisor")
def add_leads(campaign_id: int, json_data: LeadsIn) -> LeadsOut:
    added = services().campaigns.add_leads(campaign_id, json_data.leads)
    return LeadsOut(added=added.added, refused=added.refused)


LEAD_COLUMNS = (
    "id", "phone", "first_name", "last_name", "account", "timezone",
    "status", "attempts", "last_outcome", "data",
)  # fmt: skip


@api.get("/campaigns/<int:campaign_id>/leads.csv")
@api.doc(
    summary="The campaign's leads as CSV (text that a spreadsheet would run is neutralised)",
    responses=csv_export.csv_doc("lead", not_found="No such campaign"),
)
@requires("supervisor")
def leads_csv(campaign_id: int) -> Response:
    rows = (
        [
            lead.id, lead.phone, lead.first_name, lead.last_name, lead.account, lead.timezone,
            lead.state.status, lead.attempts, lead.state.last_outcome,
            json.dumps(lead.data, ensure_ascii=False, sort_keys=True) if lead.data else "",
        ]
        for lead in services().campaigns.leads(campaign_id)
    )  # fmt: skip
    text = csv_export.csv_text(LEAD_COLUMNS, rows)
    return csv_export.csv_response(text, f"campaign-{campaign_id}-leads.csv")


@api.post("/campaigns/<int:campaign_id>/imports")
@api.input(UploadQuery, location="query")
@api.output(ImportOut, status_code=202)
@api.doc(
    summary="Import a lead CSV sent as the body (Content-Type: text/csv); poll its progress",
    responses=ERRORS,
)
@requires("supervisor")
def upload(campaign_id: int, query_data: UploadQuery) -> ImportOut:
    request.max_content_length = MAX_UPLOAD
    imports = services().lead_imports
    import_id = imports.start(campaign_id, request.stream, query_data.filename)
    _audit("campaign.import", f"campaign:{campaign_id}", import_id=import_id)
    return _import_out(imports.status(import_id))


@api.get("/lead-imports")
@api.input(ImportQuery, location="query")
@api.output(ImportList)
@api.doc(summary="A campaign's latest imports, newest first")
@requires("supervisor")
def list_imports(query_data: ImportQuery) -> ImportList:
    found = services().lead_imports.recent(query_data.campaign_id)
    return ImportList(imports=[_import_out(i) for i in found])


@api.get("/lead-imports/<int:import_id>")
@api.output(ImportOut)
@api.doc(summary="An import's progress, counts and bad rows (line, reason)", responses=FIND)
@requires("supervisor")
def get_import(import_id: int) -> ImportOut:
    return _import_out(services().lead_imports.status(import_id))


# -- do not call ------------------------------------------------------------------------------
@api.get("/dnc")
@api.input(DncQuery, location="query")
@api.output(DncOut)
@api.doc(summary="A do-not-call list: the site's, or a campaign's", responses=FIND)
@requires("supervisor")
def dnc_list(query_data: DncQuery) -> DncOut:
    console = services()
    scope, _ = console.campaigns.dnc_scope(query_data.campaign_id)
    offset = (query_data.page - 1) * query_data.per_page
    rows, total = console.campaigns.dnc(scope, offset, query_data.per_page)
    numbers = [{"number": n, "added_at": at, "source": src} for n, at, src in rows]
    return DncOut(scope=scope, numbers=numbers, total=total)


@api.post("/dnc")
@api.input(DncIn)
@api.output(CountOut)
@api.doc(
    summary="Add numbers to a DNC list (all or none: a bad number refuses the lot)",
    responses=ERRORS,
)
@requires("supervisor")
def dnc_add(json_data: DncIn) -> CountOut:
    source = json_data.source or requester().name
    count = services().campaigns.add_dnc(json_data.campaign_id, json_data.numbers, source)
    _audit("dnc.added", f"campaign:{json_data.campaign_id or 'site'}", count=count)
    return CountOut(count=count)


@api.delete("/dnc")
@api.input(DncRemove)
@api.output(CountOut)
@api.doc(summary="Take a number off a DNC list", responses=ERRORS)
@requires("supervisor")
def dnc_remove(json_data: DncRemove) -> CountOut:
    campaigns = services().campaigns
    removed = campaigns.remove_dnc(json_data.campaign_id, json_data.number)
    _audit("dnc.removed", json_data.number[:40])
    return CountOut(count=int(removed))
