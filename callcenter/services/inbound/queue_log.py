"""Asterisk's standard queue_log lines for what the controller's ACD does, so
reporting tools that read queue_log keep working. Field layouts follow
app_queue's own lines (ENTERQUEUE url|callerid|position, CONNECT
holdtime|bridged uniqueid|ringtime, ...)."""

from __future__ import annotations

import logging

from callcenter.core import events as ev
from callcenter.services.ports import Pbx, PbxUnavailable

log = logging.getLogger(__name__)


class QueueLog:
    def __init__(self, pbx: Pbx) -> None:
        self.pbx = pbx
        self._positions: dict[str, int] = {}

    async def _write(
        self, queue: str, unique_id: str, agent: str, event: str, *fields: object
    ) -> None:
        if not queue:
            return  # a caller whose queue was never known (Asterisk's fallback queue logged it)
        try:
            await self.pbx.queue_log(queue, unique_id, agent, event, [str(f) for f in fields])
        except PbxUnavailable as exc:
            log.warning("queue_log %s not written: %s", event, exc)

    async def queued(self, e: ev.CallQueued) -> None:
        self._positions.setdefault(e.call_id, e.position)
        await self._write(e.queue, e.unique_id, "NONE", "ENTERQUEUE", "", e.caller, e.position)

    async def answered(self, e: ev.CallAnswered) -> None:
        await self._write(
            e.queue,
            e.unique_id,
            e.agent,
            "CONNECT",
            round(e.wait),
            e.agent_channel,
            round(e.ring_seconds),
        )

    async def completed(self, e: ev.CallCompleted) -> None:
        if e.ended_by == "transfer":
            return  # to an outside number: its BLINDTRANSFER line says it (transferred)
        kind = "COMPLETEAGENT" if e.ended_by == "agent" else "COMPLETECALLER"
        await self._write(
            e.queue,
            e.unique_id,
            e.agent,
            kind,
            round(e.wait),
            round(e.talk),
            self._positions.get(e.call_id, 1),
        )

    async def transferred(self, e: ev.CallTransferred) -> None:
        """As app_queue logs a blind transfer: extension|context|holdtime|calltime|origposition,
        with the transfer's kind (queue, agent, number) as the context. The agent's part of
        the call ends here: no COMPLETE* line follows for it."""
        await self._write(
            e.queue,
            e.unique_id,
            e.agent,
            "BLINDTRANSFER",
            e.target,
            e.kind,
            round(e.wait),
            round(e.talk),
            self._positions.get(e.call_id, 1),
        )

    async def abandoned(self, e: ev.CallAbandoned) -> None:
        await self._write(
            e.queue,
            e.unique_id,
            "NONE",
            "ABANDON",
            e.position,
            self._positions.get(e.call_id, e.position),
            round(e.wait),
        )

    async def overflowed(self, e: ev.CallOverflowed) -> None:
        kind = {"max-wait": "EXITWITHTIMEOUT", "unstaffed": "EXITEMPTY"}.get(e.reason)
        if kind is not None:
            position = self._positions.get(e.call_id, 1)
            await self._write(e.queue, e.unique_id, "NONE", kind, position, position, round(e.wait))

    async def no_answer(self, e: ev.CallRingNoAnswer) -> None:
        await self._write(
            e.queue, e.unique_id, e.agent, "RINGNOANSWER", round(e.ring_seconds * 1000)
        )

    async def agent_changed(self, e: ev.AgentStateChanged) -> None:
        if e.previous == "logged_out":
            await self._write("NONE", "NONE", e.agent, "ADDMEMBER", "")
        if e.state == "logged_out":
            await self._write("NONE", "NONE", e.agent, "REMOVEMEMBER", "")
        elif e.state == "paused" and e.previous != "paused":
            await self._write("NONE", "NONE", e.agent, "PAUSE", e.reason)
        elif e.previous == "paused" and e.state != "paused":
            await self._write("NONE", "NONE", e.agent, "UNPAUSE", "")

    def ended(self, e: ev.CallEnded) -> None:
        self._positions.pop(e.call_id, None)
