"""The contract with the dialplan: every channel and global variable shared
between the controller and ``dialplan/*.conf``, and every status value.

A test checks that each ``CC_*`` name the dialplan uses is declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Var(StrEnum):
    # Set by every FastAGI route before it ends; the dialplan branches on it.
    STATUS = "CC_STATUS"
    # Why a route ended in FAIL or a caller fell back, for the logs.
    REASON = "CC_REASON"
    # Our id for the call, set on entry.
    CALL_ID = "CC_CALL_ID"
    # The number the caller dialled, filtered to digits and + by the dialplan.
    DIALLED = "CC_DIALLED"
    # The agent endpoint to ring (controller-chosen; the dialplan re-checks its form).
    TARGET = "CC_TARGET"
    # Seconds the agent's phone rings before the call returns to the line.
    RING_TIMEOUT = "CC_RING_TIMEOUT"
    # Music-on-hold class while waiting and ringing.
    MOH = "CC_MOH"
    # Where MixMonitor writes the call's recording (inherited by the agent leg).
    REC_FILE = "CC_REC_FILE"
    # Set once MixMonitor runs on the caller, so a second ring does not start another.
    RECORDING = "CC_RECORDING"
    # The voicemail box a caller is sent to.
    VM_BOX = "CC_VM_BOX"
    # Set when the caller joins our line: their queue and their rank (QUEUE_PRIO) in
    # its plain twin, should the controller go silent (core/acd/fallback.py).
    QUEUE = "CC_QUEUE"
    FALLBACK_RANK = "CC_FALLBACK_RANK"
    # Scratch: the plain queue cc-fallback picks.
    FALLBACK_TO = "CC_FALLBACK_TO"
    # A sound to play before saying goodbye (controller-chosen from configuration).
    PROMPT = "CC_PROMPT"
    # Scratch: the keys Read() collects for the IVR (adapters/agi/keys.py).
    KEYS = "CC_KEYS"
    # The flow's first menu run by the dialplan before the controller is asked
    # (cc-first, core/ivr/first.py): the menu's token, then what came of it
    # ("token/READSTATUS/keys"), the inbound route's second argument.
    FIRST_MENU = "CC_FIRST_MENU"
    FIRST = "CC_FIRST"
    # When the caller entered cc-entry (epoch seconds, ms): the inbound route's third
    # argument, so a call's record starts at its arrival, not after the first menu.
    ARRIVED = "CC_ARRIVED"
    # Scratch: the heartbeat value read in the waiting loop.
    BEAT = "CC_BEAT"
    # How a supervisor's phone spies on an agent (cc-spy): listen, whisper or barge.
    SPY_MODE = "CC_SPY_MODE"
    # A callback rung agent first (dialplan/callback.conf): the customer's E.164 number
    # and the trunk to reach it; the dialplan checks both forms again before Dial.
    CB_NUMBER = "CC_CB_NUMBER"
    CB_TRUNK = "CC_CB_TRUNK"
    # Outbound (dialplan/outbound.conf): "1" runs AMD() on the customer's greeting.
    AMD = "CC_AMD"
    # An always-connected agent's waiting leg (dialplan/queue.conf): which agent it is.
    NAILED_AGENT = "CC_NAILED_AGENT"
    # Scratch in cc-connect: the agent's waiting leg, and how bridging to it went.
    NAILED = "CC_NAILED"
    NAILED_RESULT = "CC_NAILED_RESULT"
    # Outbound: the campaign's identification message, set at Originate (abandoned calls).
    ID_PROMPT = "CC_ID_PROMPT"
    # Outbound: "1" waits for the end of a machine's greeting before CC_PROMPT.
    AFTER_GREETING = "CC_AFTER_GREETING"
    # Hold (dialplan/call_control.conf): the other leg's channel name, set on both legs by the
    # controller before it moves them; and the held caller's agent, for dial-result.
    HOLD_PEER = "CC_HOLD_PEER"
    HOLD_AGENT = "CC_HOLD_AGENT"
    # A blind transfer to an outside number (dialplan/call_control.conf, cc-transfer-out): the
    # E.164 number the dial policy passed and the trunk; the dialplan checks both again.
    XFER_NUMBER = "CC_XFER_NUMBER"
    XFER_TRUNK = "CC_XFER_TRUNK"
    # A consultation's target leg (dialplan/call_control.conf, cc-consult): the held caller's
    # channel, watched once the agent has left (complete).
    CONSULT_CALLER = "CC_CONSULT_CALLER"
    # ... and who was consulted (an agent's name or an E.164 number), with the agent who
    # consulted: what a restarted controller needs to carry on with the consultation.
    CONSULT_TARGET = "CC_CONSULT_TARGET"
    CONSULT_AGENT = "CC_CONSULT_AGENT"
    # A three-way conference's ConfBridge name (CONF_NAME_PATTERN, checked again there).
    CONF = "CC_CONF"
    # A party added to a conference (services/inbound/conference.py): the caller's channel.
    CONF_PARTY = "CC_CONF_PARTY"
    # Feature codes on the agent's phone (core/phone_codes.py): "1" on the agent's leg
    # while a code's Gosub runs (the controller acts once it is cleared); and scratch
    # for the keys cc-hold-agent reads.
    IN_CODE = "CC_IN_CODE"
    CODE_KEYS = "CC_CODE_KEYS"
    # Several nodes ([[pbx.nodes]]): the inter-node trunk cc-connect rings the agent
    # through when the agent's phone is on another node (empty: here).
    VIA = "CC_VIA"


# An inter-node trunk's endpoint (CC_VIA): "node-" and the node's name.
NODE_TRUNK_PATTERN = r"^node-[a-z][a-z0-9_-]{1,31}$"

# A consultation's target leg id, which also names its conference (cc-conference).
CONF_NAME_PATTERN = r"^consult-[0-9a-f]{16}$"


def inherited(var: Var) -> str:
    """The name that makes Asterisk copy a variable to every channel the call creates."""
    return f"__{var.value}"


class Global(StrEnum):
    """Dialplan [globals] the controller renders or keeps up to date."""

    AGI_URL = "CC_AGI"  # agi://127.0.0.1:4573
    FALLBACK_QUEUE = "CC_FALLBACK_QUEUE"
    HEARTBEAT = "CC_HEARTBEAT"  # epoch seconds, refreshed by the controller every second
    HEARTBEAT_GRACE = "CC_HEARTBEAT_GRACE"  # seconds of silence before callers fall back
    # CC_NAILED_<agent>: an always-connected agent's waiting leg (set by cc-nailed,
    # cleared by the controller when it drops; services/inbound/nailed.py).
    NAILED_LINE = "CC_NAILED_"
    # Feature codes on the agent's phone (core/phone_codes.py): the DYNAMIC_FEATURES
    # value cc-agent-leg sets on the agent's leg (unset: codes off), and the longest
    # code's length (how many keys cc-hold-agent reads at most).
    PHONE_CODES = "CC_PHONE_CODES"
    CODE_LENGTH = "CC_CODE_LENGTH"


class Status(StrEnum):
    """Values of CC_STATUS; the dialplan's cc-route has an extension for each."""

    CONNECT = "CONNECT"  # ring CC_TARGET
    WAIT = "WAIT"  # wait in line (music, announcements) until the controller moves the call
    VOICEMAIL = "VOICEMAIL"  # leave a message in CC_VM_BOX
    HANGUP = "HANGUP"  # the call is over
    FALLBACK = "FALLBACK"  # send the caller to the plain Asterisk queue
    FAIL = "FAIL"  # the route broke; the dialplan takes its safe path


class Route(StrEnum):
    """FastAGI routes and the dialplan context that invokes each."""

    INBOUND = "inbound"  # cc-entry: the IVR, then queue or connect
    DIAL_RESULT = "dial-result"  # cc-connect: the agent answered, or did not
    ANNOUNCE = "announce"  # cc-announce: position and expected wait
    AGENT_FEATURE = "agent-feature"  # cc-agents: *1..*4 from an agent's phone
    CALLBACK_ANSWER = "callback-answer"  # cc-callback: the customer answered, AMD has listened
    CALLBACK_AGENT_RESULT = "callback-agent-result"  # cc-callback-agent: the customer's Dial ended
    OUTBOUND_ANSWERED = "outbound-answered"  # cc-outbound: a customer answered (AMD verdict)
    OUTBOUND_RESULT = "outbound-result"  # cc-outbound-agent: the reserved agent answered or not
    TRANSFERRED = "transferred"  # cc-transfer: a caller an agent transferred, where to now
    PHONE_CODE = "phone-code"  # cc-phone-code: a call-control code pressed on an agent's phone


class Context(StrEnum):
    """Dialplan contexts the controller sends channels to or recognises."""

    WAIT = "cc-wait"
    ANNOUNCE = "cc-announce"
    CONNECT = "cc-connect"
    FALLBACK = "cc-fallback"
    VOICEMAIL = "cc-voicemail"
    GOODBYE = "cc-goodbye"
    ENTRY = "cc-entry"
    FIRST = "cc-first"  # the flows' first menus, rendered (adapters/pbx/first_menus.py)
    SPY = "cc-spy"  # a supervisor's phone, once answered: ChanSpy on the agent (exten)
    CALLBACK = "cc-callback"  # a callback's customer, once answered: AMD, then the agent
    CALLBACK_AGENT = "cc-callback-agent"  # agent first: the agent answered; ring the customer
    OUTBOUND = "cc-outbound"  # a customer the dialer called, once answered
    HOLD = "cc-hold"  # a caller put on hold: music until resumed
    HOLD_AGENT = "cc-hold-agent"  # the agent's leg meanwhile: silence
    RESUME = "cc-resume"  # the caller back with their agent (Bridge)
    TRANSFER_OUT = "cc-transfer-out"  # a caller transferred to an outside number
    TRANSFER = "cc-transfer"  # a caller transferred to a queue or an agent: ask where
    CONSULT = "cc-consult"  # a consultation's target phone, answered: bridged with the agent
    CONSULT_WAIT = "cc-consult-wait"  # the target's leg, the agent gone: until the caller comes
    CONFERENCE = "cc-conference"  # the caller in a three-way conference (marked)
    CONFERENCE_MEMBER = "cc-conference-member"  # an agent's leg in it
    NAILED = "cc-nailed"  # an always-connected agent's phone, waiting for callers
    AGENT_LEG = "cc-agent-leg"  # Dial's pre-dial handler on the agent's leg: its codes
    PHONE_CODE = "cc-phone-code"  # the Gosub a feature code runs (features.conf)
    CONF_CODE = "cc-conf-code"  # a code pressed in a conference (confbridge.conf's menu)
    INTERNODE = "cc-internode"  # another node rings an agent registered here


@dataclass(frozen=True, slots=True)
class Decision:
    """What the dialplan should do with a caller next (CC_STATUS and what it needs)."""

    status: Status
    target: str = ""  # agent endpoint (CONNECT) or voicemail box (VOICEMAIL)
    prompt: str = ""  # a sound to play first
    ring_timeout: float = 0.0
