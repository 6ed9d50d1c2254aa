"""More parties in a conference: once a consultation is a conference (consult.py: the
caller, the agent and the target in one ConfBridge), the agent may add further parties,
another agent or an outside number (the dial policy applies), up to ``maximum`` in all
(the caller counted), and remove them again.

How it is done in Asterisk (dialplan/call_control.conf): an Originate rings the party
straight into cc-conference-member with the conference's CC_CONF; an always-connected
agent's waiting line is redirected there instead (no ring). Like the target, a party is
let go by ConfBridge when the caller (the marked user) leaves; removing one hangs their
leg up (a line goes back to wait in cc-nailed).

Records: each agent party's part ends as a segment of the call (reason
``conference-party``: its talk counts in the leg's handle time like a transfer's second
agent), when they are removed or when the call ends. Outside numbers get no segment
(no agent's time), but the call's data names them. Party agents are kept from other
calls while in the conference (their phone is busy) but stay in their own state (no
wrap-up after).

A party who hangs up their phone (or never answers) leaves the list, their segment
ending then. Limits: the agent leaves (consult.py ``complete``) only once the added
parties are removed.
"""

from __future__ import annotations

import contextlib
import logging
import uuid

from callcenter.core import pbx_events as ev
from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.segments import Holds, close_segment
from callcenter.core.dialplan import Context, Var
from callcenter.core.events import CallCompleted, CallDataChanged, segment_ended
from callcenter.services.inbound.call_control import CallControlError
from callcenter.services.inbound.consult import RING_SECONDS, Consult, Consultations, Party
from callcenter.services.ports import (
    LiveChannel,
    OriginateUncertain,
    Origination,
    Originator,
    PbxUnavailable,
)

log = logging.getLogger(__name__)

PARTY_REASON = "conference-party"


class ConferenceParties:
    def __init__(self, consults: Consultations, originator: Originator, maximum: int = 5) -> None:
        self.consults = consults
        self.control = consults.control
        self.originator = originator
        self.maximum = maximum  # parties in all, the caller, agent and target counted

    def of(self, agent: str) -> list[Party]:
        consult = self.consults.of(agent)
        return list(consult.parties) if consult is not None else []

    # -- add ---------------------------------------------------------------------------
    async def add(self, agent: str, to: str, target: str) -> Party:
        control = self.control
        call = control.call_of(agent)
        consult = self._conference(agent)
        if 3 + len(consult.parties) >= self.maximum:
            raise CallControlError(
                "conference-full", f"a conference has at most {self.maximum} parties"
            )
        if to == "number":
            name = await control.vet_number(agent, target, "conference")
            kind, via = "number", control.trunk()
        else:
            self._check_agent(agent, target)
            name, kind, via = target, "agent", ""
        if not control._still(call, agent):
            raise CallControlError("no-call", "the call ended meanwhile")
        party = Party(name, kind, f"party-{uuid.uuid4().hex[:16]}", control.clock())
        lines = control.line_of(name) if kind == "agent" else None
        line = lines.line_of(name) if lines is not None else None
        if lines is not None and line is not None:
            lines.lend(name)
            try:
                await self._lend(consult, call, party, line.channel)
            except CallControlError:
                lines.restore(name, None)
                raise
        else:
            await self._ring(consult, call, party, via)
        consult.parties.append(party)
        self._publish_parties(call, consult)
        return party

    def _check_agent(self, agent: str, target: str) -> None:
        control = self.control
        if target == agent:
            raise CallControlError("same-agent", "the agent is in the conference already")
        if target not in control.agents.statuses:
            raise CallControlError("unknown-agent", f"no agent {target!r}")
        if not control.agents.available(target) or self.consults._busy(target):
            raise CallControlError("agent-busy", f"{target} is not ready for a call")

    def _variables(self, consult: Consult, call: LiveCall, party: Party) -> list[tuple[str, str]]:
        return [
            (Var.CONF.value, consult.channel_id),
            (Var.CONF_PARTY.value, call.channel),
            (Var.CONSULT_TARGET.value, party.name),
            (Var.CONSULT_AGENT.value, consult.agent),
        ]

    async def _ring(self, consult: Consult, call: LiveCall, party: Party, via: str) -> None:
        request = Origination(
            endpoint=party.name,
            context=Context.CONFERENCE_MEMBER,
            exten="s",
            action_id=party.channel_id,
            channel_id=party.channel_id,
            caller_id=f'"Conference {consult.agent}" <{consult.agent}>',
            ring_seconds=RING_SECONDS,
            variables=tuple(self._variables(consult, call, party)),
            via=via,
        )
        try:
            await self.originator.originate(request)
        except OriginateUncertain:
            pass  # maybe ringing: kept, so that remove can hang it up
        except PbxUnavailable as exc:
            raise CallControlError("pbx", f"could not call {party.name}: {exc}") from exc

    async def _lend(self, consult: Consult, call: LiveCall, party: Party, line: str) -> None:
        """An always-connected agent: their waiting line joins the conference."""
        pbx = self.control.pbx
        try:
            for name, value in self._variables(consult, call, party):
                await pbx.set_var(line, Var(name), value)
            await pbx.redirect(line, Context.CONFERENCE_MEMBER, "s")
        except PbxUnavailable as exc:
            raise CallControlError("pbx", f"could not reach {party.name}: {exc}") from exc
        party.line = line

    # -- remove --------------------------------------------------------------------------
    async def remove(self, agent: str, name: str) -> LiveCall:
        """The party leaves the conference: their leg hung up (a line back to wait)."""
        call = self.control.call_of(agent)
        consult = self._conference(agent)
        party = next((p for p in consult.parties if p.name == name), None)
        if party is None:
            raise CallControlError("no-party", f"{name} is not in the conference")
        try:
            await self._end_leg(party)
        except PbxUnavailable as exc:
            raise CallControlError("pbx", f"could not remove {name}: {exc}") from exc
        if party in consult.parties:  # else its hang-up was heard meanwhile (on_hangup)
            consult.parties.remove(party)
            self._ended(call, party, self.control.clock())
            self._publish_parties(call, consult)
        return call

    async def _end_leg(self, party: Party) -> None:
        lines = self.control.line_of(party.name) if party.kind == "agent" else None
        if party.line and lines is not None and lines.line_of(party.name) is not None:
            await lines.back_to_line(party.name)
            return
        leg = next((c for c in await self.control.pbx.channels() if self._is_leg(party, c)), None)
        if leg is not None:
            await self.control.pbx.hangup(leg.name)

    @staticmethod
    def _is_leg(party: Party, channel: LiveChannel) -> bool:
        if party.line:
            return channel.name == party.line
        return channel.unique_id == party.channel_id

    # -- records ---------------------------------------------------------------------------
    def on_hangup(self, event: ev.Hangup) -> None:
        """A party's leg hung up (they left, or did not answer): their part ends now."""
        for consult in self.consults.all():
            for party in list(consult.parties):
                if party.channel_id != event.unique_id and (
                    not party.line or party.line != event.channel
                ):
                    continue
                consult.parties.remove(party)
                call = self.control.calls.get(consult.call_id)
                self._ended(call, party, self.control.clock(), consult.call_id)
                if call is not None:
                    self._publish_parties(call, consult)

    def on_completed(self, event: CallCompleted) -> None:
        """The call is over: the parties still in its conference end their part now."""
        for consult in self.consults.all():
            if consult.call_id != event.call_id or not consult.parties:
                continue
            call = self.control.calls.get(event.call_id)
            for party in consult.parties:
                self._ended(call, party, event.at, event.call_id, event.queue)
                self._line_home(party)
            consult.parties.clear()

    def _line_home(self, party: Party) -> None:
        """A lent line finds its own way back (cc-conference-member's end): busy until."""
        lines = self.control.line_of(party.name) if party.line else None
        if lines is not None:
            lines.lend(party.name)

    def _ended(
        self,
        call: LiveCall | None,
        party: Party,
        now: float,
        call_id: str = "",
        queue: str = "",
    ) -> None:
        if party.kind != "agent":
            return
        segment = close_segment(
            party.name,
            call.queue if call is not None else queue,
            party.added_at,
            Holds(),
            now,
            PARTY_REASON,
        )
        self.control.notifier.publish(
            segment_ended(call.call_id if call is not None else call_id, segment)
        )

    def _publish_parties(self, call: LiveCall, consult: Consult) -> None:
        names = ",".join(p.name for p in consult.parties)
        call.data["conference_parties"] = names
        self.control.notifier.publish(
            CallDataChanged(
                at=self.control.clock(), call_id=call.call_id,
                changes={"conference_parties": names},
            )
        )  # fmt: skip

    # -- after a restart ---------------------------------------------------------------
    async def recover(self, channels: list[LiveChannel]) -> None:
        """Parties of a conference carried on after a restart (consult.py adopted it)."""
        pbx = self.control.pbx
        by_caller = {c.call_id: c for c in self.consults.all() if c.conference and not c.parties}
        calls = {
            call.channel: consult
            for consult in by_caller.values()
            if (call := self.control.calls.get(consult.call_id)) is not None
        }
        for channel in channels:
            if channel.context != Context.CONFERENCE_MEMBER or not calls:
                continue
            with contextlib.suppress(PbxUnavailable):
                caller = await pbx.get_var(channel.name, Var.CONF_PARTY)
                consult = calls.get(caller or "")
                if consult is None:
                    continue
                name = await pbx.get_var(channel.name, Var.CONSULT_TARGET) or ""
                kind = "agent" if name in self.control.agents.statuses else "number"
                party = Party(name, kind, channel.unique_id, self.control.clock())
                lines = self.control.line_of(name) if kind == "agent" else None
                line = lines.line_of(name) if lines is not None else None
                if lines is not None and line is not None and line.channel == channel.name:
                    party.line = channel.name
                    lines.lend(name)
                consult.parties.append(party)
                log.info("conference of %s: party %s carried on", consult.call_id, name)

    def _conference(self, agent: str) -> Consult:
        consult = self.consults.of(agent)
        if consult is None or not consult.conference:
            raise CallControlError("no-conference", "no conference in progress")
        return consult
