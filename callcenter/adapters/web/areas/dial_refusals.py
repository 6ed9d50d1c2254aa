"""/api/dial-refusals: the numbers the dial policy refused, for supervisors.

Each row says when, who gave the number (a caller by caller ID, an agent, a
campaign's lead list, a dialer), the number as given (control characters
shown as ?), why it was refused and where. The reports page shows the count
per reason for its period (``/api/reports/dial-refusals``, areas/reports.py).
"""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import Response
from pydantic import BaseModel, Field

from callcenter.adapters.web import csv_export
from callcenter.adapters.web.auth import requires
from callcenter.adapters.web.services import services

api = APIBlueprint("dial_refusals_api", __name__, url_prefix="/api/dial-refusals", tag="Calls")


class RefusalQuery(BaseModel):
    hours: float = Field(24.0, gt=0, le=24 * 366, description="The last this many hours")
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(100, ge=1, le=1000)


class RefusalOut(BaseModel):
    at: float
    origin_kind: str = Field(description="caller, agent, user, campaign, callback")
    origin_id: str
    number: str = Field(description="as given, control characters shown as ?")
    reason: str = Field(
        description="bad-number, country, number-type, international-network, "
        "non-geographic, rate-limit, hourly-cap"
    )
    detail: str
    where: str = Field(
        description="keep-place, ivr-callback, api, lead-import, lead-api, dialer, callback-dialer"
    )


class RefusalPage(BaseModel):
    refusals: list[RefusalOut]
    total: int
    page: int
    per_page: int


COLUMNS = tuple(RefusalOut.model_fields)


@api.get(".csv")
@requires("supervisor")
@api.input(RefusalQuery, location="query", arg_name="query")
@api.doc(
    summary="The same page as CSV (what callers keyed is neutralised for spreadsheets)",
    responses=csv_export.csv_doc("refusal"),
)
def refusals_csv(query: RefusalQuery) -> Response:
    page = _page(query)
    rows = ([getattr(r, c) for c in COLUMNS] for r in page.refusals)
    return csv_export.csv_response(csv_export.csv_text(COLUMNS, rows), "dial-refusals.csv")


@api.get("")
@requires("supervisor")
@api.input(RefusalQuery, location="query", arg_name="query")
@api.output(RefusalPage)
@api.doc(summary="Numbers the dial policy refused, newest first")
def refusals(query: RefusalQuery) -> RefusalPage:
    return _page(query)


def _page(query: RefusalQuery) -> RefusalPage:
    console = services()
    since = console.clock() - query.hours * 3600
    rows, total = console.dial_refusals.recent(
        since, (query.page - 1) * query.per_page, query.per_page
    )
    return RefusalPage(
        refusals=[RefusalOut(**{f: getattr(r, f) for f in RefusalOut.model_fields}) for r in rows],
        total=total,
        page=query.page,
        per_page=query.per_page,
    )
