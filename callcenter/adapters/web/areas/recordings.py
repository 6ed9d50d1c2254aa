"""The console's recordings area: search, play, download; retention; the audit log.

Recordings are looked up by their database id only; the file's path comes
from the row and is resolved by ``Recordings.host_path``, which refuses
anything outside the recordings folder. Every playback and download is
written to the audit log: a playback once per listener and recording within
``PLAYBACK_WINDOW`` (a player fetches the file in many ranges, from any offset),
whatever the first request asks for; a download every time. Supervisors and
admins only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from apiflask import APIBlueprint, abort
from flask import Response, render_template, send_file
from pydantic import BaseModel, Field, model_validator

from callcenter.adapters.web.auth import requester, requires
from callcenter.adapters.web.days import day_start, site_zone, today
from callcenter.adapters.web.services import services
from callcenter.core.recordings import Recording, RecordingFilter
from callcenter.scheduler.retention_job import JOB_ID as RETENTION_JOB
from callcenter.services.console.retention import RetentionError, RetentionReport
from callcenter.services.inbound.recording import RecordingError

api = APIBlueprint("recordings_api", __name__, url_prefix="/api", tag="Recordings")
pages = APIBlueprint("recordings", __name__, enable_openapi=False)

NAME = r"^([a-z][a-z0-9_-]{0,31})?$"
PLAYBACK_WINDOW = 30 * 60.0  # seconds: requests for one recording by one listener in this: one row


# -- schemas ----------------------------------------------------------------------------------
_EPOCH_DAYS = (dt.date(1970, 1, 2), dt.date(9998, 12, 30))


class RecordingSearch(BaseModel):
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive
    agent: str = Field("", pattern=NAME)
    queue: str = Field("", pattern=NAME)
    caller: str = Field("", max_length=24, pattern=r"^[0-9+*#]*$")
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(25, ge=1, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> RecordingSearch:
        for day in (self.date_from, self.date_to):
            # A day's local midnight must be an epoch time (year 1 or 9999 overflows).
            if day is not None and not _EPOCH_DAYS[0] <= day <= _EPOCH_DAYS[1]:
                raise ValueError(f"dates go from {_EPOCH_DAYS[0]} to {_EPOCH_DAYS[1]}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        return self


class RecordingOut(BaseModel):
    id: int
    call_id: str
    agent: str
    queue: str
    caller: str
    started_at: float
    ended_at: float | None
    duration: float | None
    paused: list[list[float | None]]  # [[from, to], ...] seconds from the start


class RecordingPage(BaseModel):
    items: list[RecordingOut]
    total: int
    page: int
    per_page: int


class RetentionIn(BaseModel):
    retention_days: int


class RetentionOut(BaseModel):
    retention_days: int
    next_run: float | None
    last_run: dict[str, Any] | None


class RetentionRunOut(BaseModel):
    started_at: float
    retention_days: int
    cutoff: float
    removed: list[int]
    files_deleted: int
    strays_deleted: list[str]
    errors: list[str]


class AuditQuery(BaseModel):
    limit: int = Field(200, ge=1, le=1000)


class AuditEntry(BaseModel):
    id: int
    at: float
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


class AuditOut(BaseModel):
    entries: list[AuditEntry]


def _out(item: Recording) -> RecordingOut:
    return RecordingOut(
        id=item.id,
        call_id=item.call_id,
        agent=item.agent,
        queue=item.queue,
        caller=item.caller_number,
        started_at=item.started_at,
        ended_at=item.ended_at,
        duration=item.duration,
        paused=item.mutes,
    )


def _run_out(report: RetentionReport) -> RetentionRunOut:
    return RetentionRunOut.model_validate(report, from_attributes=True)


# -- pages ------------------------------------------------------------------------------------
@pages.get("/recordings")
@requires("supervisor", page=True)
def page() -> Any:
    console = services()
    return render_template(
        "recordings.html",
        facets=console.recording_archive.facets(),
        today=today(site_zone()),
        week=dt.timedelta(days=6),  # the form opens on the last seven days
        zone=console.timezone,  # dates are shown in the site's time
    )


# -- search -----------------------------------------------------------------------------------
@api.get("/recordings")
@api.input(RecordingSearch, location="query")
@api.output(RecordingPage)
@api.doc(summary="Search recordings by date range (site time), agent, queue, caller number")
@requires("supervisor")
def search(query_data: RecordingSearch) -> RecordingPage:
    zone = site_zone()
    found = RecordingFilter(
        since=day_start(query_data.date_from, zone) if query_data.date_from else None,
        until=(
            day_start(query_data.date_to + dt.timedelta(days=1), zone)
            if query_data.date_to
            else None
        ),
        agent=query_data.agent,
        queue=query_data.queue,
        caller=query_data.caller,
    )
    offset = (query_data.page - 1) * query_data.per_page
    items, total = services().recording_archive.search(found, offset, query_data.per_page)
    return RecordingPage(
        items=[_out(i) for i in items],
        total=total,
        page=query_data.page,
        per_page=query_data.per_page,
    )


@api.get("/recordings/<int:recording_id>")
@api.output(RecordingOut)
@api.doc(summary="One recording's details")
@requires("supervisor")
def get_recording(recording_id: int) -> RecordingOut:
    return _out(_find(recording_id))


def _find(recording_id: int) -> Recording:
    found = services().recording_archive.get(recording_id)
    if found is None:
        abort(404, f"no recording {recording_id}")
    return found


# -- the audio itself -------------------------------------------------------------------------
@api.get("/recordings/<int:recording_id>/audio")
@api.doc(summary="The recording as WAV, for the browser's player (HTTP ranges supported)")
@requires("supervisor")
def audio(recording_id: int) -> Response:
    return _serve(recording_id, "recording.played", attachment=False)


@api.get("/recordings/<int:recording_id>/download")
@api.doc(summary="The recording as a WAV file to save")
@requires("supervisor")
def download(recording_id: int) -> Response:
    return _serve(recording_id, "recording.downloaded", attachment=True)


def _serve(recording_id: int, action: str, attachment: bool) -> Response:
    recording = _find(recording_id)
    try:
        path = services().recordings.host_path(recording.path)
    except RecordingError:  # a stored path out of the folder: no file, named by the recording
        abort(404, f"recording {recording_id} has no file in the recordings folder")
    if path.suffix != ".wav" or not path.is_file():
        abort(404, f"recording {recording_id}: the file is gone")
    who, users, target = requester(), services().users, f"recording:{recording_id}"
    if attachment:
        users.audit(who.name, action, target, call_id=recording.call_id)
    else:  # every range request is audited, as one playback per window
        users.audit_once(who.name, action, target, PLAYBACK_WINDOW, call_id=recording.call_id)
    return wav_response(path, f"call-{recording.call_id}.wav", attachment)


def wav_response(path: Any, name: str, attachment: bool = False) -> Response:
    """A recorded WAV for the console's player (ranges, ETag) that no cache keeps."""
    response = send_file(
        path,
        mimetype="audio/wav",
        as_attachment=attachment,
        download_name=name,
        conditional=True,
        etag=True,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- retention --------------------------------------------------------------------------------
@api.get("/recordings/retention")
@api.output(RetentionOut)
@api.doc(summary="How long recordings are kept, and the last retention run")
@requires("supervisor")
def retention_settings() -> RetentionOut:
    return _retention_out()


def _retention_out() -> RetentionOut:
    console = services()
    try:
        days = console.retention.settings().retention_days
    except RetentionError as exc:  # the stored settings are unusable: our fault, not the request's
        abort(500, str(exc), extra_data={"code": exc.code})
    last = console.retention.last
    return RetentionOut(
        retention_days=days,
        next_run=console.next_run(RETENTION_JOB),
        last_run=_run_out(last).model_dump() if last is not None else None,
    )


@api.put("/recordings/retention")
@api.input(RetentionIn)
@api.output(RetentionOut)
@api.doc(
    summary="Set how many days recordings are kept (1 to 36500)",
    responses={409: "A retention run is under way"},
)
@requires("admin")
def set_retention(json_data: RetentionIn) -> RetentionOut:
    who = requester()
    services().retention.configure(json_data.model_dump(), who.name)
    return _retention_out()


@api.post("/recordings/retention/run")
@api.output(RetentionRunOut)
@api.doc(
    summary="Delete the recordings older than the retention period now",
    responses={409: "A retention run is under way", 422: "The stored settings are unusable"},
)
@requires("admin")
def run_retention() -> RetentionRunOut:
    who = requester()
    return _run_out(services().retention.run(who.name))


# -- the audit log ----------------------------------------------------------------------------
@api.get("/audit")
@api.input(AuditQuery, location="query")
@api.output(AuditOut)
@api.doc(summary="The audit log, newest first (recording playbacks, downloads, deletions...)")
@requires("admin")
def audit_log(query_data: AuditQuery) -> AuditOut:
    rows = services().users.audit_entries(query_data.limit)
    return AuditOut(entries=[AuditEntry.model_validate(r, from_attributes=True) for r in rows])
