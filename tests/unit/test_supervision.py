"""Listen / whisper / barge: what is asked of Asterisk, and that it is asked once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from callcenter.adapters.ami.client import AmiError, AmiNotConnected, AmiTimeout
from callcenter.adapters.ami.commands import AmiPbx
from callcenter.config import NAME_PATTERN
from callcenter.core import pbx_events as ev
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.state import CallState
from callcenter.core.channels import Channel, ChannelTable
from callcenter.paths import DIALPLAN_DIR
from callcenter.services.console.supervision import SpyError, SpyMode, SpyState, Supervision
from callcenter.services.ports import OriginateUncertain, Origination, PbxUnavailable
from callcenter.services.timers import Timers

NOW = 1_750_000_000.0


class FakeOriginator:
    def __init__(self) -> None:
        self.placed: list[Origination] = []
        self.hung_up: list[str] = []
        self.fail: Exception | None = None
        self.gate: asyncio.Event | None = None

    async def originate(self, request: Origination) -> None:
        self.placed.append(request)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail

    async def hangup(self, channel: str) -> None:
        self.hung_up.append(channel)


class Directory(dict[str, object]):
    pass


@pytest.fixture
def table() -> ChannelTable:
    table = ChannelTable()
    table.set_contact("sup1", "Reachable")
    table.set_contact("agent1", "Reachable")
    table.upsert(Channel("1700.1", "PJSIP/agent1-00000001", "Up"))
    return table


@pytest.fixture
def originator() -> FakeOriginator:
    return FakeOriginator()


@pytest.fixture
def supervision(originator: FakeOriginator, table: ChannelTable) -> Iterator[Supervision]:
    calls = CallBook()
    call = LiveCall(
        "c1", "1700.0", "PJSIP/sipp-0", "+15551234", "Bob", "5000", NOW - 60, CallState.TALKING
    )
    call.agent = "agent1"
    calls.add(call)
    directory = Directory(agent1=object(), agent10=object(), sup1=object())
    ids = iter(f"cc-spy-{n}" for n in range(100))
    timers = Timers(clock=lambda: NOW)
    service = Supervision(originator, directory, table, calls, timers, new_id=lambda: next(ids))
    yield service
    timers.cancel_all()


# -- the dialplan: each mode runs ChanSpy with its own options ------------------------------
def _spy_context() -> list[str]:
    text = (DIALPLAN_DIR / "supervisor.conf").read_text()
    body = text.split("[cc-spy]", 1)[1]
    return [line.split(";", 1)[0].strip() for line in body.splitlines() if "=>" in line]


def _chanspy_for(mode: str) -> str:
    """Follow the context as Asterisk would for CC_SPY_MODE=mode: the ChanSpy it reaches."""
    lines = _spy_context()
    label = None
    for line in lines:
        found = re.search(rf'GotoIf\(\$\["\$\{{CC_SPY_MODE\}}" = "{mode}"\]\?(\w+)\)', line)
        if found:
            label = found.group(1)
    assert label is not None, f"no branch for {mode}"
    target = next(line for line in lines if f"n({label})," in line)
    app = re.search(r"n\(\w+\),(\w+)\((.*)\)$", target)
    assert app is not None and app.group(1) == "ChanSpy", target
    return app.group(2)


@pytest.mark.parametrize(
    ("mode", "options"),
    [(SpyMode.LISTEN, "qES"), (SpyMode.WHISPER, "qESw"), (SpyMode.BARGE, "qESB")],
)
def test_each_mode_runs_chanspy_with_its_options(mode: SpyMode, options: str) -> None:
    prefix, got = _chanspy_for(mode.value).split(",")
    # "-" ends the prefix: PJSIP/agent1 alone would also match agent10's channels.
    assert prefix == "PJSIP/${EXTEN}-"
    assert got == options
    assert "q" in got and "E" in got  # quiet; ends with the agent's call


def test_the_dialplan_checks_the_agent_name_before_spying() -> None:
    lines = _spy_context()
    check = next(i for i, line in enumerate(lines) if "REGEX(" in line)
    first_spy = next(i for i, line in enumerate(lines) if "ChanSpy(" in line)
    assert check < first_spy
    assert f'REGEX("{NAME_PATTERN}" ${{EXTEN}})' in lines[check]


def test_an_unknown_mode_hangs_up_without_spying() -> None:
    lines = _spy_context()
    last_branch = max(
        i for i, line in enumerate(lines) if "CC_SPY_MODE" in line and "GotoIf" in line
    )
    first_label = next(i for i, line in enumerate(lines) if re.search(r"n\(\w+\),ChanSpy", line))
    fall_through = lines[last_branch + 1 : first_label]
    assert any("Hangup()" in line for line in fall_through)
    assert not any("ChanSpy" in line for line in fall_through)


# -- what the controller asks of Asterisk ----------------------------------------------------
async def test_listen_originates_to_the_supervisors_phone_into_cc_spy(
    supervision: Supervision, originator: FakeOriginator
) -> None:
    session = await supervision.start("boss", "sup1", "agent1", SpyMode.LISTEN, NOW)
    (placed,) = originator.placed
    assert placed.endpoint == "sup1"
    assert (placed.context, placed.exten) == ("cc-spy", "agent1")
    assert placed.action_id == placed.channel_id == session.id
    assert placed.variables == (("CC_SPY_MODE", "listen"),)
    # Several nodes: placed beside the agent's channel (ChanSpy sees its own node only).
    assert placed.near == "PJSIP/agent1-00000001"
    assert session.state is SpyState.DIALLING
    assert session.call_id == "c1"


async def test_a_second_request_while_one_is_open_is_refused(
    supervision: Supervision, originator: FakeOriginator
) -> None:
    first = await supervision.start("boss", "sup1", "agent1", SpyMode.LISTEN, NOW)
    with pytest.raises(SpyError) as refused:
        await supervision.start("boss", "sup1", "agent1", SpyMode.BARGE, NOW)
    assert refused.value.code == "busy"
    assert refused.value.session is first
    assert len(originator.placed) == 1


async def test_two_requests_at_once_place_one_call(
    supervision: Supervision, originator: FakeOriginator
) -> None:
    originator.gate = asyncio.Event()  # the first Originate waits for Asterisk's answer
    first = asyncio.create_task(supervision.start("boss", "sup1", "agent1", SpyMode.LISTEN, NOW))
    await asyncio.sleep(0)
    with pytest.raises(SpyError) as refused:
        await supervision.start("boss", "sup1", "agent1", SpyMode.LISTEN, NOW)
    originator.gate.set()
    await first
    assert refused.value.code == "busy"
    assert len(originator.placed) == 1


async def test_an_unanswered_originate_is_never_resent(
    supervision: Supervision, originator: FakeOriginator
) -> None:
    originator.fail = OriginateUncertain("AMI link lost before the answer")
    with pytest.raises(SpyError) as first:
        await supervision.start("boss", "sup1", "agent1", SpyMode.LISTEN, NOW)
    assert first.value.code == "uncertain"
    session = first.value.session
    assert session is not None and session.state is SpyState.UNCERTAIN
    with pytest.raises(SpyError) as retried:
        await supervision.start("boss", "sup1", "agent1", SpyMode.LISTEN, NOW)
    assert retried.value.code == "busy"
    assert len(originator.placed) == 1
    # Asterisk did place it after all: the events still find the session.
    supervision.originate_response(ev.OriginateResponse(action_id=session.id, response="Success"))
    assert session.state is SpyState.ACTIVE
    supervision.hangup(ev.Hangup(unique_id=session.id, channel="PJSIP/sup1-00000002"))
    assert session.state is SpyState.ENDED
    originator.fail = None
    await supervision.start("boss", "sup1", "agent1", SpyMode.WHISPER, NOW)
    assert len(originator.placed) == 2


async def test_an_uncertain_session_with_no_channel_ends_at_the_next_check(
    supervision: Supervision, originator: FakeOriginator, table: ChannelTable
) -> None:
    originator.fail = OriginateUncertain("no answer to Originate in time")
    with pytest.raises(SpyError) as failed:
        await supervision.start("boss", "sup1", "agent1", SpyMode.LISTEN, NOW)
    session = failed.value.session
    assert session is not None
    await supervision.resync()
    assert (session.state, session.reason) == (SpyState.ENDED, "no-channel")


async def test_resync_marks_a_session_answered_while_the_link_was_down(
    supervision: Supervision, table: ChannelTable
) -> None:
    session = await supervision.start("boss", "sup1", "agent1", SpyMode.BARGE, NOW)
    table.upsert(Channel(session.id, "PJSIP/sup1-00000003", "Up"))
    await supervision.resync()
    assert session.state is SpyState.ACTIVE


async def test_nothing_placed_frees_the_phone_at_once(
    supervision: Supervision, originator: FakeOriginator
) -> None:
    originator.fail = PbxUnavailable("AMI is not connected")
    with pytest.raises(SpyError) as failed:
        await supervision.start("boss", "sup1", "agent1", SpyMode.LISTEN, NOW)
    assert failed.value.code == "pbx-unavailable"
    originator.fail = None
    await supervision.start("boss", "sup1", "agent1", SpyMode.LISTEN, NOW)
    assert len(originator.placed) == 2


async def test_a_refused_or_unanswered_call_ends_the_session(supervision: Supervision) -> None:
    session = await supervision.start("boss", "sup1", "agent1", SpyMode.LISTEN, NOW)
    supervision.originate_response(
        ev.OriginateResponse(action_id=session.id, response="Failure", reason=3)
    )
    assert (session.state, session.reason) == (SpyState.ENDED, "not-answered-3")
    assert supervision.open_session("sup1") is None


@pytest.mark.parametrize(
    ("phone", "agent", "code"),
    [
        ("sup1", "agent2", "unknown-agent"),  # not in the directory
        ("sup1", "Agent1;x", "unknown-agent"),  # not a name at all
        ("sup1", "agent1-,qEB", "unknown-agent"),
        ("", "agent1", "no-phone"),
        ("boss2", "agent1", "unknown-phone"),
        ("sup1", "sup1", "self"),
        ("sup1", "agent10", "not-on-call"),  # agent1's channel must not count for agent10
    ],
)
async def test_bad_requests_place_nothing(
    supervision: Supervision, originator: FakeOriginator, phone: str, agent: str, code: str
) -> None:
    with pytest.raises(SpyError) as refused:
        await supervision.start("boss", phone, agent, SpyMode.LISTEN, NOW)
    assert refused.value.code == code
    assert originator.placed == []


async def test_the_supervisors_phone_must_be_registered_and_free(
    supervision: Supervision, originator: FakeOriginator, table: ChannelTable
) -> None:
    table.set_contact("sup1", "Unreachable")
    with pytest.raises(SpyError) as offline:
        await supervision.start("boss", "sup1", "agent1", SpyMode.LISTEN, NOW)
    table.set_contact("sup1", "Reachable")
    table.upsert(Channel("1700.9", "PJSIP/sup1-00000009", "Up"))
    with pytest.raises(SpyError) as busy:
        await supervision.start("boss", "sup1", "agent1", SpyMode.LISTEN, NOW)
    assert (offline.value.code, busy.value.code) == ("phone-offline", "phone-busy")
    assert originator.placed == []


async def test_stop_hangs_up_the_supervisors_channel(
    supervision: Supervision, originator: FakeOriginator, table: ChannelTable
) -> None:
    session = await supervision.start("boss", "sup1", "agent1", SpyMode.LISTEN, NOW)
    table.upsert(Channel(session.id, "PJSIP/sup1-00000004", "Up"))
    await supervision.stop(session.id)
    assert originator.hung_up == ["PJSIP/sup1-00000004"]


# -- the AMI side: one Originate, never re-sent ------------------------------------------------
class FakeAmi:
    def __init__(self, connected: bool = True, error: Exception | None = None) -> None:
        self.connected = connected
        self.error = error
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def action(self, name: str, timeout: float | None = None, **headers: Any) -> None:
        self.sent.append((name, headers))
        if self.error is not None:
            raise self.error


REQUEST = Origination(
    endpoint="sup1",
    context="cc-spy",
    exten="agent1",
    action_id="cc-spy-1",
    channel_id="cc-spy-1",
    caller_id='"Listen agent1" <spy>',
    ring_seconds=30,
    variables=(("CC_SPY_MODE", "listen"),),
)


async def test_ami_originate_is_async_with_our_ids() -> None:
    ami = FakeAmi()
    await AmiPbx(ami).originate(REQUEST)  # type: ignore[arg-type]
    ((name, headers),) = ami.sent
    assert name == "Originate"
    assert headers["Channel"] == "PJSIP/sup1"
    assert headers["Async"] == "true"
    assert headers["ActionID"] == headers["ChannelId"] == "cc-spy-1"
    assert (headers["Context"], headers["Exten"], headers["Priority"]) == ("cc-spy", "agent1", "1")
    assert headers["Variable"] == ["CC_SPY_MODE=listen"]
    assert headers["Timeout"] == "30000"


@pytest.mark.parametrize(
    ("ami", "raised", "sent"),
    [
        (FakeAmi(connected=False), PbxUnavailable, 0),
        (FakeAmi(error=AmiError("Originate failed: Permission denied")), PbxUnavailable, 1),
        (FakeAmi(error=AmiTimeout("no answer to Originate in time")), OriginateUncertain, 1),
        (FakeAmi(error=AmiNotConnected("AMI link lost before the answer")), OriginateUncertain, 1),
    ],
)
async def test_ami_originate_failures_say_whether_a_call_may_exist(
    ami: FakeAmi, raised: type[Exception], sent: int
) -> None:
    with pytest.raises(raised):
        await AmiPbx(ami).originate(REQUEST)  # type: ignore[arg-type]
    assert len(ami.sent) == sent


@pytest.mark.parametrize(
    "changed",
    [
        {"caller_id": '"Spring" <+12125550100\n>'},
        {"caller_id": "+12125550100\nVariable: X=1"},
        {"endpoint": "+12125550100\r"},
        {"variables": (("CC_CALL_ID", "c1\nAction: Command"),)},
    ],
)
async def test_ami_originate_with_a_line_break_is_never_sent(changed: dict[str, Any]) -> None:
    ami = FakeAmi()
    with pytest.raises(PbxUnavailable, match="line break"):
        await AmiPbx(ami).originate(replace(REQUEST, **changed))  # type: ignore[arg-type]
    assert ami.sent == []
