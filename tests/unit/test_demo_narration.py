"""What `callcenter demo` prints: the calls told, the estimates set against the waits."""

from __future__ import annotations

import logging
from pathlib import Path

from callcenter.core import events as ev
from callcenter.demo import Narrator, log_to_file

T = 1_000.0


def queued(call: str, at: float, estimate: float | None, position: int = 2) -> ev.CallQueued:
    return ev.CallQueued(
        at=at, call_id=call, unique_id=call, queue="support", priority=0, extra={},
        caller="+15550101", position=position, estimate=estimate, reliable=False,
    )  # fmt: skip


def answered(call: str, at: float, wait: float) -> ev.CallAnswered:
    return ev.CallAnswered(
        at=at, call_id=call, unique_id=call, queue="support", agent="demo-bob", wait=wait,
        ring_seconds=0.1, agent_channel="",
    )  # fmt: skip


def test_a_waiting_caller_is_told_and_judged() -> None:
    narrator = Narrator({"+15550101": "Dave Customer"})
    assert narrator.describe(queued("c1", T, 21.0)) == (
        "Dave Customer joined support (position 2, estimated wait 21 s)"
    )
    heard = ev.WaitAnnounced(
        at=T, call_id="c1", queue="support", position=2, estimate=21.0, reliable=False,
        why_not="too few calls measured",
    )  # fmt: skip
    assert narrator.describe(heard) == (
        "  Dave Customer hears: position 2; no figure said "
        "(estimate 21 s, not stood by: too few calls measured)"
    )
    told = ev.WaitAnnounced(
        at=T + 30, call_id="c1", queue="support", position=1, estimate=150.0, reliable=True,
        told="3 minutes",
    )  # fmt: skip
    assert (
        narrator.describe(told)
        == '  Dave Customer hears: you are next, "3 minutes" (estimate 2.5 min)'
    )
    line = narrator.describe(answered("c1", T + 20, 20.0))
    assert line == (
        "  demo-bob answered Dave Customer (support) after 20.0s; "
        "estimated 21 s on joining, it took 20 s"
    )
    # The joining estimate and the first announcement against 20 s; the later
    # announcement (made up to come after the answer) has no wait to be judged by.
    assert narrator.judged == [(21.0, 20.0), (21.0, 20.0)]


def test_the_summary_sets_estimates_against_waits() -> None:
    narrator = Narrator({})
    narrator.describe(queued("c1", T, 30.0))
    narrator.describe(answered("c1", T + 20, 20.0))  # 50 % off
    narrator.describe(queued("c2", T, 10.0))
    narrator.describe(answered("c2", T + 10, 10.0))  # spot on
    narrator.describe(queued("c3", T, 10.0))
    narrator.describe(
        ev.CallAbandoned(at=T + 5, call_id="c3", unique_id="c3", queue="support", wait=5.0,
                         position=1)
    )  # fmt: skip  # gave up: no actual wait, not judged
    assert narrator.summary().startswith(
        "wait estimates: 2 set against the waits that followed: "
        "|estimate - actual| / actual median 25%, 90th percentile 45%"
    )
    assert Narrator({}).summary() == "wait estimates: none to judge (no caller waited)"


def test_log_lines_go_to_the_file_not_the_terminal(tmp_path: Path, capsys: object) -> None:
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        log_to_file(tmp_path / "demo.log")
        root.setLevel(logging.INFO)
        logging.getLogger("callcenter.test").info("a log line")
        assert root.handlers and all(isinstance(h, logging.FileHandler) for h in root.handlers)
        for handler in root.handlers:
            handler.flush()
        assert "a log line" in (tmp_path / "demo.log").read_text()
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
