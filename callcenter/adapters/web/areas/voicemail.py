"""/api/voicemail: the messages callers left in the queues' boxes (core/voicemail.py).

Supervisors see every queue's messages; agents those of the queues they take
calls of. Anyone who sees a message may play it (each playback is audited, as
recordings' are), take it (it becomes theirs), mark it handled (supervisors:
anyone's; agents: a new one or their own) and call the caller back: a callback
booked now through the callbacks service, so the dial policy and the do-not-call
list apply.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, abort
from flask import Response, request
from pydantic import BaseModel, Field

from callcenter.adapters.web.areas.recordings import wav_response
from callcenter.adapters.web.auth import Principal, requester, requires
from callcenter.adapters.web.services import services
from callcenter.core.voicemail import FILTERS, Voicemail, VoicemailError, check_handle, check_take

api = APIBlueprint("voicemail_api", __name__, url_prefix="/api/voicemail", tag="Voicemail")

PLAYBACK_WINDOW = 30 * 60.0  # seconds: one audit row per listener and message in this
QUEUE = r"^([a-z][a-z0-9_-]{0,31})?$"


class VoicemailOut(BaseModel):
    id: int
    box: str
    queue: str
    call_id: str
    caller: str
    caller_name: str
    left_at: float
    duration: float
    status: str
    owner: str
    handled_by: str
    handled_at: float | None
    callback_id: int | None
    ivr_path: list[Any]


class VoicemailList(BaseModel):
    voicemails: list[VoicemailOut]


class CallbackIn(BaseModel):
    notes: str = Field("", max_length=500)


def _out(message: Voicemail) -> VoicemailOut:
    return VoicemailOut.model_validate(message.as_dict())


def _queues(who: Principal) -> list[str] | None:
    """The queues whose messages ``who`` may see; None: all of them."""
    if who.at_least("supervisor"):
        return None
    if not who.agent:
        return []
    console = services()
    return list(
        console.bridge.call(
            lambda: console.queues.served_by(console.agents.skills.get(who.agent, {}))
        )
    )


def _find(voicemail_id: int) -> Voicemail:
    found = services().voicemail.repository.get(voicemail_id)
    allowed = _queues(requester())
    if found is None or (allowed is not None and found.queue not in allowed):
        abort(404, f"no voicemail {voicemail_id}")  # not yours to know about either
    return found


def _who(who: Principal) -> str:
    return who.agent or who.name


@api.get("")
@api.output(VoicemailList)
@api.doc(summary="Messages left in the queues' boxes, newest first (?queue=, "
         "?status=new|taken|handled|open)")  # fmt: skip
@requires("agent")
def inbox() -> VoicemailList:
    queue, status = request.args.get("queue", ""), request.args.get("status", "")
    if status and status not in FILTERS:
        abort(400, f"status must be one of {', '.join(FILTERS)}")
    if len(queue) > 32 or not all(c.isalnum() or c in "_-" for c in queue):
        abort(400, "bad queue name")
    found = services().voicemail.repository.search(_queues(requester()), queue, status)
    return VoicemailList(voicemails=[_out(m) for m in found])


@api.get("/<int:voicemail_id>")
@api.output(VoicemailOut)
@api.doc(summary="One message")
@requires("agent")
def one(voicemail_id: int) -> VoicemailOut:
    return _out(_find(voicemail_id))


@api.get("/<int:voicemail_id>/audio")
@api.doc(summary="The message as WAV, for the browser's player (HTTP ranges supported)")
@requires("agent")
def audio(voicemail_id: int) -> Response:
    message = _find(voicemail_id)
    console = services()
    try:
        path = console.voicemail.audio(message.path)
    except VoicemailError:
        abort(404, f"voicemail {voicemail_id} has no file in the spool")
    if not path.is_file():
        abort(404, f"voicemail {voicemail_id}: the file is gone")
    who = requester()
    console.users.audit_once(
        who.name, "voicemail.played", f"voicemail:{voicemail_id}", PLAYBACK_WINDOW,
        call_id=message.call_id,
    )  # fmt: skip
    return wav_response(path, f"voicemail-{voicemail_id}.wav")


@api.post("/<int:voicemail_id>/take")
@api.output(VoicemailOut)
@api.doc(summary="Take a message: it becomes yours", responses={409: "Someone else's, or handled"})
@requires("agent")
def take(voicemail_id: int) -> VoicemailOut:
    message, who = _find(voicemail_id), requester()
    check_take(message, _who(who))
    console = services()
    if not console.voicemail.repository.take(voicemail_id, _who(who)):
        raise VoicemailError("taken", f"message {voicemail_id} was taken meanwhile")
    console.users.audit(who.name, "voicemail.taken", f"voicemail:{voicemail_id}")
    return _out(_find(voicemail_id))


@api.post("/<int:voicemail_id>/handled")
@api.output(VoicemailOut)
@api.doc(summary="Mark a message handled", responses={409: "Someone else's, or handled"})
@requires("agent")
def handled(voicemail_id: int) -> VoicemailOut:
    message, who = _find(voicemail_id), requester()
    check_handle(message, _who(who), who.at_least("supervisor"))
    console = services()
    console.voicemail.repository.handled(voicemail_id, _who(who), console.clock())
    console.users.audit(who.name, "voicemail.handled", f"voicemail:{voicemail_id}")
    return _out(_find(voicemail_id))


@api.post("/<int:voicemail_id>/callback")
@api.input(CallbackIn)
@api.output(VoicemailOut, status_code=201)
@api.doc(
    summary="Call the caller back: a callback booked now in the message's queue",
    description="The callbacks service places it when an agent of the queue is free; the dial "
    "policy and the do-not-call list apply (refusals as for POST /api/callbacks).",
    responses={409: "Someone else's, handled, or no number to call", 422: "Refused number"},
)
@requires("agent")
def callback(voicemail_id: int, json_data: CallbackIn) -> VoicemailOut:
    message, who = _find(voicemail_id), requester()
    check_take(message, _who(who))
    if not message.caller_number:
        raise VoicemailError("no-number", f"message {voicemail_id} has no caller number")
    console = services()
    now = console.clock()
    booked = console.bridge.run(
        console.callbacks.book(
            message.queue,
            message.caller_number,
            now,
            now,
            booked_by=_who(who),
            origin=("agent", who.agent) if who.agent else ("user", who.name),
            where="voicemail",
            origin_call_id=message.call_id,
            notes=json_data.notes or f"voicemail {voicemail_id}",
        )
    )
    repository = console.voicemail.repository
    repository.take(voicemail_id, _who(who))
    repository.called_back(voicemail_id, booked.id)
    console.users.audit(
        who.name, "voicemail.callback", f"voicemail:{voicemail_id}", callback_id=booked.id
    )
    return _out(_find(voicemail_id))
