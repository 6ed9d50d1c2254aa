"""Every AMI event the controller reads, and who reads it: the one table.

For one event, the handlers run in the order listed, each finished (awaited)
before the next starts; the events of one call are handled one after another
(adapters/ami/dispatch.py). So when a channel hangs up, the channel table
forgets it first, then the ACD ends the call or frees the agent (the recovery
frees an agent left on a call a controller that died had placed), then the
callback dialer, the outbound dialer and the supervisors' listening
sessions see it, in that order.

The second table is the domain events' (core/events.py, published on the
Notifier): who acts on what the services report, besides the subscribers
that take every event (records, console pushes, wallboard, webhooks).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from callcenter.adapters.ami.pbx_view import PbxView
from callcenter.adapters.metrics.collector import CallCenterMetrics
from callcenter.core import events as ce
from callcenter.core import pbx_events as ev
from callcenter.services.callbacks.dialer import CallbackDialer
from callcenter.services.console.desktop import Desktop
from callcenter.services.console.supervision import Supervision
from callcenter.services.inbound.acd import Acd
from callcenter.services.inbound.conference import ConferenceParties
from callcenter.services.inbound.fallback import FallbackQueues
from callcenter.services.inbound.nailed import NailedLines
from callcenter.services.inbound.queue_log import QueueLog
from callcenter.services.inbound.queueing import Queueing
from callcenter.services.inbound.recording import Recordings
from callcenter.services.inbound.recovery import Recovery
from callcenter.services.notify import Notifier
from callcenter.services.outbound.dialer_calls import DialerCalls
from callcenter.services.ports import PbxEvents

Handler = Callable[[Any], "Awaitable[None] | None"]
Table = Mapping[type[ev.AmiEvent], tuple[Handler, ...]]
DomainTable = Mapping[type[ce.Event], tuple[Handler, ...]]


def ami_table(
    view: PbxView,
    acd: Acd,
    callback_dialer: CallbackDialer,
    dialer_calls: DialerCalls,
    supervision: Supervision,
    recovery: Recovery,
    nailed: NailedLines,
    conference: ConferenceParties | None = None,
) -> Table:
    parties = (conference.on_hangup,) if conference is not None else ()
    return {
        # The picture of Asterisk: channels, bridges, phones' contacts.
        ev.Newchannel: (view.on_new_channel,),
        ev.Newstate: (view.on_channel,),
        ev.NewCallerid: (view.on_channel,),
        ev.BridgeEnter: (view.on_bridge_enter, acd.on_bridge_enter),
        ev.BridgeLeave: (view.on_bridge_leave,),
        ev.ContactStatus: (view.on_contact,),
        # A queued caller's agent leg: ringing, answered; the dialplan's fallback notice.
        ev.DialBegin: (acd.on_dial_begin,),
        ev.DialEnd: (acd.on_dial_end,),
        ev.UserEvent: (acd.on_user_event, nailed.on_user_event),
        ev.AgentComplete: (acd.on_agent_complete,),
        # Calls the controller placed (callbacks, campaigns, a supervisor's phone).
        ev.OriginateResponse: (
            callback_dialer.on_originate_response,
            dialer_calls.on_originate_response,
            supervision.originate_response,
            nailed.on_originate_response,  # an always-connected agent's line
        ),
        ev.Hangup: (
            view.on_hangup,
            acd.on_hangup,
            recovery.on_hangup,  # agents on calls a controller that died had placed
            callback_dialer.on_hangup,
            dialer_calls.on_hangup,
            supervision.hangup,
            nailed.on_hangup,  # after the ACD's: a caller or a line gone
            *parties,  # a party of a conference hung up
        ),
    }


def subscribe(events: PbxEvents, table: Table) -> None:
    for kind, handlers in table.items():
        for handler in handlers:
            events.subscribe(kind, handler)


def domain_table(
    recordings: Recordings,
    queue_log: QueueLog,
    desktop: Desktop,
    dialer_calls: DialerCalls,
    fallback: FallbackQueues,
    queueing: Queueing,
) -> DomainTable:
    return {
        ce.CallQueued: (live(queue_log.queued),),
        ce.CallOffered: (desktop.on_call_offered,),
        ce.CallRingNoAnswer: (live(queue_log.no_answer),),
        ce.CallAnswered: (
            live(recordings.on_call_answered),
            live(queue_log.answered),
            dialer_calls.on_call_answered,
        ),
        ce.CallCompleted: (live(queue_log.completed),),
        ce.CallTransferred: (live(queue_log.transferred),),
        ce.CallAbandoned: (live(queue_log.abandoned),),
        ce.CallOverflowed: (live(queue_log.overflowed),),
        ce.CallEnded: (live(recordings.on_call_ended), live(queue_log.ended)),
        ce.CallDataChanged: (dialer_calls.on_call_data,),
        ce.AgentStateChanged: (
            live(queue_log.agent_changed),
            live(fallback.on_agent_state),
            live(queueing.on_agent_state),
        ),
    }


def metrics_table(metrics: CallCenterMetrics) -> DomainTable:
    """What the metrics read ([metrics] enabled), besides counting every call step."""
    return {
        ce.CallQueued: (live(metrics.on_queued),),
        ce.CallRingNoAnswer: (live(metrics.on_ring_no_answer),),
        ce.AgentStateChanged: (live(metrics.on_agent_state),),
        ce.CallOffered: (live(metrics.on_offered),),
        ce.CallAnswered: (metrics.on_call_over,),
        ce.CallAbandoned: (metrics.on_call_over,),
        ce.CallEnded: (metrics.on_call_over,),
    }


def live(handler: Handler) -> Handler:
    """Only events seen as they happened: a call's recording and Asterisk's queue_log
    are not acted on again for steps rebuilt after an outage (core/calls/outage.py)."""

    def live_only(event: ce.Event) -> Awaitable[None] | None:
        return None if event.recovered else handler(event)

    return live_only


def subscribe_domain(notifier: Notifier, table: DomainTable) -> None:
    for kind, handlers in table.items():
        for handler in handlers:
            notifier.subscribe(kind, handler)
