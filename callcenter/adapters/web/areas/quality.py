"""QA scoring of recorded calls (services/console/quality.py, core/quality.py) over HTTP;
the forms: quality_forms.py, the reports' figures: quality_reports.py.

Supervisors and admins draw the calls to review, play a recording and score it with
a form, and read every evaluation. Agents read their own evaluations only (another's is
a 404: not theirs to know about), play the call each is about (audited, as
recordings are) and acknowledge it, once, with an optional comment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from apiflask import APIBlueprint, abort
from flask import Response, render_template
from pydantic import BaseModel, ConfigDict, Field

from callcenter.adapters.web.areas.recordings import PLAYBACK_WINDOW, wav_response
from callcenter.adapters.web.areas.reports import NAME, WHEN, WHEN_HELP
from callcenter.adapters.web.auth import Principal, requester, requires
from callcenter.adapters.web.services import services
from callcenter.core.quality import MAX_COMMENT, Evaluation, score
from callcenter.services.console.quality import MAX_PER_AGENT
from callcenter.services.inbound.recording import RecordingError

api = APIBlueprint("quality_api", __name__, url_prefix="/api/qa", tag="Quality")
pages = APIBlueprint("quality", __name__, enable_openapi=False)

FORM_NAME = r"^[a-z][a-z0-9_-]{0,31}$"


# -- schemas ----------------------------------------------------------------------------------
class EvaluationIn(BaseModel):
    form_id: int = Field(ge=1, le=2**31 - 1)
    recording_id: int = Field(ge=1, le=2**31 - 1)
    answers: dict[str, Any] = Field(description='question key: "yes", "no", "na" or 0..N')
    comment: str = Field("", max_length=MAX_COMMENT)


class AcknowledgeIn(BaseModel):
    comment: str = Field("", max_length=MAX_COMMENT)


class SectionOut(BaseModel):
    title: str
    score: float | None


class EvaluationOut(BaseModel):
    id: int
    form_id: int
    form_name: str
    form_version: int
    recording_id: int
    call_id: str
    agent: str
    queue: str
    call_at: float
    evaluator: str
    evaluated_at: float
    answers: dict[str, Any]
    score: float | None = Field(description="percent; 0 when a critical question failed")
    critical_failed: bool
    comment: str
    acknowledged_at: float | None
    agent_comment: str


class EvaluationDetail(EvaluationOut):
    form: dict[str, Any] = Field(description="the form's version the evaluation used")
    sections: list[SectionOut]
    critical_questions_failed: list[str]


class EvaluationList(BaseModel):
    evaluations: list[EvaluationOut]


class EvaluationQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    agent: str = Field("", pattern=NAME, description="Supervisors: only this agent")
    queue: str = Field("", pattern=NAME)
    from_: str = Field("", alias="from", pattern=f"{WHEN}|^$", description=WHEN_HELP)
    to: str = Field("", pattern=f"{WHEN}|^$", description="End (exclusive); with from")
    limit: int = Field(200, ge=1, le=1000)


class SampleQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field(alias="from", pattern=WHEN, description=f"Start: {WHEN_HELP}")
    to: str = Field(pattern=WHEN, description="End (a bare date: the end of that day)")
    per_agent: int = Field(3, ge=1, le=MAX_PER_AGENT, description="Calls to review per agent")
    queue: str = Field("", pattern=NAME)
    seed: str = Field(
        "", max_length=64, description="The draw's seed (default: the period, 'from/to')"
    )


class SampledCall(BaseModel):
    recording_id: int
    call_id: str
    queue: str
    caller: str
    started_at: float
    duration: float | None


class SampledAgent(BaseModel):
    agent: str
    evaluated: int = Field(description="calls of the period evaluated already")
    calls: list[SampledCall]


class SampleOut(BaseModel):
    start: str
    end: str
    seed: str
    per_agent: int
    agents: list[SampledAgent]


def _fields(evaluation: Evaluation) -> dict[str, Any]:
    return {name: getattr(evaluation, name) for name in EvaluationOut.model_fields}


def _detail(evaluation: Evaluation) -> EvaluationDetail:
    form = services().quality.form(evaluation.form_id)
    result = score(form.definition, evaluation.answers)
    return EvaluationDetail(
        **_fields(evaluation),
        form=form.definition.as_dict(),
        sections=[SectionOut(title=s.title, score=s.score) for s in result.sections],
        critical_questions_failed=list(result.critical_failed),
    )


def _visible(evaluation_id: int) -> Evaluation:
    """The evaluation, if the requester may see it (their own, or any for supervisors)."""
    found, who = services().quality.store.evaluation(evaluation_id), requester()
    if found is None or not (
        who.at_least("supervisor") or (who.agent and found.agent == who.agent)
    ):
        abort(404, f"no evaluation {evaluation_id}")
    return found


def period_of(from_: str, to: str) -> tuple[float, float]:
    period = services().reports.period(from_, to, 60)
    return period.since, period.until


def when(at: float) -> str:
    return services().reports.zone.local(at).isoformat(timespec="minutes")


# -- evaluations ------------------------------------------------------------------------------
@api.post("/evaluations")
@api.input(EvaluationIn)
@api.output(EvaluationDetail, status_code=201)
@api.doc(
    summary="Score a recorded call with a form",
    responses={
        404: "No such form, or no finished recording of an answered call",
        409: "The recording has its evaluation already, or the form is retired or not the latest",
        422: "Answers missing or not ones their questions allow",
    },
)
@requires("supervisor")
def evaluate(json_data: EvaluationIn) -> EvaluationDetail:
    who = requester()
    made = services().quality.evaluate(
        json_data.form_id,
        json_data.recording_id,
        json_data.answers,
        json_data.comment,
        who.name,
        who.agent,
    )
    services().users.audit(
        who.name, "qa.evaluated", f"recording:{made.recording_id}", evaluation=made.id
    )
    return _detail(made)


@api.get("/evaluations")
@api.input(EvaluationQuery, location="query", arg_name="query")
@api.output(EvaluationList)
@api.doc(summary="Evaluations, newest call first: an agent's own; supervisors anyone's")
@requires("agent")
def evaluations(query: EvaluationQuery) -> EvaluationList:
    who: Principal = requester()
    agent = query.agent if who.at_least("supervisor") else who.agent
    if not agent and not who.at_least("supervisor"):
        return EvaluationList(evaluations=[])  # a user who works as no agent has none
    since = until = None
    if query.from_ or query.to:
        if not (query.from_ and query.to):
            abort(422, "give both from and to, or neither")
        since, until = period_of(query.from_, query.to)
    found = services().quality.store.evaluations(agent, query.queue, since, until, query.limit)
    return EvaluationList(evaluations=[EvaluationOut(**_fields(e)) for e in found])


@api.get("/evaluations/<int:evaluation_id>")
@api.output(EvaluationDetail)
@api.doc(summary="One evaluation with its form and section scores", responses={404: "Not yours"})
@requires("agent")
def evaluation(evaluation_id: int) -> EvaluationDetail:
    return _detail(_visible(evaluation_id))


@api.post("/evaluations/<int:evaluation_id>/acknowledge")
@api.input(AcknowledgeIn)
@api.output(EvaluationDetail)
@api.doc(
    summary="The evaluated agent acknowledges it, once, with an optional comment",
    responses={404: "Not yours", 409: "Acknowledged already"},
)
@requires("agent")
def acknowledge(evaluation_id: int, json_data: AcknowledgeIn) -> EvaluationDetail:
    found, who = _visible(evaluation_id), requester()
    if not who.agent or found.agent != who.agent:
        abort(403, "only the evaluated agent acknowledges an evaluation")
    done = services().quality.acknowledge(evaluation_id, who.agent, json_data.comment)
    services().users.audit(who.name, "qa.acknowledged", f"qa-evaluation:{evaluation_id}")
    return _detail(done)


@api.get("/evaluations/<int:evaluation_id>/audio")
@api.doc(summary="The evaluated call's recording as WAV (audited; ranges supported)",
         responses={404: "Not yours, or the recording is gone"})  # fmt: skip
@requires("agent")
def audio(evaluation_id: int) -> Response:
    found = _visible(evaluation_id)
    console = services()
    recording = console.recording_archive.get(found.recording_id)
    if recording is None:
        abort(404, f"evaluation {evaluation_id}: the recording is gone (retention)")
    try:
        path = console.recordings.host_path(recording.path)
    except RecordingError:
        abort(404, f"evaluation {evaluation_id}: no file in the recordings folder")
    if path.suffix != ".wav" or not path.is_file():
        abort(404, f"evaluation {evaluation_id}: the file is gone")
    who = requester()
    target = f"recording:{recording.id}"
    console.users.audit_once(
        who.name, "recording.played", target, PLAYBACK_WINDOW, call_id=recording.call_id
    )
    return wav_response(path, f"call-{recording.call_id}.wav")


# -- the calls to review ----------------------------------------------------------------------
@api.get("/sample")
@api.input(SampleQuery, location="query", arg_name="query")
@api.output(SampleOut)
@api.doc(
    summary="Calls to review per agent: recorded, answered, not yet evaluated, drawn by seed",
    description="Per agent, per_agent less the calls of the period evaluated already; the "
    "same seed draws the same calls, and scoring one leaves the others drawn.",
)
@requires("supervisor")
def sample(query: SampleQuery) -> SampleOut:
    since, until = period_of(query.from_, query.to)
    seed = query.seed or f"{query.from_}/{query.to}"
    quality = services().quality
    drawn = quality.sample(since, until, query.per_agent, seed, query.queue)
    done = quality.store.evaluated_counts(since, until, query.queue)
    agents = sorted(set(drawn) | set(done))
    return SampleOut(
        start=when(since),
        end=when(until),
        seed=seed,
        per_agent=query.per_agent,
        agents=[
            SampledAgent(
                agent=agent,
                evaluated=done.get(agent, 0),
                calls=[
                    SampledCall(
                        recording_id=c.recording_id,
                        call_id=c.call_id,
                        queue=c.queue,
                        caller=c.caller_number,
                        started_at=c.started_at,
                        duration=c.duration,
                    )
                    for c in drawn.get(agent, [])
                ],
            )
            for agent in agents
        ],
    )


# -- pages ------------------------------------------------------------------------------------
def _week() -> tuple[str, str]:
    today = services().reports.zone.local(services().clock()).date()
    monday = today - dt.timedelta(days=today.weekday())
    return monday.isoformat(), (monday + dt.timedelta(days=6)).isoformat()


@pages.get("/qa")
@requires("supervisor", page=True)
def page() -> Any:
    monday, sunday = _week()
    console = services()
    return render_template(
        "qa.html",
        monday=monday,
        sunday=sunday,
        queues=sorted(console.queue_names()),
        zone=console.timezone,
    )


@pages.get("/qa/mine")
@requires("agent", page=True)
def mine_page() -> Any:
    return render_template("qa_mine.html", zone=services().timezone)
