"""The IVR's callback node: a key per delay books a callback; bad keys are retried."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.core.ivr import Collect, Digits, Hangup, IvrSession, NoInput
from callcenter.core.ivr.checks import check_flow
from callcenter.core.ivr.errors import FlowError
from callcenter.core.ivr.events import BookCallback
from tests.unit.ivr.flows import flow

NODES: dict[str, Any] = {
    "later": {
        "type": "callback",
        "queue": "support",
        "prompts": ["when"],
        "choices": {"1": 30, "2": 120},
        "retries": 1,
        "invalid_prompt": "bad",
        "on_fail": "bye",
    },
    "bye": {"type": "hangup", "reason": "no-callback"},
}


def session() -> IvrSession:
    return IvrSession(flow(NODES), caller="2125550101", open_now=None)


def test_a_key_books_a_callback_after_its_delay() -> None:
    ivr = session()
    assert ivr.start() == Collect(("when",), 1, 5.0, None)
    assert ivr.feed(Digits("2")) == BookCallback("support", 120)
    assert ivr.outcome == "callback" and ivr.data["callback.after_minutes"] == "120"


def test_a_wrong_key_is_retried_then_the_node_gives_up() -> None:
    ivr = session()
    ivr.start()
    assert ivr.feed(Digits("7")) == Collect(("bad", "when"), 1, 5.0, None)
    assert ivr.feed(NoInput()) == Hangup("no-callback")
    assert ivr.outcome == "hangup"


def test_a_callback_node_names_a_queue_that_exists() -> None:
    problems, _ = check_flow(flow(NODES), queues={"sales"}, schedules=None)
    assert any("support" in str(p) for p in problems)
    assert check_flow(flow(NODES), queues={"support"}, schedules=None)[0] == []


def test_delays_are_bounded() -> None:
    bad = {**NODES, "later": {**NODES["later"], "choices": {"1": 99999}}}
    with pytest.raises(FlowError):
        flow(bad)
