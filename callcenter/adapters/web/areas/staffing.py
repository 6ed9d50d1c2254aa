"""Forecast and staffing (JSON and CSV, services/console/staffing.py) and first-contact
resolution (core/repeat_contacts.py) over HTTP."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response
from pydantic import BaseModel, ConfigDict, Field

from callcenter.adapters.web import csv_export
from callcenter.adapters.web.areas.reports import NAME, WHEN, WHEN_HELP
from callcenter.adapters.web.auth import requires
from callcenter.adapters.web.services import services
from callcenter.core.repeat_contacts import Resolution
from callcenter.core.workforce.erlang import ErlangInputError
from callcenter.core.workforce.forecast import method_text
from callcenter.services.console.reports import ReportInputError
from callcenter.services.console.staffing import (
    MAX_DAYS,
    MAX_WEEKS,
    StaffingQuery,
    StaffingReport,
)

api = APIBlueprint("staffing_api", __name__, url_prefix="/api/reports", tag="Reports")

METHOD = method_text()


class StaffingIn(BaseModel):
    queue: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$", description="The queue")
    days: int = Field(7, ge=1, le=MAX_DAYS, description="Days to forecast, from today")
    interval: int = Field(30, description="Minutes per interval: 15, 30 or 60")
    weeks: int = Field(4, ge=1, le=MAX_WEEKS, description="Weeks of history the forecast uses")
    level: float = Field(0.8, gt=0, lt=1, description="Service-level goal (share of calls)")
    max_occupancy: float = Field(0.85, gt=0, le=1, description="Agents busy at most this share")
    patience: float | None = Field(
        None, gt=0, le=86400, description="Callers' mean patience, s (default: measured)"
    )


class Accuracy(BaseModel):
    intervals: int
    actual_calls: int
    wape: float | None = Field(description="sum |forecast - actual| / sum actual")
    mape: float | None = Field(
        description="mean |forecast - actual| / actual, intervals with calls"
    )
    daily_wape: float | None = Field(description="WAPE of each day's total")


class StaffingInterval(BaseModel):
    start: str = Field(description="local time with its UTC offset")
    end: str
    calls: float = Field(description="forecast calls offered")
    aht_seconds: float = Field(description="forecast average handle time")
    traffic_erlangs: float
    agents_erlang_c: int
    service_level_erlang_c: float
    asa_seconds_erlang_c: float | None
    occupancy_erlang_c: float
    agents_erlang_a: int | None = Field(description="null without a patience")
    service_level_erlang_a: float | None
    abandon_rate_erlang_a: float | None
    logged_in: float | None = Field(description="agents logged in (average), intervals begun")
    logged_in_week_before: float | None = Field(description="the same, 7 days earlier")


class StaffingOut(BaseModel):
    queue: str
    timezone: str
    interval: int
    days: int
    weeks: int
    target_seconds: float
    level: float
    max_occupancy: float
    patience_seconds: float | None
    patience_measured: bool = Field(description="measured on the queue, not given")
    history_days: int = Field(description="days of history found (up to weeks + 1 weeks)")
    method: str
    forecast_error: Accuracy | None = Field(
        description="the last week seen, forecast from the weeks before it "
        "(null: too little history)"
    )
    intervals: list[StaffingInterval]


def _r(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def _report(query: StaffingIn) -> StaffingReport:
    if query.interval not in (15, 30, 60):
        raise ReportInputError("interval", f"must be 15, 30 or 60 (minutes), not {query.interval}")
    console = services()
    if query.queue not in console.queue_names():
        raise ReportInputError("queue", f"no queue named {query.queue!r}")
    try:
        return console.reports.staffing(StaffingQuery(**query.model_dump()))
    except ErlangInputError as exc:  # a goal no staffing can meet
        raise ReportInputError("max_occupancy", str(exc)) from None


def as_json(report: StaffingReport) -> dict[str, Any]:
    zone = services().reports.zone

    def when(at: float) -> str:
        return zone.local(at).isoformat(timespec="minutes")

    rows = []
    for row in report.rows:
        c, a, p = row.need.erlang_c, row.need.erlang_a, row.need.predicted
        rows.append(
            {
                "start": when(row.start),
                "end": when(row.end),
                "calls": round(p.calls, 2),
                "aht_seconds": round(p.aht, 1),
                "traffic_erlangs": round(p.calls * p.aht / (report.query.interval * 60), 3),
                "agents_erlang_c": c.agents,
                "service_level_erlang_c": round(c.service_level, 4),
                "asa_seconds_erlang_c": _r(c.average_wait, 1),
                "occupancy_erlang_c": round(c.occupancy, 4),
                "agents_erlang_a": a.agents if a else None,
                "service_level_erlang_a": _r(a.service_level, 4) if a else None,
                "abandon_rate_erlang_a": _r(a.abandon_probability, 4) if a else None,
                "logged_in": _r(row.logged_in, 2),
                "logged_in_week_before": _r(row.logged_in_week_before, 2),
            }
        )
    accuracy = report.accuracy
    q = report.query
    return {
        "queue": report.queue,
        "timezone": zone.name,
        "interval": q.interval,
        "days": q.days,
        "weeks": q.weeks,
        "target_seconds": report.target,
        "level": q.level,
        "max_occupancy": q.max_occupancy,
        "patience_seconds": _r(report.patience, 1),
        "patience_measured": report.patience_measured,
        "history_days": report.history_days,
        "method": METHOD,
        "forecast_error": None
        if accuracy is None
        else {
            "intervals": accuracy.intervals,
            "actual_calls": accuracy.actual_calls,
            "wape": _r(accuracy.wape, 4),
            "mape": _r(accuracy.mape, 4),
            "daily_wape": _r(accuracy.daily_wape, 4),
        },
        "intervals": rows,
    }


COLUMNS = tuple(StaffingInterval.model_fields)


def csv_text(body: dict[str, Any]) -> str:
    rows = ([body["queue"], *(row[c] for c in COLUMNS)] for row in body["intervals"])
    return csv_export.csv_text(("queue", *COLUMNS), rows)


CSV_DOC = csv_export.csv_doc("interval")


@api.get("/staffing")
@requires("supervisor")
@api.input(StaffingIn, location="query", arg_name="query")
@api.output(StaffingOut)
@api.doc(summary="Forecast calls and handle time per interval, and agents needed (Erlang C, A)")
def staffing(query: StaffingIn) -> StaffingOut:
    return StaffingOut.model_validate(as_json(_report(query)))


@api.get("/staffing.csv")
@requires("supervisor")
@api.input(StaffingIn, location="query", arg_name="query")
@api.doc(summary="Forecast and staffing as CSV (same query)", responses=CSV_DOC)
def staffing_csv(query: StaffingIn) -> Response:
    name = f"staffing-{query.queue}-{query.days}d.csv"
    return csv_export.csv_response(csv_text(as_json(_report(query))), name)


# -- first-contact resolution ---------------------------------------------------------
class ResolutionQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field(alias="from", pattern=WHEN, description=f"Start: {WHEN_HELP}")
    to: str = Field(pattern=WHEN, description=f"End (exclusive): {WHEN_HELP}")
    queue: str = Field("", pattern=NAME, description="Only this queue (default: all)")


class ResolutionFigures(BaseModel):
    answered: int = Field(description="calls answered in the period (their first contact)")
    repeated: int = Field(description="followed by the same caller in the same queue in the window")
    pending: int = Field(description="window still open, no repeat yet: left out of FCR")
    resolved: int
    fcr: float | None = Field(description="resolved / (resolved + repeated), 0-1")


class ResolutionRow(ResolutionFigures):
    name: str = Field(description="queue, agent or disposition code ('' for none)")


class QueueResolutionRow(ResolutionRow):
    window_hours: float


class ResolutionOut(BaseModel):
    start: str
    end: str
    timezone: str
    queues: list[QueueResolutionRow]
    agents: list[ResolutionRow]
    dispositions: list[ResolutionRow]
    totals: ResolutionFigures


def _figures(found: Resolution) -> dict[str, Any]:
    fcr = found.fcr
    return {
        "answered": found.answered,
        "repeated": found.repeated,
        "pending": found.pending,
        "resolved": found.resolved,
        "fcr": None if fcr is None else round(fcr, 4),
    }


@api.get("/fcr")
@requires("supervisor")
@api.input(ResolutionQuery, location="query", arg_name="query")
@api.output(ResolutionOut)
@api.doc(summary="First-contact resolution per queue, agent and disposition")
def resolution(query: ResolutionQuery) -> ResolutionOut:
    reports = services().reports
    period = reports.period(query.from_, query.to, 60)
    found = reports.resolution(period, query.queue)

    def rows(table: dict[str, Resolution]) -> list[dict[str, Any]]:
        return [{"name": name} | _figures(value) for name, value in table.items()]

    return ResolutionOut.model_validate(
        {
            "start": reports.zone.local(period.since).isoformat(timespec="minutes"),
            "end": reports.zone.local(period.until).isoformat(timespec="minutes"),
            "timezone": reports.zone.name,
            "queues": [
                row | {"window_hours": found.windows[row["name"]]} for row in rows(found.queues)
            ],
            "agents": rows(found.agents),
            "dispositions": rows(found.dispositions),
            "totals": _figures(found.totals),
        }
    )
