"""The console's reports area: interval reports per queue and per agent, as a
page, as JSON and as CSV (the same filters and the very same numbers)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from apiflask import APIBlueprint
from flask import Response, render_template
from pydantic import BaseModel, ConfigDict, Field

from callcenter.adapters.web import csv_export
from callcenter.adapters.web.auth import requires
from callcenter.adapters.web.definitions import report_definitions
from callcenter.adapters.web.services import services
from callcenter.core import repeat_contacts
from callcenter.core.voicemail import summarise
from callcenter.core.workforce.forecast import method_text
from callcenter.services.console.reports import EstimateReport, Period, Report, Reports

api = APIBlueprint("reports_api", __name__, url_prefix="/api/reports", tag="Reports")
pages = APIBlueprint("reports", __name__, enable_openapi=False)

WHEN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$"
NAME = r"^$|^[a-z][a-z0-9_-]{0,31}$"
WHEN_HELP = (
    "YYYY-MM-DD or YYYY-MM-DDTHH:MM in the site's time zone; "
    "a bare date as 'to' means the end of that day"
)


# -- the API's models ------------------------------------------------------------
class ReportQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field(alias="from", pattern=WHEN, description=f"Start: {WHEN_HELP}")
    to: str = Field(pattern=WHEN, description=f"End (exclusive): {WHEN_HELP}")
    interval: int = Field(60, description="Minutes per interval: 15, 30 or 60")


class QueueQuery(ReportQuery):
    queue: str = Field("", pattern=NAME, description="Only this queue (default: all)")


class AgentQuery(ReportQuery):
    agent: str = Field("", pattern=NAME, description="Only this agent (default: all)")


class QueueFigures(BaseModel):
    offered: int
    answered: int
    answered_within_target: int
    abandoned: int
    overflowed: int
    waiting: int
    handled: int
    service_level: float | None = Field(description="answered within target / offered (0-1)")
    asa_seconds: float | None
    aht_seconds: float | None = Field(description="(talk + hold + wrap-up) / handled")
    abandon_rate: float | None
    transfers: int = Field(0, description="agents' segments ended by a blind transfer")
    holds: int = Field(0, description="times callers were put on hold")
    hold_seconds: float | None = Field(0.0, description="total hold time")


class AgentFigures(BaseModel):
    offered: int
    answered: int
    missed: int = Field(description="rang, not answered")
    abandoned: int = Field(description="the caller hung up while this agent's phone rang")
    handled: int
    talk_seconds: float | None
    wrapup_seconds: float | None
    hold_seconds: float | None = 0.0
    holds: int = 0
    transfers: int = Field(0, description="calls this agent transferred (blind)")
    aht_seconds: float | None = Field(description="(talk + hold + wrap-up) / handled")
    ready_seconds: float | None
    ringing_seconds: float | None
    on_call_seconds: float | None
    wrap_up_seconds: float | None
    paused_seconds: float | None
    occupancy: float | None = Field(description="(ringing + on call + wrap-up) / (that + ready)")


class Interval(BaseModel):
    start: str = Field(description="local time with its UTC offset")
    end: str


class QueueInterval(Interval, QueueFigures):
    pass


class AgentInterval(Interval, AgentFigures):
    pass


class QueueSeries(BaseModel):
    queue: str
    target_seconds: float
    intervals: list[QueueInterval]
    totals: QueueFigures


class AgentSeries(BaseModel):
    agent: str
    intervals: list[AgentInterval]
    totals: AgentFigures


class ReportPeriod(BaseModel):
    start: str
    end: str
    timezone: str
    interval: int


class QueueReport(BaseModel):
    period: ReportPeriod
    queues: list[QueueSeries]
    totals: QueueFigures


class AgentReport(BaseModel):
    period: ReportPeriod
    agents: list[AgentSeries]
    totals: AgentFigures


class EstimateQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field(alias="from", pattern=WHEN, description=f"Start: {WHEN_HELP}")
    to: str = Field(pattern=WHEN, description=f"End (exclusive): {WHEN_HELP}")
    queue: str = Field("", pattern=NAME, description="Only this queue (default: all)")


ERROR = "|estimate - actual| / actual (waits under 10 s count as 10 s)"


class EstimateFigures(BaseModel):
    estimates: int = Field(description="estimates made in the period whose caller was answered")
    median_error: float | None = Field(description=f"median of {ERROR}")
    p90_error: float | None = Field(description=f"90th percentile of {ERROR}")
    reliable: int = Field(description="of those, estimates the product stood by (may be told)")
    reliable_median_error: float | None
    reliable_p90_error: float | None


class EstimateSeries(EstimateFigures):
    queue: str


class EstimateAccuracy(BaseModel):
    period: ReportPeriod
    queues: list[EstimateSeries]
    totals: EstimateFigures


class RefusalQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field(alias="from", pattern=WHEN, description=f"Start: {WHEN_HELP}")
    to: str = Field(pattern=WHEN, description=f"End (exclusive): {WHEN_HELP}")


class ReasonCount(BaseModel):
    reason: str
    count: int


class RefusalCounts(BaseModel):
    period: ReportPeriod
    reasons: list[ReasonCount] = Field(description="numbers refused, by reason, most first")
    total: int


# -- helpers -------------------------------------------------------------------
def _service() -> Reports:
    return services().reports


def _period(query: ReportQuery) -> Period:
    return _service().period(query.from_, query.to, query.interval)


def _period_head(service: Reports, period: Period) -> dict[str, Any]:
    return {
        "start": service.zone.local(period.since).isoformat(timespec="minutes"),
        "end": service.zone.local(period.until).isoformat(timespec="minutes"),
        "timezone": service.zone.name,
        "interval": period.minutes,
    }


def _when(report: Report, at: float) -> str:
    return report.zone.local(at).isoformat(timespec="minutes")


def _head(report: Report) -> dict[str, Any]:
    p = report.period
    return {
        "start": _when(report, p.since),
        "end": _when(report, p.until),
        "timezone": report.zone.name,
        "interval": p.minutes,
    }


def _lines(report: Report) -> Iterator[tuple[str, dict[str, Any]]]:
    for series in report.series:
        for line in series.lines:
            yield (
                series.name,
                {
                    "start": _when(report, line.start),
                    "end": _when(report, line.end),
                    **line.figures,
                },
            )


def _json(report: Report, kind: str) -> dict[str, Any]:
    """The report as the API gives it; ``kind`` ("queue" or "agent") names each series."""
    lines: dict[str, list[dict[str, Any]]] = {}
    for name, row in _lines(report):
        lines.setdefault(name, []).append(row)
    series = [
        {kind: s.name, "intervals": lines[s.name], "totals": s.totals}
        | ({"target_seconds": s.target} if kind == "queue" else {})
        for s in report.series
    ]
    return {"period": _head(report), f"{kind}s": series, "totals": report.totals}


def csv_text(report: Report, who: str, columns: tuple[str, ...]) -> str:
    """One row per interval, a totals row per queue/agent, and one for all of them."""

    def cells(name: str, start: str, end: str, figures: dict[str, Any]) -> list[Any]:
        return [name, start, end, *(figures[c] for c in columns)]

    start, end = _when(report, report.period.since), _when(report, report.period.until)
    rows = [cells(name, row["start"], row["end"], row) for name, row in _lines(report)]
    rows += [cells(series.name, start, end, series.totals) for series in report.series]
    rows.append(cells("(all)", start, end, report.totals))
    return csv_export.csv_text((who, "start", "end", *columns), rows)


def _csv(report: Report, kind: str, columns: tuple[str, ...], query: ReportQuery) -> Response:
    name = f"{kind}-{query.from_}-{query.to}.csv".replace(":", "")
    return csv_export.csv_response(csv_text(report, kind.rstrip("s"), columns), name)


QUEUE_COLUMNS = tuple(QueueFigures.model_fields)
AGENT_COLUMNS = tuple(AgentFigures.model_fields)
CSV_DOC = csv_export.csv_doc("interval")


# -- routes (the role check comes first: a stranger learns nothing from validation) ------
@api.get("/queues")
@requires("supervisor")
@api.input(QueueQuery, location="query", arg_name="query")
@api.output(QueueReport)
@api.doc(summary="Queue figures per interval: offered, answered, abandoned, SL, ASA, AHT")
def queues(query: QueueQuery) -> QueueReport:
    return QueueReport.model_validate(
        _json(_service().queues(_period(query), query.queue), "queue")
    )


@api.get("/queues.csv")
@requires("supervisor")
@api.input(QueueQuery, location="query", arg_name="query")
@api.doc(summary="The queue report as CSV (same filters)", responses=CSV_DOC)
def queues_csv(query: QueueQuery) -> Response:
    return _csv(_service().queues(_period(query), query.queue), "queues", QUEUE_COLUMNS, query)


@api.get("/estimates")
@requires("supervisor")
@api.input(EstimateQuery, location="query", arg_name="query")
@api.output(EstimateAccuracy)
@api.doc(summary="How close the wait estimates were to the waits that followed, per queue")
def estimates(query: EstimateQuery) -> EstimateAccuracy:
    service = _service()
    period = service.period(query.from_, query.to, 60)
    found: EstimateReport = service.estimates(period, query.queue)
    return EstimateAccuracy.model_validate(
        {
            "period": _period_head(service, period),
            "queues": [{"queue": name} | row for name, row in found.queues.items()],
            "totals": found.totals,
        }
    )


@api.get("/dial-refusals")
@requires("supervisor")
@api.input(RefusalQuery, location="query", arg_name="query")
@api.output(RefusalCounts)
@api.doc(summary="Numbers the dial policy refused in the period, counted by reason")
def dial_refusals(query: RefusalQuery) -> RefusalCounts:
    service = _service()
    period = service.period(query.from_, query.to, 60)
    counts = services().dial_refusals.counts(period.since, period.until)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return RefusalCounts.model_validate(
        {
            "period": _period_head(service, period),
            "reasons": [{"reason": r, "count": n} for r, n in ordered],
            "total": sum(counts.values()),
        }
    )


class VoicemailQueue(BaseModel):
    queue: str
    messages: int
    handled: int
    called_back: int
    open: int
    mean_handle_seconds: float | None = Field(description="left to handled, handled ones only")
    max_handle_seconds: float | None


class VoicemailCounts(BaseModel):
    period: ReportPeriod
    queues: list[VoicemailQueue]
    total: int


@api.get("/voicemail")
@requires("supervisor")
@api.input(RefusalQuery, location="query", arg_name="query")
@api.output(VoicemailCounts)
@api.doc(summary="Voicemail messages left in the period per queue: handled, called back, "
         "time to handle")  # fmt: skip
def voicemail(query: RefusalQuery) -> VoicemailCounts:
    service = _service()
    period = service.period(query.from_, query.to, 60)
    found = services().voicemail.repository.left_between(period.since, period.until)
    rows = summarise(found)
    return VoicemailCounts.model_validate(
        {
            "period": _period_head(service, period),
            "queues": [asdict(r) for r in rows],
            "total": len(found),
        }
    )


@api.get("/agents")
@requires("supervisor")
@api.input(AgentQuery, location="query", arg_name="query")
@api.output(AgentReport)
@api.doc(summary="Agent figures per interval: calls, handle time, state times, occupancy")
def agents(query: AgentQuery) -> AgentReport:
    return AgentReport.model_validate(
        _json(_service().agents(_period(query), query.agent), "agent")
    )


@api.get("/agents.csv")
@requires("supervisor")
@api.input(AgentQuery, location="query", arg_name="query")
@api.doc(summary="The agent report as CSV (same filters)", responses=CSV_DOC)
def agents_csv(query: AgentQuery) -> Response:
    return _csv(_service().agents(_period(query), query.agent), "agents", AGENT_COLUMNS, query)


# -- the page --------------------------------------------------------------------
@pages.get("/reports")
@requires("supervisor", page=True)
def page() -> Any:
    console = services()
    return render_template(
        "reports.html",
        queues=sorted(console.queue_names()),
        agents=sorted(console.agent_names()),
        timezone=_service().zone.name,
        today=_service().zone.local(services().clock()).date().isoformat(),  # the site's today
        definitions=report_definitions(),
        staffing_method=method_text(),
        fcr_definition=" ".join((repeat_contacts.__doc__ or "").split("\n\n", 1)[1].split()),
    )


# -- post-call surveys (CSAT) ------------------------------------------------------
class CsatQuery(ReportQuery):
    queue: str = Field("", pattern=NAME, description="Only this queue (default: all)")
    agent: str = Field("", pattern=NAME, description="Only this agent (default: all)")


class CsatFigures(BaseModel):
    offered: int = Field(description="surveys begun: the agent hung up first, the caller stayed")
    responded: int = Field(description="callers who gave at least one rating")
    response_rate: float | None = Field(description="responded / offered (0-1)")
    ratings: int = Field(description="ratings given (one per question answered)")
    satisfied: int = Field(description="ratings of 4 or 5")
    csat: float | None = Field(description="satisfied / ratings (0-1)")
    mean_score: float | None = Field(description="mean rating (1-5)")


class CsatInterval(Interval, CsatFigures):
    pass


class CsatQueue(CsatFigures):
    queue: str


class CsatAgent(CsatFigures):
    agent: str


class CsatDisposition(CsatFigures):
    disposition: str = Field(description="the call's, as the agent set it; '' for none")


class CsatReportOut(BaseModel):
    period: ReportPeriod
    intervals: list[CsatInterval]
    queues: list[CsatQueue]
    agents: list[CsatAgent]
    dispositions: list[CsatDisposition]
    totals: CsatFigures


CSAT_COLUMNS = tuple(CsatFigures.model_fields)


def csat_figures(found: Any) -> dict[str, Any]:
    """Rates to 3 places, the mean to 2: the JSON and the CSV show the same numbers."""
    row = asdict(found)
    for name in ("response_rate", "csat"):
        row[name] = None if row[name] is None else round(row[name], 3)
    row["mean_score"] = None if row["mean_score"] is None else round(row["mean_score"], 2)
    return row


def _csat(query: CsatQuery) -> tuple[Reports, Period, Any]:
    service = _service()
    period = _period(query)
    return service, period, service.csat(period, query.queue, query.agent)


def _csat_json(service: Reports, period: Period, found: Any) -> dict[str, Any]:
    def when(at: float) -> str:
        return service.zone.local(at).isoformat(timespec="minutes")

    return {
        "period": _period_head(service, period),
        "intervals": [
            {"start": when(slot.start), "end": when(slot.end)} | csat_figures(f)
            for slot, f in found.intervals
        ],
        "queues": [{"queue": n} | csat_figures(f) for n, f in found.queues.items()],
        "agents": [{"agent": n} | csat_figures(f) for n, f in found.agents.items()],
        "dispositions": [
            {"disposition": n} | csat_figures(f) for n, f in found.dispositions.items()
        ],
        "totals": csat_figures(found.totals),
    }


@api.get("/csat")
@requires("supervisor")
@api.input(CsatQuery, location="query", arg_name="query")
@api.output(CsatReportOut)
@api.doc(summary="Post-call surveys: CSAT and response rate per interval, queue, agent and "
         "disposition")  # fmt: skip
def csat(query: CsatQuery) -> CsatReportOut:
    return CsatReportOut.model_validate(_csat_json(*_csat(query)))


@api.get("/csat.csv")
@requires("supervisor")
@api.input(CsatQuery, location="query", arg_name="query")
@api.doc(summary="The CSAT report as CSV (same filters)", responses=CSV_DOC)
def csat_csv(query: CsatQuery) -> Response:
    data = _csat_json(*_csat(query))
    start, end = data["period"]["start"], data["period"]["end"]
    rows: list[list[Any]] = [
        ["interval", "", r["start"], r["end"], *(r[c] for c in CSAT_COLUMNS)]
        for r in data["intervals"]
    ]
    for kind in ("queue", "agent", "disposition"):
        rows += [
            [kind, r[kind], start, end, *(r[c] for c in CSAT_COLUMNS)] for r in data[f"{kind}s"]
        ]
    rows.append(["total", "(all)", start, end, *(data["totals"][c] for c in CSAT_COLUMNS)])
    name = f"csat-{query.from_}-{query.to}.csv".replace(":", "")
    text = csv_export.csv_text(("kind", "name", "start", "end", *CSAT_COLUMNS), rows)
    return csv_export.csv_response(text, name)
