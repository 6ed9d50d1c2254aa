"""What one load run of bench/inbound_paths.py measured, read from its capture
(pure: SIP messages and DTMF packets in, per-call timelines and figures out).

A caller leg is keyed by the caller's number (unique per call in a run);
Asterisk's INVITE to an agent carries that number in its From header, which
joins the agent leg to its caller without trusting any log. The end of the
caller's digit is the first RFC 4733 packet with the end bit, sent to the RTP
port Asterisk's 200 OK gave that caller.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from callcenter.simulate.capture import Datagram, DtmfPacket, SipMessage, parse_dtmf, parse_sip

# A caller counts as waiting this long after the end of their digit: both
# paths have put them in line well within it (a few ms when idle).
JOIN_MARGIN = 0.25


@dataclass
class CallerLeg:
    number: str
    call_id: str
    invited_at: float
    answered_at: float | None = None  # Asterisk's 200 OK to the INVITE (the IVR answered)
    media_port: int | None = None  # Asterisk's RTP port for this caller
    digit_at: float | None = None  # end of the caller's digit
    agent_rang_at: float | None = None  # first INVITE to an agent for this caller
    agent_answered: bool = False

    @property
    def post_dial(self) -> float | None:
        return None if self.answered_at is None else self.answered_at - self.invited_at

    @property
    def queue_to_agent(self) -> float | None:
        if self.digit_at is None or self.agent_rang_at is None:
            return None
        return self.agent_rang_at - self.digit_at


@dataclass
class AgentLeg:
    call_id: str
    agent: str
    caller: str
    invited_at: float
    answered: bool = False
    hung_up_at: float | None = None  # the agent's BYE


@dataclass
class Timelines:
    callers: dict[str, CallerLeg] = field(default_factory=dict)
    agent_legs: list[AgentLeg] = field(default_factory=list)
    unmatched_dtmf: int = 0


def timelines(
    datagrams: Iterable[Datagram], caller_host: str, asterisk: str, agent_host: str
) -> Timelines:
    """Rebuild every caller leg and agent leg of one run from its capture."""
    found = Timelines()
    by_call_id: dict[str, CallerLeg] = {}
    agent_by_call_id: dict[str, AgentLeg] = {}
    dtmf: list[DtmfPacket] = []
    for datagram in datagrams:
        message = parse_sip(datagram)
        if message is None:
            packet = parse_dtmf(datagram)
            if packet is not None and packet.src == caller_host and packet.end:
                dtmf.append(packet)
            continue
        if message.src == caller_host or message.dst == caller_host:
            _caller_message(found, by_call_id, message, caller_host)
        elif message.src == agent_host or message.dst == agent_host:
            _agent_message(found, agent_by_call_id, message, asterisk)
    for leg in found.agent_legs:
        caller = found.callers.get(leg.caller)
        if caller is not None and caller.agent_rang_at is None:
            caller.agent_rang_at = leg.invited_at
        if caller is not None and leg.answered:
            caller.agent_answered = True
    _attach_digits(found, dtmf)
    return found


def _caller_message(
    found: Timelines, by_call_id: dict[str, CallerLeg], message: SipMessage, caller_host: str
) -> None:
    if message.method == "INVITE" and message.src == caller_host:
        if message.call_id not in by_call_id:  # not a retransmission
            leg = CallerLeg(message.from_user, message.call_id, message.at)
            by_call_id[message.call_id] = leg
            found.callers[leg.number] = leg
        return
    leg = by_call_id.get(message.call_id)
    if leg is None:
        return
    if message.status == 200 and message.cseq_method == "INVITE" and leg.answered_at is None:
        leg.answered_at = message.at
        leg.media_port = message.media_port


def _agent_message(
    found: Timelines, by_call_id: dict[str, AgentLeg], message: SipMessage, asterisk: str
) -> None:
    if message.method == "INVITE" and message.src == asterisk:
        if message.call_id not in by_call_id:
            leg = AgentLeg(message.call_id, message.uri_user, message.from_user, message.at)
            by_call_id[message.call_id] = leg
            found.agent_legs.append(leg)
        return
    leg = by_call_id.get(message.call_id)
    if leg is None:
        return
    if message.status == 200 and message.cseq_method == "INVITE":
        leg.answered = True
    elif message.method == "BYE" and message.dst == asterisk and leg.hung_up_at is None:
        leg.hung_up_at = message.at


def _attach_digits(found: Timelines, dtmf: list[DtmfPacket]) -> None:
    # Asterisk reuses RTP ports over time: per port, the caller answered last before the packet.
    by_port: dict[int, list[tuple[float, CallerLeg]]] = {}
    for leg in found.callers.values():
        if leg.media_port is not None and leg.answered_at is not None:
            by_port.setdefault(leg.media_port, []).append((leg.answered_at, leg))
    for entries in by_port.values():
        entries.sort(key=lambda entry: entry[0])
    for packet in dtmf:
        entries = by_port.get(packet.dport, [])
        index = bisect_right([at for at, _ in entries], packet.at) - 1
        if index < 0:
            found.unmatched_dtmf += 1
            continue
        leg = entries[index][1]
        if leg.digit_at is None:
            leg.digit_at = packet.at


def agent_free_to_ring(found: Timelines) -> list[float]:
    """Seconds from an agent's BYE to that agent's next INVITE, counted only when a
    caller was left waiting for them: more callers in line at the BYE than other
    agents idle then (a caller who is in line and not yet ringing anyone)."""
    waited = [
        (leg.digit_at + JOIN_MARGIN, leg.agent_rang_at)
        for leg in found.callers.values()
        if leg.digit_at is not None
        and leg.agent_rang_at is not None
        and leg.agent_rang_at > leg.digit_at + JOIN_MARGIN
    ]
    waiting_from = sorted(joined for joined, _ in waited)
    waiting_until = sorted(rang for _, rang in waited)
    per_agent: dict[str, list[AgentLeg]] = {}
    for leg in found.agent_legs:
        per_agent.setdefault(leg.agent, []).append(leg)
    for legs in per_agent.values():
        legs.sort(key=lambda leg: leg.invited_at)
    # Idle periods of every agent: from a BYE to the agent's next INVITE.
    idle: list[tuple[float, float, str]] = []
    for agent, legs in per_agent.items():
        for previous, following in itertools.pairwise(legs):
            if previous.hung_up_at is not None and following.invited_at > previous.hung_up_at:
                idle.append((previous.hung_up_at, following.invited_at, agent))
    gaps = []
    for freed, rang, agent in idle:
        waiting = bisect_right(waiting_from, freed) - bisect_right(waiting_until, freed)
        others_idle = sum(1 for start, end, who in idle if who != agent and start < freed < end)
        if waiting > others_idle:
            gaps.append(rang - freed)
    return gaps


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)
