"""The dialer's own records: a campaign as it runs, one attempt, one decision."""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.core.dialplan import Status
from callcenter.core.outbound import dispositions
from callcenter.core.outbound.dispositions import AmdResult, Outcome
from callcenter.core.outbound.records import LeadRecord
from callcenter.core.outbound.retry import LeadState
from callcenter.core.outbound.settings import CampaignSettings

AMD_VERDICTS: dict[str, AmdResult] = {
    "HUMAN": "HUMAN",
    "MACHINE": "MACHINE",
    "NOTSURE": "NOTSURE",
    "HANGUP": "HANGUP",
}


@dataclass(slots=True)
class Campaign:
    id: int
    name: str
    settings: CampaignSettings
    id_prompt: str = ""  # custom/<name>: identification and opt-out, for abandoned calls
    machine_prompt: str = ""  # custom/<name>: the message left on answering machines


@dataclass(slots=True)
class Attempt:
    """One dialled call, from Originate to the customer's hangup."""

    call_id: str  # ours; also the Originate's ActionID and the channel's unique id
    campaign: Campaign
    lead: LeadRecord
    number: str  # E.164, as checked
    audit_id: int
    placed_at: float
    lead_state: LeadState  # the lead as dialled (status dialing, this attempt counted)
    agent: str = ""  # held before dialling (preview, progressive) or taken at answer
    node: str = ""  # the Asterisk node that places it ([[pbx.nodes]]); '' on one box
    channel: str = ""
    answered_at: float | None = None
    greeted_at: float | None = None  # the greeting is over: AMD's verdict (or the answer)
    amd: AmdResult = ""
    amd_cause: str = ""
    connected_at: float | None = None
    cause: int | None = None  # Q.850 cause of a channel that was never answered
    originate_reason: int | None = None
    disposition: str = ""  # the agent's wrap-up code, once given
    ended: bool = False

    def outcome(self) -> Outcome:
        """The core's verdict. The grace time runs from the end of the greeting,
        as the rule says (answered, no agent within 2 s of the greeting)."""
        seen = dispositions.Attempt(
            answered_at=self.greeted_at or self.answered_at,
            agent_connected_at=self.connected_at,
            amd=self.amd,
            cause=self.cause,
            originate_reason=self.originate_reason,
        )
        return dispositions.outcome_of(seen, self.campaign.settings.agent_grace_seconds)


@dataclass(frozen=True, slots=True)
class OutboundDecision:
    """What the dialplan (dialplan/outbound.conf) does with an answered customer."""

    status: Status
    target: str = ""  # the agent's endpoint (CONNECT)
    ring_timeout: int = 0
    prompt: str = ""  # said before hanging up
    after_greeting: bool = False  # wait for a machine's greeting to end first
    recording: str = ""  # MixMonitor file, as Asterisk sees it
