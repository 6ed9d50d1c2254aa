"""Voicemail messages callers left in the queues' boxes, as the console works them.

Asterisk's app_voicemail writes each message as ``msgNNNN.txt`` (an INI-like
description) beside its audio, under ``spool/voicemail/callcenter/<box>/INBOX``.
The dialplan (cc-voicemail) sets ``VM_CATEGORY`` to our call id, so the
description's ``category`` links the message to its call record.

A message is ``new`` until someone takes it (it becomes theirs: ``taken``), then
``handled``; a callback may be booked for it at any point before it is handled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callcenter.core.callerid import vet_number

NEW, TAKEN, HANDLED = "new", "taken", "handled"
STATUSES = (NEW, TAKEN, HANDLED)
OPEN = "open"  # a filter: new or taken, not yet handled
FILTERS = (*STATUSES, OPEN)

_CALL_ID = re.compile(r"^[0-9a-f]{1,32}$")


class VoicemailError(Exception):
    """A request about a message that cannot be met (code: not-found, handled, taken)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class LeftMessage:
    """One message as Asterisk described it in its ``.txt`` file."""

    msg_id: str  # Asterisk's own id, unique per message
    box: str
    caller_number: str  # E.164 when the region allows it, "" when withheld
    caller_name: str
    left_at: float  # epoch seconds
    duration: float  # seconds
    call_id: str  # our call id (from VM_CATEGORY), "" when not set


@dataclass(frozen=True, slots=True)
class Voicemail:
    id: int
    msg_id: str
    box: str
    queue: str
    call_id: str
    caller_number: str
    caller_name: str
    left_at: float
    duration: float
    path: str  # relative to the voicemail spool's context folder, without extension
    status: str
    owner: str  # who took it
    handled_by: str
    handled_at: float | None
    callback_id: int | None
    ivr_path: list[object]  # the call's IVR path, from its call record

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "box": self.box,
            "queue": self.queue,
            "call_id": self.call_id,
            "caller": self.caller_number,
            "caller_name": self.caller_name,
            "left_at": self.left_at,
            "duration": self.duration,
            "status": self.status,
            "owner": self.owner,
            "handled_by": self.handled_by,
            "handled_at": self.handled_at,
            "callback_id": self.callback_id,
            "ivr_path": list(self.ivr_path),
        }


def parse_message(text: str, box: str, region: str = "") -> LeftMessage | None:
    """The message a ``msgNNNN.txt`` describes, or None when it is not (yet) complete."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith(("[", ";")):
            fields[key.strip()] = value.strip()
    try:
        left_at = float(fields["origtime"])
        duration = float(fields.get("duration", "0") or 0)
    except (KeyError, ValueError):
        return None
    msg_id = fields.get("msg_id") or f"{int(left_at)}-{box}"
    callerid = fields.get("callerid", "")
    head, bracket, tail = callerid.rstrip().rpartition("<")
    if bracket and tail.endswith(">"):
        raw_number, name = tail[:-1], head.strip().strip('"')
    else:
        raw_number, name = callerid, ""
    number, valid = vet_number(raw_number, region)
    category = fields.get("category", "")
    return LeftMessage(
        msg_id=msg_id[:64],
        box=box,
        caller_number=number if valid else "",
        caller_name=name[:40],
        left_at=left_at,
        duration=max(0.0, duration),
        call_id=category if _CALL_ID.fullmatch(category) else "",
    )


def box_queues(boxes: dict[str, set[str]]) -> dict[str, str]:
    """Each box's queue (the first by name when queues share a box), from queue -> boxes."""
    out: dict[str, str] = {}
    for queue in sorted(boxes):
        for box in boxes[queue]:
            out.setdefault(box, queue)
    return out


def check_take(message: Voicemail, who: str) -> None:
    if message.status == HANDLED:
        raise VoicemailError("handled", f"message {message.id} is already handled")
    if message.status == TAKEN and message.owner != who:
        raise VoicemailError("taken", f"message {message.id} is {message.owner}'s")


def check_handle(message: Voicemail, who: str, supervisor: bool) -> None:
    if message.status == HANDLED:
        raise VoicemailError("handled", f"message {message.id} is already handled")
    if message.status == TAKEN and message.owner != who and not supervisor:
        raise VoicemailError("taken", f"message {message.id} is {message.owner}'s")


@dataclass(frozen=True, slots=True)
class QueueVoicemail:
    """A queue's messages in a period: how many, how many handled and how fast."""

    queue: str
    messages: int
    handled: int
    called_back: int
    open: int
    mean_handle_seconds: float | None  # left to handled, handled ones only
    max_handle_seconds: float | None


def summarise(messages: list[Voicemail]) -> list[QueueVoicemail]:
    """Per queue (by name), from the messages left in the period."""
    by_queue: dict[str, list[Voicemail]] = {}
    for message in messages:
        by_queue.setdefault(message.queue, []).append(message)
    out = []
    for queue, found in sorted(by_queue.items()):
        times = [
            max(0.0, m.handled_at - m.left_at)
            for m in found
            if m.status == HANDLED and m.handled_at is not None
        ]
        out.append(
            QueueVoicemail(
                queue=queue,
                messages=len(found),
                handled=sum(1 for m in found if m.status == HANDLED),
                called_back=sum(1 for m in found if m.callback_id is not None),
                open=sum(1 for m in found if m.status != HANDLED),
                mean_handle_seconds=round(sum(times) / len(times), 1) if times else None,
                max_handle_seconds=round(max(times), 1) if times else None,
            )
        )
    return out
