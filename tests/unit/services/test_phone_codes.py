"""Codes pressed on the agent's phone (services/inbound/phone_codes.py) and the
consultations they can start (a queue's first free agent, an outside number) over
the fakes: the same CallControl path as the desktop, once the leg left the code."""

from __future__ import annotations

import asyncio

import pytest

from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.state import CallState
from callcenter.core.dialplan import Context, Var
from callcenter.core.events import CallCompleted, CallSegmentEnded, CallTransferred
from callcenter.core.phone_codes import DEFAULT_CODES, PhoneAction, check_codes
from callcenter.services.inbound import consult as consult_module
from callcenter.services.inbound import phone_codes as codes_module
from callcenter.services.inbound.consult import Consultations
from callcenter.services.inbound.phone_codes import PhoneCodes, Target
from callcenter.services.ports import LiveChannel
from tests.fakes.center import Center
from tests.unit.services.test_call_control import queue, refused, talking

EXTENSIONS = {"1001": "ann", "1002": "bob", "1003": "cy"}


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consult_module, "SETTLE_SECONDS", 0.05)
    monkeypatch.setattr(codes_module, "LEAVE_SECONDS", 0.2)
    monkeypatch.setattr(codes_module, "POLL", 0.01)


def _codes(center: Center) -> tuple[PhoneCodes, Consultations]:
    consults = Consultations(center.call_control, center.pbx)
    codes = PhoneCodes(
        center.call_control, consults, check_codes(DEFAULT_CODES), EXTENSIONS.get,
        lambda: ["support", "billing"],
    )  # fmt: skip
    return codes, consults


async def _setup(center: Center) -> tuple[PhoneCodes, Consultations, LiveCall, tuple[str, str]]:
    center.configure(
        [queue("support"), queue("billing", requirements={"billing": 1})],
        {"ann": {"support": 3}, "bob": {"support": 3}, "cy": {"billing": 2}},
    )
    await center.ready("ann")
    call, leg = await talking(center, "ann")
    codes, consults = _codes(center)
    return codes, consults, call, leg


async def test_a_code_is_checked_against_the_agents_own_leg_and_the_consultation(
    center: Center,
) -> None:
    codes, _, _call, leg = await _setup(center)
    codes.check("ann", leg[0], PhoneAction.HOLD)
    with pytest.raises(Exception, match="not ann's leg"):
        codes.check("ann", "PJSIP/ann-99999999", PhoneAction.HOLD)
    await refused(_async(codes.check, "bob", leg[0], PhoneAction.HOLD), "no-call")
    await refused(_async(codes.check, "ann", leg[0], PhoneAction.COMPLETE), "no-consult")


async def _async(function: object, *args: object) -> object:
    return function(*args)  # type: ignore[operator]


async def test_keyed_targets_become_queues_agents_or_numbers_checked_at_once(
    center: Center,
) -> None:
    codes, *_ = await _setup(center)
    xfer = PhoneAction.TRANSFER
    assert await codes.target("ann", xfer, "*1#") == Target("queue", "billing")  # by name
    await refused(codes.target("ann", xfer, "1002"), "agent-busy")  # bob is not ready
    await center.ready("bob")
    assert await codes.target("ann", xfer, "1002") == Target("agent", "bob")
    await refused(codes.target("ann", xfer, "1001"), "same-agent")
    # Outside numbers: the dial policy at once (one audit row per refusal).
    await refused(codes.target("ann", xfer, "1009"), "refused")  # no such agent: a number
    await refused(codes.target("ann", PhoneAction.CONSULT, "19005550123"), "refused")
    assert [r.where for r in center.dial_refusals.rows] == ["transfer", "consult"]
    allowed = await codes.target("ann", xfer, "011442079460000")  # the US way abroad
    assert allowed == Target("number", "+442079460000"), allowed
    await refused(codes.target("ann", xfer, "*7"), "bad-target")


async def test_the_hold_code_waits_for_the_leg_to_leave_the_code_then_holds_and_resumes(
    center: Center,
) -> None:
    codes, _, call, leg = await _setup(center)
    center.pbx.variables[(leg[0], Var.IN_CODE.value)] = "1"  # still in the Gosub
    center.pbx.actions.clear()
    codes.later("ann", leg[0], PhoneAction.HOLD, None)
    await asyncio.sleep(0.05)
    assert not call.holds.on_hold and not center.pbx.redirects  # nothing moved yet
    center.pbx.variables[(leg[0], Var.IN_CODE.value)] = ""
    await asyncio.sleep(0.05)
    assert call.holds.on_hold  # the desktop's hold: both legs redirected
    await codes.act("ann", PhoneAction.HOLD, None)
    assert not call.holds.on_hold
    assert center.pbx.redirects[-1] == (call.channel, Context.RESUME.value, "s")


async def test_a_leg_that_never_leaves_the_code_is_not_moved(center: Center) -> None:
    codes, _, call, leg = await _setup(center)
    center.pbx.variables[(leg[0], Var.IN_CODE.value)] = "1"
    codes.later("ann", leg[0], PhoneAction.HOLD, None)
    await asyncio.sleep(0.3)
    assert not call.holds.on_hold and not center.pbx.redirects


async def test_the_transfer_code_transfers_blind_as_the_desktop(center: Center) -> None:
    codes, _, call, _leg = await _setup(center)
    await center.ready("bob")
    await codes.act("ann", PhoneAction.TRANSFER, Target("agent", "bob"))
    assert call.state is CallState.WAITING and call.transfer_to == ("agent", "bob")
    [transfer] = center.of(CallTransferred)
    assert (transfer.kind, transfer.target, transfer.reason) == ("agent", "bob", "phone")


async def test_a_queue_consultation_calls_its_first_free_agent(center: Center) -> None:
    codes, consults, call, _leg = await _setup(center)
    await refused(consults.start_queue("ann", "billing"), "agent-busy")  # cy not ready
    await refused(consults.start_queue("ann", "nowhere"), "unknown-queue")
    await center.ready("cy")
    await codes.act("ann", PhoneAction.CONSULT, Target("queue", "billing"))
    [request] = center.pbx.originations
    assert request.endpoint == "cy" and call.holds.on_hold
    assert consults.of("ann") is not None and consults.of("ann").target == "cy"  # type: ignore[union-attr]


def _outside_leg(channel_id: str) -> LiveChannel:
    return LiveChannel(
        unique_id=channel_id, name="PJSIP/carrier-00000042", state="Up",
        context=Context.CONSULT.value, exten="s", application="Bridge",
        caller_num="ann", linked_id=channel_id, bridge_id="b1",
    )  # fmt: skip


async def test_a_number_consultation_passes_the_dial_policy_and_completes_out(
    center: Center,
) -> None:
    codes, consults, call, leg = await _setup(center)
    await refused(consults.start_number("ann", "+1 900 555 0123"), "refused")
    assert [r.where for r in center.dial_refusals.rows] == ["consult"]
    assert not call.holds.on_hold and not center.pbx.originations
    started = await consults.start_number("ann", "+44 20 7946 0000")
    [request] = center.pbx.originations
    assert (request.endpoint, request.via, request.context) == (
        "+442079460000", "carrier", Context.CONSULT.value,
    )  # fmt: skip
    assert "DYNAMIC_FEATURES" not in dict(request.variables)  # no codes for outsiders
    await center.advance(10)
    center.pbx.live = [_outside_leg(started.channel_id)]
    await codes.act("ann", PhoneAction.COMPLETE, None)
    assert call.state is not CallState.TALKING and center.state("ann") != "on_call"
    assert ("hangup", leg[0]) in center.pbx.actions
    assert center.pbx.redirects[-1] == (call.channel, Context.RESUME.value, "s")
    [completed] = center.of(CallCompleted)
    assert completed.ended_by == "transfer"
    [segment] = center.of(CallSegmentEnded)
    assert (segment.reason, segment.target, segment.hold) == (
        "consult-complete", "+442079460000", 10.0,
    )  # fmt: skip
    await center.hangup(*leg)  # ann's leg going ends nothing more
    await center.caller_hangs_up(call)
    assert center.calls.get(call.call_id) is None
