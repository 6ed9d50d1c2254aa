"""A call's life (core/calls/state.py): the table, and that nothing else sets a call's state."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from callcenter.core.calls.live import LiveCall
from callcenter.core.calls.state import (
    BEGIN,
    TABLE,
    CallEvent,
    CallState,
    IllegalCallTransition,
    advance,
)

PACKAGE = Path(__file__).resolve().parents[2] / "callcenter"
OWNER = PACKAGE / "core" / "calls" / "state.py"


def call(state: CallState = CallState.IVR) -> LiveCall:
    return LiveCall("c1", "1.1", "PJSIP/sipp-1", "+15550001", "", "5000", 0.0, state)


def test_an_inbound_call_from_ivr_to_a_completed_conversation() -> None:
    c = call()
    for event, expected in [
        (CallEvent.QUEUE, CallState.WAITING),
        (CallEvent.OFFER, CallState.RINGING),
        (CallEvent.RETURN, CallState.WAITING),  # the agent did not answer
        (CallEvent.OFFER, CallState.RINGING),
        (CallEvent.ANSWER, CallState.TALKING),
        (CallEvent.COMPLETE, CallState.ENDED),
        (CallEvent.END, CallState.ENDED),
    ]:
        assert advance(c, event) is expected
        assert c.state is expected


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (CallState.IVR, CallEvent.ANSWER),  # nobody was offered the call
        (CallState.WAITING, CallEvent.ANSWER),
        (CallState.TALKING, CallEvent.OFFER),  # one agent at a time
        (CallState.TALKING, CallEvent.FALL_BACK),  # the conversation is already on
        (CallState.ENDED, CallEvent.QUEUE),  # an ended call never comes back
        (CallState.VOICEMAIL, CallEvent.QUEUE),
    ],
)
def test_steps_not_in_the_table_are_refused(state: CallState, event: CallEvent) -> None:
    c = call(state if state in BEGIN else CallState.IVR)
    if state not in BEGIN:
        advance(c, CallEvent.VOICEMAIL if state is CallState.VOICEMAIL else CallEvent.END)
    with pytest.raises(IllegalCallTransition):
        advance(c, event)
    assert c.state is state


def test_every_state_can_end_and_a_call_begins_only_where_calls_begin() -> None:
    assert all((state, CallEvent.END) in TABLE for state in CallState)
    assert CallState.ENDED not in BEGIN and CallState.VOICEMAIL not in BEGIN
    with pytest.raises(ValueError):
        call(CallState.ENDED)


def _state_assignments(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for item in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(item, ast.Attribute) and item.attr == "state":
                    lines.append(node.lineno)
    return lines


def test_only_the_state_table_assigns_a_calls_state() -> None:
    # Other entities with a ``state`` keep their own (an agent's table, a spy session);
    # a call's is changed only by ``advance``.
    others = {
        PACKAGE / "core" / "acd" / "agent_state.py",
        PACKAGE / "services" / "console" / "supervision.py",
    }
    found = {
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in PACKAGE.rglob("*.py")
        if path != OWNER and path not in others
        for line in _state_assignments(path)
    }
    assert not found, sorted(found)
