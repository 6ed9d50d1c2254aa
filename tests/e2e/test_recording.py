"""Recording: every answered queued call is recorded, as long as it was talked,
and the part recorded while paused (card payments) is silent.

Both parties make sound: the SIPp callers play real speech (espeak-ng, see
callcenter/simulate/voices.py) and the baresip agents send a 440 Hz tone. The
WAV files MixMonitor writes are measured with the standard library only.
"""

from __future__ import annotations

import math
import struct
import time
import wave
from pathlib import Path

import pytest

from callcenter.adapters.db.models import CallEventRow, CallRow, RecordingRow
from callcenter.core.calls.state import CallState
from callcenter.simulate.procs import wait_for
from callcenter.simulate.sipp import caller_scenario
from callcenter.simulate.softphone import Softphone
from callcenter.simulate.voices import greeting_pcap
from tests.e2e.conftest import CALLER_PORT, CallCenter
from tests.e2e.sites import one_queue_site

pytestmark = pytest.mark.e2e

SPEECH = (
    "Hello, I am calling about my last invoice. I would like to pay it now by card, "
    "and I also have a question about the delivery date of my order. "
    "Could you please tell me when the parcel will arrive, and whether I can change "
    "the address? Thank you very much for your help, I will wait on the line."
)
TALK_BEFORE, PAUSED, TALK_AFTER = 2.5, 3.0, 2.5
LENGTH_TOLERANCE = 1.0  # seconds between the recording's length and the talk time
EDGE = 0.4  # seconds left out at each edge of a muted interval (command latency)
SILENT_RMS, SOUND_RMS = 30.0, 300.0  # 16-bit sample RMS


def window_rms(path: Path, start: float, end: float, step: float = 0.5) -> list[float]:
    """RMS of each ``step``-second window of the mono 16-bit WAV between start and end."""
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2), path
        rate = wav.getframerate()
        wav.setpos(int(start * rate))
        frames = wav.readframes(int((end - start) * rate))
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    size = int(step * rate)
    return [
        math.sqrt(sum(s * s for s in chunk) / len(chunk))
        for i in range(0, len(samples) - size + 1, size)
        if (chunk := samples[i : i + size])
    ]


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return float(wav.getnframes() / wav.getframerate())


def talking_call_id(center: CallCenter, number: str) -> str:
    def find() -> str | None:
        calls = center.get(lambda c: c.calls.in_state(CallState.TALKING))
        return next((c.call_id for c in calls if c.caller == number), None)

    found = wait_for(find, 10, f"the call from {number} in conversation")
    assert isinstance(found, str)
    return found


def answer(phone: Softphone, number: str) -> None:
    event = phone.wait_event("CALL_INCOMING", 15)
    assert number in event["peeruri"], event
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", 5)


def test_each_answered_call_is_recorded_for_its_talk_time_and_silent_while_paused(
    callcenter: CallCenter, tmp_path: Path
) -> None:
    center = callcenter
    center.load_site(one_queue_site("rita", "sam"))
    rita = center.softphone(center.account("rita"))
    sam = center.softphone(center.account("sam"))
    center.login("rita")  # rita first: she takes the first call
    center.login("sam")
    center.wait_available("rita", "sam")
    speech = greeting_pcap(SPEECH, tmp_path / "voices" / "invoice.pcap")

    # The caller presses 1, then talks (its speech plays on), and waits for the agent's BYE.
    scenario = caller_scenario([800, "1", speech], end="await")
    first = center.caller(port=CALLER_PORT)
    first_run = first.start(scenario, [("Paying", "5554001")])
    answer(rita, "5554001")
    second = center.caller(port=CALLER_PORT + 10)
    second_run = second.start(scenario, [("Asking", "5554002")])
    answer(sam, "5554002")

    # rita's caller reads out a card number: the recording is paused, then resumed.
    call_id = talking_call_id(center, "5554001")
    mute = center.controller.recordings.mute
    time.sleep(TALK_BEFORE)
    paused_at = time.time()
    center.thread.run(mute(call_id, True, paused_at))
    assert center.get(lambda c: c.calls.get(call_id).muted_since is not None)
    time.sleep(PAUSED)
    resumed_at = time.time()
    center.thread.run(mute(call_id, False, resumed_at))
    time.sleep(TALK_AFTER)
    rita.hangup()
    sam.hangup()
    for sipp, process in ((first, first_run), (second, second_run)):
        result = sipp.finish(process, 20)
        assert (result.successful, result.failed) == (1, 0), result.log
    center.wait_no_calls()

    recordings = {r.caller_number: r for r in center.rows(RecordingRow)}
    assert set(recordings) == {"5554001", "5554002"}
    for number, agent in (("5554001", "rita"), ("5554002", "sam")):
        (call,) = center.rows(CallRow, CallRow.caller_number == number)
        recording = recordings[number]
        assert (recording.call_id, recording.agent, recording.queue) == (call.id, agent, "support")
        assert call.answered_at is not None and call.talk_seconds is not None
        assert recording.started_at == pytest.approx(call.answered_at, abs=0.01)
        assert recording.ended_at is not None
        path = center.controller.recordings.host_path(recording.path)
        wait_for(path.exists, 10, f"the recording {path}")
        seconds = wav_seconds(path)
        assert abs(seconds - call.talk_seconds) <= LENGTH_TOLERANCE, (seconds, call.talk_seconds)

    # The paused call: one muted interval, kept in the record, silent in the file.
    paying = recordings["5554001"]
    ((muted_from, muted_to),) = paying.mutes
    assert muted_from == pytest.approx(paused_at - paying.started_at, abs=0.05)
    assert muted_to == pytest.approx(resumed_at - paying.started_at, abs=0.05)
    assert muted_to - muted_from >= PAUSED
    path = center.controller.recordings.host_path(paying.path)
    silent = window_rms(path, muted_from + EDGE, muted_to - EDGE)
    assert silent and max(silent) < SILENT_RMS, silent
    before = window_rms(path, 0.5, muted_from - EDGE)
    after = window_rms(path, muted_to + EDGE, wav_seconds(path) - 0.5)
    assert before and after
    assert min(before + after) > SOUND_RMS, (before, after)
    kinds = [e.kind for e in center.rows(CallEventRow, CallEventRow.call_id == paying.call_id)]
    assert kinds.count("recording-muted") == 1 and kinds.count("recording-resumed") == 1

    # The other call was never paused: sound from end to end.
    asking = recordings["5554002"]
    assert asking.mutes == []
    other = center.controller.recordings.host_path(asking.path)
    levels = window_rms(other, 0.5, wav_seconds(other) - 0.5)
    assert levels and min(levels) > SOUND_RMS, levels
