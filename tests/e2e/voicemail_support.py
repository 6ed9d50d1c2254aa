"""What the voicemail tests share: a queue that overflows to box 200 after 2 s, and a
SIPp caller who waits, is sent to the box and speaks a message."""

from __future__ import annotations

import time
from pathlib import Path

from callcenter.simulate.procs import wait_for
from callcenter.simulate.voices import greeting_pcap
from tests.e2e.conftest import CallCenter
from tests.e2e.sites import agent, queue_node, quiet_queue, site

SPEECH = "Hello, this is Pat. Please call me back about my order."
CALLER = "2125550600"


def load_overflow_site(center: CallCenter) -> None:
    """Agent pat (support) and a support queue whose callers go to box 200 after 2 s."""
    overflow = {"action": "voicemail", "target": "200"}
    center.load_site(
        site(
            agents=[agent("pat", 1001, support=3)],
            queues=[
                quiet_queue(
                    "support", requirements={"support": 1}, max_wait=2, on_max_wait=overflow
                )
            ],
            choices={"1": "support"},
            nodes={"support": queue_node("support")},
        )
    )


def leave_message(center: CallCenter, tmp_path: Path) -> float:
    """A caller keys 1, waits into the box, speaks after its greeting and hangs up;
    returns the monotonic time of the hang-up."""
    speech = greeting_pcap(SPEECH, tmp_path / "voices" / "message.pcap")
    steps: list[str | int | Path] = [800, "1", 16000, speech, 8000]
    placed = center.place_call(steps, CALLER, "Patient", end="bye")
    wait_for(placed.ended, 50, "the caller leaving a message and hanging up")
    hung_up = time.monotonic()
    result = placed.finish()
    assert (result.successful, result.failed) == (1, 0), result.log
    return hung_up
