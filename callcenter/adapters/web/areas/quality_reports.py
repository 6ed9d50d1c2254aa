"""The reports' QA figures (core/quality.py ``qa_report``): per agent and per queue, for the
calls made in the period, as JSON and CSV (the console's CSV writer)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response
from pydantic import BaseModel, ConfigDict, Field

from callcenter.adapters.web import csv_export
from callcenter.adapters.web.areas.quality import period_of, when
from callcenter.adapters.web.areas.reports import NAME, WHEN, WHEN_HELP
from callcenter.adapters.web.auth import requires
from callcenter.adapters.web.services import services

api = APIBlueprint("quality_reports_api", __name__, url_prefix="/api/reports", tag="Reports")


class QaReportQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field(alias="from", pattern=WHEN, description=f"Start: {WHEN_HELP}")
    to: str = Field(pattern=WHEN, description=f"End (exclusive): {WHEN_HELP}")
    queue: str = Field("", pattern=NAME, description="Only this queue (default: all)")
    agent: str = Field("", pattern=NAME, description="Only this agent (default: all)")


class QaFigures(BaseModel):
    evaluations: int
    scored: int = Field(description="evaluations with a score (not every question n/a)")
    mean_score: float | None = Field(description="mean of the scores, percent")
    min_score: float | None
    max_score: float | None
    critical_failures: int
    acknowledged: int


class QaRow(QaFigures):
    name: str


class QaReportOut(BaseModel):
    start: str
    end: str
    timezone: str
    agents: list[QaRow]
    queues: list[QaRow]
    totals: QaFigures


# -- the reports' QA figures ------------------------------------------------------------------
def _report(query: QaReportQuery) -> dict[str, Any]:
    since, until = period_of(query.from_, query.to)
    found = services().quality.report(since, until, query.queue, query.agent)
    return {
        "start": when(since),
        "end": when(until),
        "timezone": services().reports.zone.name,
        "agents": [{"name": n} | row for n, row in found.agents.items()],
        "queues": [{"name": n} | row for n, row in found.queues.items()],
        "totals": found.totals,
    }


QA_COLUMNS = tuple(QaFigures.model_fields)


@api.get("/qa")
@requires("supervisor")
@api.input(QaReportQuery, location="query", arg_name="query")
@api.output(QaReportOut)
@api.doc(summary="QA scores per agent and queue of the calls made in the period")
def qa_report(query: QaReportQuery) -> QaReportOut:
    return QaReportOut.model_validate(_report(query))


@api.get("/qa.csv")
@requires("supervisor")
@api.input(QaReportQuery, location="query", arg_name="query")
@api.doc(summary="The QA scores as CSV (same filters)", responses=csv_export.csv_doc(
    "agent, then one per queue, then the totals"))  # fmt: skip
def qa_report_csv(query: QaReportQuery) -> Response:
    body = _report(query)
    head = ("by", "name", "start", "end", *QA_COLUMNS)
    span = (body["start"], body["end"])
    rows = [("agent", r["name"], *span, *(r[c] for c in QA_COLUMNS)) for r in body["agents"]]
    rows += [("queue", r["name"], *span, *(r[c] for c in QA_COLUMNS)) for r in body["queues"]]
    rows.append(("all", "", *span, *(body["totals"][c] for c in QA_COLUMNS)))
    name = f"qa-{query.from_}-{query.to}.csv".replace(":", "")
    return csv_export.csv_response(csv_export.csv_text(head, rows), name)
