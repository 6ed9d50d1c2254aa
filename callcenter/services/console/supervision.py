"""Supervisors listen to, whisper to or barge in on an agent's call.

The controller has Asterisk call the supervisor's own phone (an asynchronous
AMI Originate with our own ActionID and ChannelId); once answered, the phone
runs ChanSpy on the agent's channel (dialplan/supervisor.conf, context
cc-spy). A supervisor's phone is an agent account of its own: the console
user's ``agent`` field names that PJSIP endpoint.

An Originate is never placed twice. A phone has at most one spy session at
a time, so a retried HTTP request gets a conflict instead of a second call;
an Originate whose answer never came is not re-sent: its session stays open,
and blocks new ones, until Asterisk reports the call (OriginateResponse,
Hangup) or, at the latest, a deadline shows that no such channel exists.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Protocol

from callcenter.config import NAME_PATTERN
from callcenter.core import pbx_events as ev
from callcenter.core.calls.live import CallBook
from callcenter.core.calls.state import CallState
from callcenter.core.channels import ChannelTable
from callcenter.core.dialplan import Context, Var
from callcenter.services.ports import (
    OriginateUncertain,
    Origination,
    Originator,
    PbxUnavailable,
)
from callcenter.services.timers import Timers

log = logging.getLogger(__name__)

_NAME = re.compile(NAME_PATTERN)
RING_SECONDS = 30
# After the ring time, a session Asterisk said nothing about is checked
# against its channels; this margin covers a slow answer and event delivery.
SETTLE_SECONDS = 10
HISTORY = 50  # ended sessions kept for the console


class SpyMode(StrEnum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


class SpyState(StrEnum):
    DIALLING = "dialling"  # the supervisor's phone is ringing
    ACTIVE = "active"  # answered: ChanSpy runs on the agent's channel
    UNCERTAIN = "uncertain"  # the Originate's answer was lost: it may still ring
    ENDED = "ended"


OPEN = frozenset({SpyState.DIALLING, SpyState.ACTIVE, SpyState.UNCERTAIN})


class SpyError(Exception):
    """A spy request that cannot be carried out; ``code`` is stable, no HTTP here."""

    def __init__(self, code: str, message: str, session: SpySession | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.session = session


@dataclass(slots=True)
class SpySession:
    id: str  # also the Originate's ActionID and the supervisor's channel unique id
    supervisor: str  # the console user who asked
    phone: str  # the supervisor's PJSIP endpoint
    agent: str
    mode: SpyMode
    call_id: str  # the agent's call, when the controller routed it ("" otherwise)
    started_at: float
    state: SpyState = SpyState.DIALLING
    answered_at: float | None = None
    ended_at: float | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Directory(Protocol):
    def get(self, username: str) -> object | None: ...


Listener = Callable[[SpySession], None]


class Supervision:
    def __init__(
        self,
        originator: Originator,
        directory: Directory,
        table: ChannelTable,
        calls: CallBook,
        timers: Timers,
        new_id: Callable[[], str] = lambda: f"cc-spy-{secrets.token_hex(8)}",
    ) -> None:
        self.originator = originator
        self.directory = directory
        self.table = table
        self.calls = calls
        self.timers = timers
        self.new_id = new_id
        self._sessions: dict[str, SpySession] = {}
        self._listeners: list[Listener] = []

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # -- reading -------------------------------------------------------------------------
    def sessions(self) -> list[SpySession]:
        return sorted(self._sessions.values(), key=lambda s: s.started_at, reverse=True)

    def get(self, session_id: str) -> SpySession | None:
        return self._sessions.get(session_id)

    def open_session(self, phone: str) -> SpySession | None:
        for session in self._sessions.values():
            if session.phone == phone and session.state in OPEN:
                return session
        return None

    # -- starting and stopping ------------------------------------------------------------
    async def start(
        self, supervisor: str, phone: str, agent: str, mode: SpyMode, now: float
    ) -> SpySession:
        """Ring the supervisor's phone; once answered it spies on ``agent``'s call."""
        self._check_names(phone, agent)
        existing = self.open_session(phone)
        if existing is not None:
            raise SpyError("busy", f"a {existing.mode} session is already open", existing)
        if not self.table.registered(phone):
            raise SpyError("phone-offline", f"the phone {phone!r} is not registered")
        if self.table.on_endpoint(phone):
            raise SpyError("phone-busy", f"the phone {phone!r} is on a call")
        talking = [c.name for c in self.table.on_endpoint(agent) if c.state == "Up"]
        if not talking:
            raise SpyError("not-on-call", f"{agent} is not on a call")
        session = SpySession(
            id=self.new_id(),
            supervisor=supervisor,
            phone=phone,
            agent=agent,
            mode=mode,
            call_id=self._call_of(agent),
            started_at=now,
        )
        # Recorded before the Originate is sent: a second request arriving
        # while this one waits for Asterisk sees it and is refused.
        self._sessions[session.id] = session
        try:
            await self.originator.originate(self._origination(session, talking[0]))
        except PbxUnavailable as exc:
            self._end(session, now, "pbx-unavailable")
            raise SpyError("pbx-unavailable", f"Asterisk did not place the call: {exc}") from None
        except OriginateUncertain as exc:
            session.state = SpyState.UNCERTAIN
            self._changed(session)
            self._arm_check(session)
            raise SpyError(
                "uncertain",
                f"Asterisk did not confirm the call ({exc}); it may still ring: not retried",
                session,
            ) from None
        log.info("spy %s: %s %s on %s via %s", session.id, supervisor, mode, agent, phone)
        self._changed(session)
        self._arm_check(session)
        return session

    async def stop(self, session_id: str) -> SpySession:
        """Hang up the supervisor's phone; the session ends on Asterisk's Hangup event."""
        session = self._sessions.get(session_id)
        if session is None:
            raise SpyError("unknown-session", f"no spy session {session_id!r}")
        channel = self.table.get(session.id)
        if session.state in OPEN and channel is not None:
            await self.originator.hangup(channel.name)
        return session

    def _check_names(self, phone: str, agent: str) -> None:
        if not phone:
            raise SpyError("no-phone", "this user has no phone (its agent field is empty)")
        for name, what in ((agent, "agent"), (phone, "phone")):
            if not _NAME.fullmatch(name) or self.directory.get(name) is None:
                raise SpyError(f"unknown-{what}", f"no {what} {name!r}")
        if phone == agent:
            raise SpyError("self", "a supervisor cannot spy on their own phone")

    def _call_of(self, agent: str) -> str:
        for call in self.calls.in_state(CallState.TALKING, CallState.RINGING):
            if call.agent == agent:
                return call.call_id
        return ""

    @staticmethod
    def _origination(session: SpySession, near: str) -> Origination:
        """``near``: the agent's channel (ChanSpy finds it on its own node only: with
        several nodes the supervisor's phone is rung from there when it can be)."""
        return Origination(
            endpoint=session.phone,
            context=Context.SPY,
            exten=session.agent,
            action_id=session.id,
            channel_id=session.id,
            caller_id=f'"{session.mode.title()} {session.agent}" <spy>',
            ring_seconds=RING_SECONDS,
            variables=((Var.SPY_MODE.value, session.mode.value),),
            near=near,
        )

    # -- what Asterisk reports ------------------------------------------------------------
    def originate_response(self, event: ev.OriginateResponse) -> None:
        session = self._sessions.get(event.action_id)
        if session is None or session.state is SpyState.ENDED:
            return
        if event.response == "Success":
            session.state = SpyState.ACTIVE
            session.answered_at = self.timers.clock()
            self._changed(session)
        else:
            self._end(session, self.timers.clock(), f"not-answered-{event.reason}")

    def hangup(self, event: ev.Hangup) -> None:
        session = self._sessions.get(event.unique_id)
        if session is not None and session.state is not SpyState.ENDED:
            self._end(session, self.timers.clock(), "hangup")

    async def resync(self) -> None:
        """After an AMI login: events sent while the link was down are gone, so ask the table."""
        for session in list(self._sessions.values()):
            if session.state in OPEN:
                self._check(session.id)

    # -- the deadline ---------------------------------------------------------------------
    def _arm_check(self, session: SpySession) -> None:
        self.timers.after(
            RING_SECONDS + SETTLE_SECONDS, ("spy", session.id), lambda: self._check(session.id)
        )

    def _check(self, session_id: str) -> None:
        session = self._sessions.get(session_id)
        if session is None or session.state not in OPEN:
            return
        channel = self.table.get(session.id)
        if channel is None:
            self._end(session, self.timers.clock(), "no-channel")
            return
        if channel.state != "Up":
            self._arm_check(session)  # still ringing: look again later
        elif session.state is not SpyState.ACTIVE:
            session.state = SpyState.ACTIVE
            session.answered_at = session.answered_at or self.timers.clock()
            self._changed(session)

    def _end(self, session: SpySession, now: float, reason: str) -> None:
        session.state, session.ended_at, session.reason = SpyState.ENDED, now, reason
        self.timers.cancel(("spy", session.id))
        log.info("spy %s ended: %s", session.id, reason)
        self._changed(session)
        self._forget_old()

    def _forget_old(self) -> None:
        ended = [s for s in self.sessions() if s.state is SpyState.ENDED]
        for session in ended[HISTORY:]:
            self._sessions.pop(session.id, None)

    def _changed(self, session: SpySession) -> None:
        for listener in self._listeners:
            try:
                listener(session)
            except Exception:
                log.exception("spy listener %r failed", listener)
