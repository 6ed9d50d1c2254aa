"""An inbound call from its arrival to the dialplan's next step (services/inbound/arrival.py),
over a scripted caller's line: the IVR runs, and its end decides."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.core.callbacks.policy import CallbackSettings
from callcenter.core.calls.state import CallState
from callcenter.core.dialplan import Decision, Status
from callcenter.core.events import (
    CallbackRequested,
    CallEntered,
    CallQueued,
    IvrFinished,
    RecordingStarted,
    WaitAnnounced,
)
from callcenter.core.hours import load_schedule
from callcenter.core.ivr.events import CallerHungUp, Collect, Digits, Play
from callcenter.core.queues import FEW_MINUTES, Announce, QueueSettings
from callcenter.services.inbound.arrival import Arrival
from tests.fakes.center import RECORDINGS, TRUNK, Center
from tests.fakes.pbx import FakeCallerLine

MAIN: dict[str, Any] = {
    "name": "main",
    "start": "welcome",
    "nodes": {
        "welcome": {
            "type": "menu",
            "prompts": ["custom/welcome"],
            "choices": {"1": "support", "2": "vm", "3": "later", "9": "bye"},
        },
        "support": {"type": "queue", "queue": "support", "priority": 3, "skills": {"english": 1}},
        "vm": {"type": "voicemail", "box": "support"},
        "later": {
            "type": "callback",
            "queue": "support",
            "prompts": ["custom/when"],
            "choices": {"1": 30, "2": 120},
        },
        "bye": {"type": "hangup"},
    },
}
CLOSED: dict[str, Any] = {
    "name": "office",
    "start": "support",
    "hours": "office",
    "closed_node": "closed",
    "nodes": {
        "support": {"type": "queue", "queue": "support"},
        "closed": {"type": "play", "prompts": ["custom/closed"], "next": "vm"},
        "vm": {"type": "voicemail", "box": "support"},
    },
}
CALLER = "+12125550100"
KEEP = CallbackSettings(enabled=True, offer_after_estimate=60)


def support(callback: CallbackSettings = KEEP, **settings: Any) -> QueueSettings:
    return QueueSettings.model_validate(
        {"name": "support", "moh": "jazz", "callback": callback, **settings}
    )


@pytest.fixture
def site(center: Center) -> Center:
    center.configure(
        [support()],
        {"agent1": {"english": 2}, "agent2": {"english": 1}},
        flows={"main": (MAIN, ["5000"])},
    )
    return center


def arrival(
    center: Center, number: str = CALLER, dialled: str = "5000", name: str = "ADA L"
) -> Arrival:
    n = center.next_id()
    return Arrival(f"1750172400.{n}", f"PJSIP/carrier-{n:08x}", number, name, dialled)


async def arrives(center: Center, line: FakeCallerLine, came: Arrival | None = None) -> Status:
    status = await center.inbound.arrived(line, came or arrival(center))
    await center.settle()
    return status


def pressing(*keys: str, **script: Any) -> FakeCallerLine:
    return FakeCallerLine(ivr_results=[Digits(key) for key in keys], **script)


async def busy_agent(center: Center) -> None:
    """agent1 and agent2 are talking to earlier callers (a long wait is expected)."""
    await center.ready("agent1", "agent2")
    for agent in ("agent1", "agent2"):
        call = center.caller()
        await center.enqueue(call, "support", extra={"english": 1})
        leg = await center.ring(call, agent)
        await center.dial_end(call, leg, "ANSWER")


# -- the IVR ends in a queue ----------------------------------------------------------------------
async def test_a_caller_who_picks_a_queue_is_rung_through_to_a_free_agent(site: Center) -> None:
    await site.ready("agent2")
    line = pressing("1")
    came = arrival(site)
    assert await arrives(site, line, came) == Status.CONNECT
    [entered] = site.of(CallEntered)
    call_id = entered.call_id
    assert (entered.flow, entered.dialled, entered.caller, entered.caller_name) == (
        "main",
        "5000",
        CALLER,
        "ADA L",
    )
    recording = f"{RECORDINGS}/2025/06/17/{call_id}.wav"
    assert [step[0] for step in line.steps] == [
        "identify", "answer", "ivr", "prepare_queue", "tag_fallback", "carry_out",
    ]  # fmt: skip
    assert line.steps[0] == ("identify", call_id, CALLER, "ADA L")
    assert line.heard("ivr") == [(Collect(("custom/welcome",), 1, 5.0, None),)]
    assert line.heard("prepare_queue") == [(recording, "jazz", "15")]
    assert line.decisions == [Decision(Status.CONNECT, "agent2", ring_timeout=15.0)]
    [finished] = site.of(IvrFinished)
    assert (finished.path, finished.outcome) == (("welcome", "support"), "queued")
    assert finished.data == {"dnis": "5000", "menu.welcome": "1"}
    [queued] = site.of(CallQueued)
    assert (queued.priority, queued.extra) == (3, {"english": 1})
    assert site.kinds(call_id) == ["CallEntered", "IvrFinished", "CallQueued", "CallOffered"]
    # The recording path travels with the call: it starts when the agent answers.
    call = site.calls.get(call_id)
    assert call is not None and call.recording == f"2025/06/17/{call_id}.wav"
    leg = await site.ring(call, "agent2")
    await site.dial_end(call, leg, "ANSWER")
    [started] = site.of(RecordingStarted)
    assert (started.path, started.agent) == (call.recording, "agent2")


async def test_a_caller_who_waits_is_told_their_place(site: Center) -> None:
    await busy_agent(site)
    first, second = pressing("1"), pressing("1")
    assert await arrives(site, first) == Status.WAIT
    await site.advance(5)
    assert await arrives(site, second) == Status.WAIT
    [(position, wait)] = second.heard("say_position")
    # No call measured yet: the product would not stand by a figure, so none is said...
    assert position == 2 and wait is None
    # ...but the estimate is made and logged, to be judged against the actual wait.
    announced = site.of(WaitAnnounced)[-1]
    assert announced.position == 2 and announced.estimate is not None and announced.estimate > 0
    assert not announced.reliable and announced.told == ""
    assert second.decisions == [Decision(Status.WAIT)]


async def test_a_caller_who_queued_is_moved_to_an_agent_by_a_redirect_alone(site: Center) -> None:
    # The ring timeout went out with the queue's variables (prepare_queue): the Redirect
    # needs no AMI Setvar before it.
    await site.ready("agent1")
    first = site.caller()
    await site.enqueue(first, "support", extra={"english": 1})
    leg = await site.ring(first, "agent1")
    await site.dial_end(first, leg, "ANSWER")
    line = pressing("1")
    assert await arrives(site, line) == Status.WAIT
    assert line.heard("prepare_queue")[0][2] == "15"
    site.pbx.actions.clear()
    await site.ready("agent2")
    moves = [a for a in site.pbx.actions if a[0] in ("set_var", "redirect")]
    assert [a[0] for a in moves] == ["redirect"]
    assert moves[0][2:4] == ("cc-connect", "agent2")


async def test_keep_my_place_is_offered_when_the_wait_is_long_and_taken(site: Center) -> None:
    await busy_agent(site)
    line = pressing("1", presses_callback=True, callback_to=CALLER)
    assert await arrives(site, line) == Status.HANGUP
    [(position, _)] = line.heard("say_position")
    assert position == 1
    assert site.of(WaitAnnounced)[-1].estimate >= 60  # type: ignore[operator]
    assert line.heard("offer_callback") == [("5",)]
    assert line.heard("callback_number") == [(CALLER,)]
    assert line.heard("play") == [(("auth-thankyou", "goodbye"),)]
    assert line.decisions == []  # the caller hears thanks and goodbye, no dialplan step
    [requested] = site.of(CallbackRequested)
    assert (requested.kind, requested.number) == ("keep-place", CALLER)
    call = site.calls.get(requested.call_id)
    assert call is not None and call.virtual and call.state is CallState.WAITING


async def test_keep_my_place_is_not_offered_when_the_wait_is_short(center: Center) -> None:
    center.configure(
        [support(CallbackSettings(enabled=True, offer_after_estimate=600))],
        {"agent1": {"english": 2}, "agent2": {"english": 1}},
        flows={"main": (MAIN, ["5000"])},
    )
    await busy_agent(center)
    line = pressing("1", presses_callback=True, callback_to=CALLER)
    assert await arrives(center, line) == Status.WAIT
    assert line.heard("offer_callback") == [] and len(line.heard("say_position")) == 1


async def test_keep_my_place_is_not_offered_by_a_queue_without_callbacks(center: Center) -> None:
    center.configure(
        [support(CallbackSettings(enabled=False))],
        {"agent1": {"english": 2}, "agent2": {"english": 1}},
        flows={"main": (MAIN, ["5000"])},
    )
    await busy_agent(center)
    line = pressing("1", presses_callback=True, callback_to=CALLER)
    assert await arrives(center, line) == Status.WAIT
    assert line.heard("offer_callback") == []


async def test_a_caller_who_gives_no_valid_number_keeps_waiting(site: Center) -> None:
    await busy_agent(site)
    line = pressing("1", presses_callback=True, callback_to=None)
    assert await arrives(site, line) == Status.WAIT
    assert site.of(CallbackRequested) == []


async def test_an_agent_freed_during_the_offer_wins_over_the_callback(site: Center) -> None:
    await busy_agent(site)
    line = pressing("1", presses_callback=True, callback_to=CALLER)

    async def agent3_logs_in() -> None:
        site.agents.load(
            {"agent1": {"english": 2}, "agent2": {"english": 1}, "agent3": {"english": 1}},
            {},
            set(),
            site.now,
        )
        await site.ready("agent3")

    line.on_offer = agent3_logs_in
    await arrives(site, line)
    assert site.of(CallbackRequested) == []
    assert site.state("agent3") == "ringing"


async def test_the_figure_told_is_the_estimate_logged(site: Center) -> None:
    """Four-minute calls measured (before a restart: learnt from the records): a
    caller behind two agents who just answered hears the estimator's figure in
    minutes, and that very figure is logged."""
    site.queueing.learn([("support", "agent1", 240.0)] * 10)
    await busy_agent(site)
    line = pressing("1")
    assert await arrives(site, line) == Status.WAIT
    [announced] = site.of(WaitAnnounced)
    assert announced.reliable and announced.estimate is not None
    assert 200.0 < announced.estimate < 280.0  # the calls that just began, with the ring
    minutes = round(announced.estimate / 60)
    assert line.heard("say_position") == [(1, minutes)]
    assert announced.told == f"{minutes} minutes"
    [queued] = site.of(CallQueued)[-1:]
    assert queued.call_id == announced.call_id and queued.reliable
    assert queued.estimate == pytest.approx(announced.estimate)  # the same moment, same figure


async def test_an_unreliable_estimate_is_a_few_minutes_when_the_queue_says_so(
    center: Center,
) -> None:
    few = Announce(unreliable="few_minutes", few_minutes_prompt="custom/few-minutes")
    center.configure(
        [support(announce=few)],
        {"agent1": {"english": 2}, "agent2": {"english": 1}},
        flows={"main": (MAIN, ["5000"])},
    )
    await busy_agent(center)  # nothing measured yet: no figure to stand by
    line = pressing("1")
    assert await arrives(center, line) == Status.WAIT
    assert line.heard("say_position") == [(1, FEW_MINUTES)]
    [announced] = center.of(WaitAnnounced)
    assert not announced.reliable and announced.told == "a few minutes"
    assert announced.estimate is not None  # still made and logged, to be judged


async def test_pauses_are_measured_by_reason(site: Center) -> None:
    await site.ready("agent2")
    for _ in range(3):  # three five-minute breaks
        await site.agents.pause("agent2", "break", site.now)
        await site.advance(300)
        await site.agents.ready("agent2", site.now)
        await site.settle()
    fit = site.wait_history.pause_fit("break")
    assert fit is not None and fit.calls == 3 and fit.mean == pytest.approx(300.0, rel=0.01)
    assert site.wait_history.pause_fit("lunch") is None


async def test_no_announcement_on_entry_when_the_queue_says_so(center: Center) -> None:
    center.configure(
        [support(announce=Announce(on_entry=False))],
        {"agent1": {"english": 2}, "agent2": {"english": 1}},
        flows={"main": (MAIN, ["5000"])},
    )
    await busy_agent(center)
    line = pressing("1", presses_callback=True, callback_to=CALLER)
    assert await arrives(center, line) == Status.WAIT
    assert line.heard("say_position") == [] and line.heard("offer_callback") == []


async def test_the_announcement_s_turn_says_the_place_again(site: Center) -> None:
    await busy_agent(site)
    came = arrival(site)
    await arrives(site, pressing("1"), came)
    await site.advance(5)
    await arrives(site, pressing("1"))
    line = FakeCallerLine()
    assert await site.inbound.announce(line, came.unique_id) == Status.WAIT
    [(position, _)] = line.heard("say_position")
    assert position == 1
    assert await site.inbound.announce(FakeCallerLine(), "gone") == Status.FALLBACK


# -- other ends of the IVR ----------------------------------------------------------------
async def test_a_caller_who_picks_voicemail_is_sent_to_the_box(site: Center) -> None:
    line = pressing("2")
    assert await arrives(site, line) == Status.VOICEMAIL
    assert line.decisions == [Decision(Status.VOICEMAIL, "support")]
    [entered] = site.of(CallEntered)
    call = site.calls.get(entered.call_id)
    assert call is not None and call.state is CallState.VOICEMAIL
    assert site.of(IvrFinished)[0].outcome == "voicemail"


async def test_a_caller_who_books_a_callback_is_called_back_at_that_time(site: Center) -> None:
    await site.ready("agent1")
    line = pressing("3", "1", callback_to=CALLER)  # in 30 minutes
    assert await arrives(site, line) == Status.HANGUP
    assert line.heard("play") == [(("auth-thankyou", "goodbye"),)]
    [entered] = site.of(CallEntered)
    [requested] = site.of(CallbackRequested)
    assert (requested.kind, requested.call_id, requested.due_at, requested.booked_by) == (
        "scheduled",
        entered.call_id,
        site.now + 1800,
        "ivr",
    )
    callback = site.callback_repo.get(requested.callback_id)
    assert callback is not None and callback.data["menu.welcome"] == "3"
    await site.advance(1800)
    assert [d.endpoint for d in site.pbx.originations] == [f"{CALLER}@{TRUNK}"]


async def test_a_booking_without_a_number_says_goodbye(site: Center) -> None:
    line = pressing("3", "2", callback_to=None)
    assert await arrives(site, line) == Status.HANGUP
    assert line.heard("play") == [(("vm-goodbye",),)]
    assert site.callback_repo.callbacks == {}


async def test_a_booking_refused_says_goodbye(site: Center) -> None:
    site.store.dnc.add(("site", CALLER))
    line = pressing("3", "1", callback_to=CALLER)
    assert await arrives(site, line) == Status.HANGUP
    assert line.heard("play") == [(("vm-goodbye",),)]
    assert site.callback_repo.callbacks == {}


async def test_an_ivr_that_hangs_up_ends_the_call(site: Center) -> None:
    line = pressing("9")
    assert await arrives(site, line) == Status.HANGUP
    assert line.decisions == []
    [finished] = site.of(IvrFinished)
    assert finished.outcome == "hangup"


async def test_a_caller_who_hangs_up_in_the_ivr_is_recorded_so(site: Center) -> None:
    line = FakeCallerLine(ivr_results=[CallerHungUp()])
    assert await arrives(site, line) == Status.HANGUP
    assert site.of(IvrFinished)[0].outcome == "caller-hangup"


async def test_outside_business_hours_the_flow_starts_at_its_closed_node(center: Center) -> None:
    monday_only = load_schedule(
        {"name": "office", "timezone": "UTC", "weekly": {"mon": ["09:00-17:00"]}}
    )
    center.configure(
        [support()],
        {"agent1": {}},
        schedules={"office": monday_only},
        flows={"office": (CLOSED, ["6000"])},
    )
    line = FakeCallerLine()
    assert await arrives(center, line, arrival(center, dialled="6000")) == Status.VOICEMAIL
    assert line.heard("ivr") == [(Play(("custom/closed",)),)]
    assert center.of(IvrFinished)[0].data["hours.open"] == "0"


async def test_without_a_flow_the_caller_goes_to_the_fallback_queue(center: Center) -> None:
    center.configure([support()], {"agent1": {}})
    line = FakeCallerLine()
    assert await arrives(center, line) == Status.FALLBACK
    assert [step[0] for step in line.steps] == ["identify"]  # not even answered
    [entered] = center.of(CallEntered)
    assert entered.flow == ""
    call = center.calls.get(entered.call_id)
    assert call is not None and call.state is CallState.FALLBACK


async def test_an_anonymous_caller_is_tagged_anonymous(site: Center) -> None:
    line = pressing("9")
    await arrives(site, line, arrival(site, number="", name="Anonymous"))
    [(_, number, name)] = line.heard("identify")
    assert (number, name) == ("anonymous", "anonymous")


# -- the ring ended (dial-result) ---------------------------------------------------------
async def test_a_ring_result_for_a_caller_the_controller_does_not_know(site: Center) -> None:
    assert await site.inbound.ring_ended(FakeCallerLine(), "gone", "ANSWER") == Status.HANGUP
    assert await site.inbound.ring_ended(FakeCallerLine(), "gone", "NOANSWER") == Status.FALLBACK


# -- the dial policy (core/dial_policy.py) ----------------------------------------------------
REFUSED = ("im-sorry", "cannot-complete-as-dialed")


@pytest.mark.parametrize(
    ("keyed", "reason"),
    [
        ("011449098790000", "number-type"),  # UK premium rate, keyed with the US prefix
        ("0088213000000", "international-network"),
        ("+19005551234", "number-type"),
        ("+881631456789", "international-network"),
    ],
)
async def test_keep_my_place_to_a_refused_number_is_told_and_keeps_waiting(
    site: Center, keyed: str, reason: str
) -> None:
    await busy_agent(site)
    line = pressing("1", presses_callback=True, callback_to=keyed)
    assert await arrives(site, line) == Status.WAIT  # still in line
    assert line.heard("play") == [(REFUSED,)]
    assert site.of(CallbackRequested) == [] and site.callback_repo.callbacks == {}
    [refusal] = site.dial_refusals.rows
    assert (refusal.reason, refusal.where) == (reason, "keep-place")
    assert (refusal.origin_kind, refusal.origin_id, refusal.number) == ("caller", CALLER, keyed)
    await site.advance(3600)
    assert site.pbx.originations == []


async def test_a_callback_booked_to_a_refused_number_is_told_then_goodbye(site: Center) -> None:
    line = pressing("3", "1", callback_to="+881631456789")
    assert await arrives(site, line) == Status.HANGUP
    assert line.heard("play") == [((*REFUSED, "vm-goodbye"),)]
    assert site.callback_repo.callbacks == {}
    [refusal] = site.dial_refusals.rows
    assert (refusal.reason, refusal.where) == ("international-network", "ivr-callback")


async def test_one_caller_books_a_few_callbacks_an_hour_at_most(site: Center) -> None:
    booked = []
    for n in range(4):
        line = pressing("3", "1", callback_to=f"+1212555010{n}")
        await arrives(site, line)
        booked.append(line.heard("play")[-1][0][0])
    assert booked == ["auth-thankyou"] * 3 + ["im-sorry"]  # the policy's default: 3 an hour
    assert len(site.callback_repo.callbacks) == 3
    assert [r.reason for r in site.dial_refusals.rows] == ["rate-limit"]


@pytest.mark.parametrize("sent", ["2125550100", "+12125550100", "(212) 555-0100", "12125550100"])
async def test_caller_ids_are_one_customer_whichever_way_they_come(site: Center, sent: str) -> None:
    await arrives(site, pressing("9"), arrival(site, number=sent))
    [entered] = site.of(CallEntered)
    assert entered.caller == "+12125550100"


@pytest.mark.parametrize(("sent", "kept"), [("1001", "1001"), ("+999", "+999"), ("ab<c>", "")])
async def test_caller_ids_that_are_no_known_number_stay_as_today(
    site: Center, sent: str, kept: str
) -> None:
    await arrives(site, pressing("9"), arrival(site, number=sent))
    [entered] = site.of(CallEntered)
    assert entered.caller == kept


# -- the first menu ran in the dialplan ------------------------------------------------------------
@pytest.mark.parametrize(
    ("ago", "entered_ago"),
    [(3.5, 3.5), (0.0, 0.0), (-5.0, 0.0), (601.0, 0.0)],
    ids=["arrival-before-the-menu", "now", "in-the-future", "implausibly-old"],
)
async def test_the_record_starts_at_the_dialplans_arrival_time_when_plausible(
    site: Center, ago: float, entered_ago: float
) -> None:
    """cc-entry passes when the caller came (before the first menu it ran itself): the
    call's record starts then; a time from another clock is not trusted."""
    now = site.now
    came = arrival(site)
    came = Arrival(came.unique_id, came.channel, CALLER, "ADA L", "5000", arrived_at=now - ago)
    await arrives(site, pressing("1"), came)
    [entered] = site.of(CallEntered)
    assert entered.at == pytest.approx(now - entered_ago)
