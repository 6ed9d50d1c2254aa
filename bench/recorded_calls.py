"""Concurrent recorded calls on one node: Asterisk's CPU and disk per call, and
where audio or set-up starts to suffer.

    python bench/recorded_calls.py                       # 25, 50, 100, 150 calls (about 5 minutes)
    python bench/recorded_calls.py --levels 25,50 --rate 5

The lab of bench/inbound_paths.py (bench/inbound_lab.py: the product's rendered
Asterisk, the controller in this process with SQLite, one SIPp UAS answering
for every agent). Every call takes the product's full inbound path: trunk,
FastAGI IVR menu, press 1, the controller's ACD, ``cc-connect``, which starts
the product's MixMonitor (both parties, into the node's recordings folder,
.wav) and dials the agent. The caller plays a tone as RTP/PCMU (50 packets a
second) for the whole call; Asterisk relays it to the agent (no direct
media). The agents answer after 100 ms and hang up after a fixed talk time,
so at each level N calls are up at once for a while.

At each level N: N calls placed at ``--rate`` calls/s. From 2 s after every
call was answered, for ``--window`` seconds (before the first hangs up; per
call figures divide by the calls up through the window), measured:

* set-up: how long after the last call was placed every call had been
  answered by its agent (the window opens then, or after 20 s with the calls
  that are up: ``answered`` says how many), Asterisk's channels (2 a call);
* Asterisk's CPU (user+system, /proc/<pid>/stat) as % of one core, and per
  call;
* disk: bytes Asterisk's writes dirtied (/proc/<pid>/io write_bytes) and the
  growth of the recordings' files, per second and per call;
* audio on the callers' legs (``pjsip show channelstats`` at the window's
  start and end): packets Asterisk received against the 50 a second sent,
  lost packets, the highest jitter;
* at the end, SIPp's failed calls and every recording file's size against
  the call's length.

The machine's load average is printed with each level: other runs share it.
Prints a table, then one JSON object as the last line.
"""

from __future__ import annotations

import _checkout  # noqa: F401  first: this checkout's code (bench/_checkout.py)

# isort: split
import argparse
import json
import math
import os
import platform
import struct
import sys
import time
import wave
from collections import Counter
from pathlib import Path
from typing import Any

from bench.inbound_lab import Lab
from callcenter.simulate.procs import stop_process
from callcenter.simulate.sipp import caller_scenario
from callcenter.simulate.voices import wav_to_pcap

AGENT_PORT = 17092
RING_MS = 100
SETTLE_S = 2.0  # after every call is answered, before the window opens
ANSWER_WAIT_S = 20.0  # at most this long after the last call is placed, for every answer


def tone_pcap(root: Path, seconds: float) -> Path:
    """A 400 Hz tone at -12 dBFS, 8 kHz 16-bit mono, as an RTP/PCMU pcap."""
    source = root / "tone.wav"
    amplitude = int(32767 * 0.25)
    frames = b"".join(
        struct.pack("<h", int(amplitude * math.sin(2 * math.pi * 400 * n / 8000)))
        for n in range(int(seconds * 8000))
    )
    with wave.open(str(source), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(frames)
    return wav_to_pcap(source, root / "tone.pcap")


def write_bytes(pid: int | None) -> int:
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    except (FileNotFoundError, PermissionError):
        pass
    return -1


def recordings(lab: Lab) -> dict[Path, int]:
    """Every recording file and its size."""
    folder = lab.settings.pbx_dir / "spool" / "recordings"
    return {path: path.stat().st_size for path in folder.rglob("*.wav")} if folder.exists() else {}


def recordings_size(lab: Lab) -> int:
    return sum(recordings(lab).values())


def caller_legs(lab: Lab) -> dict[str, tuple[int, int, float]]:
    """Caller (trunk ``bench``) legs in a bridge: received packets, lost, jitter (ms)."""
    legs = {}
    for line in lab.cli("pjsip show channelstats").splitlines():
        fields = line.split()
        if len(fields) >= 9 and fields[1].startswith("bench-"):
            try:
                jitter = float(fields[7])
                legs[fields[1]] = (int(fields[4]), int(fields[5]), jitter)
            except ValueError:
                continue
    return legs


def level(lab: Lab, calls: int, rate: float, window: float, pcap: Path) -> dict[str, Any]:
    name = f"rec-{calls}"
    caller = lab.caller("ours", name)
    caller.limit = calls + 10  # SIPp's default (3 x rate) would cap the calls up at once
    callers = [("Bench Caller", f"+1555{index:07d}") for index in range(calls)]
    scenario = caller_scenario([500, "1", pcap], end="await", await_ms=300_000)
    events_before = Counter(lab.controller_loop.call(lambda: dict(lab.events)))
    files_before = recordings(lab)
    timeout = 300
    process = caller.start(scenario, callers, calls, rate, timeout, name)
    placed_at = time.monotonic()
    try:
        time.sleep(calls / rate)

        def answered_now() -> int:
            done = lab.controller_loop.call(lambda: dict(lab.events)).get("CallAnswered", 0)
            return int(done - events_before["CallAnswered"])

        # Set-up keeping up: every call answered by its agent how long after the last
        # was placed (at most ANSWER_WAIT_S: then the window opens with what is up).
        deadline = time.monotonic() + ANSWER_WAIT_S
        while answered_now() < calls and time.monotonic() < deadline:
            time.sleep(0.1)
        all_answered_after = time.monotonic() - placed_at - calls / rate
        answered = answered_now()
        time.sleep(SETTLE_S)
        channels = lab.channel_count()
        legs_start = caller_legs(lab)
        cpu_start, io_start, size_start = (
            lab.cpu_seconds()["asterisk"],
            write_bytes(lab.asterisk_pid),
            recordings_size(lab),
        )
        started = time.monotonic()
        time.sleep(window)
        legs_end = caller_legs(lab)
        seconds = time.monotonic() - started
        cpu = lab.cpu_seconds()["asterisk"] - cpu_start
        io = write_bytes(lab.asterisk_pid) - io_start
        grown = recordings_size(lab) - size_start
        channels_end = lab.channel_count()
        load = os.getloadavg()
        result = caller.finish(process, timeout, name)
    finally:
        stop_process(process)
    # Printed as soon as measured: a level past the limit may never drain.
    print(
        f"  N={calls}: answered {answered} ({_s(all_answered_after)} s), channels "
        f"{channels}..{channels_end}, Asterisk {100 * cpu / seconds:.1f} % of a core, "
        f"recordings {grown / seconds / 1000:.0f} KB/s, load {' '.join(f'{x:.2f}' for x in load)}",
        flush=True,
    )
    try:
        lab.wait_idle(90)
    except Exception as exc:  # overloaded: calls left up (SIPp lost them); said, not hidden
        print(f"  N={calls}: not idle after the level: {exc}", flush=True)
        left = lab.channel_count()
    else:
        left = 0
    time.sleep(1)
    new = {path: size for path, size in recordings(lab).items() if path not in files_before}
    both = [leg for leg in legs_end if leg in legs_start]
    received = sum(legs_end[leg][0] - legs_start[leg][0] for leg in both)
    lost = sum(max(0, legs_end[leg][1] - legs_start[leg][1]) for leg in both)
    expected = 50 * seconds * len(both)
    jitter = max((legs_end[leg][2] for leg in both), default=0.0)
    events = Counter(lab.controller_loop.call(lambda: dict(lab.events)))
    events.subtract(events_before)
    up = max(1, min(channels, channels_end) // 2)  # calls up through the window
    return {
        "calls": calls,
        "rate_cps": rate,
        "placed_s": round(time.monotonic() - placed_at, 1),
        "answered_at_window": answered,
        "all_answered_s_after_last_placed": round(all_answered_after, 1)
        if answered >= calls
        else None,
        "calls_up_in_window": up,
        "channels_at_window": channels,
        "channels_at_window_end": channels_end,
        "window_s": round(seconds, 1),
        "asterisk_cpu_pct": round(100 * cpu / seconds, 1),
        "asterisk_cpu_pct_per_call": round(100 * cpu / seconds / up, 3),
        "asterisk_write_bytes_per_s": round(io / seconds) if io >= 0 else None,
        "recordings_growth_bytes_per_s": round(grown / seconds),
        "recordings_growth_bytes_per_s_per_call": round(grown / seconds / up),
        "legs_measured": len(both),
        "rtp_received_of_sent_pct": round(100 * received / expected, 2) if expected else None,
        "rtp_lost": lost,
        "rtp_max_jitter_ms": jitter,
        "sipp_successful": result.successful,
        "sipp_failed": result.failed,
        "answered": events["CallAnswered"],
        "channels_left_after": left,
        "fell_back": events["CallFellBack"],
        "recordings_new": len(new),
        "recordings_new_bytes": sum(new.values()),
        "recording_smallest_bytes": min(new.values(), default=0),
        "recording_largest_bytes": max(new.values(), default=0),
        "load_average": [round(x, 2) for x in load],
    }


HEADER = (
    "  N  answered (s) chans  ast%  ast%/call  disk B/s   rec B/s/call  rtp rx%  lost  "
    "jitter  sipp ok/fail  new recs  load"
)


def row(r: dict[str, Any]) -> str:
    return (
        f"{r['calls']:3d}  {r['answered_at_window']:8d} "
        f"({_s(r['all_answered_s_after_last_placed'])}) {r['channels_at_window']:5d} "
        f"{r['asterisk_cpu_pct']:5.1f}  {r['asterisk_cpu_pct_per_call']:9.3f}  "
        f"{r['asterisk_write_bytes_per_s'] or 0:9d}   "
        f"{r['recordings_growth_bytes_per_s_per_call']:12d}"
        f"  {r['rtp_received_of_sent_pct'] or 0:7.2f} {r['rtp_lost']:5d}  "
        f"{r['rtp_max_jitter_ms']:6.1f}  {r['sipp_successful']:6d}/{r['sipp_failed']:<4d}"
        f"  {r['recordings_new']:8d}  {' '.join(str(x) for x in r['load_average'])}"
    )


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="25,50,100,150")
    parser.add_argument("--rate", type=float, default=10.0, help="calls placed per second")
    parser.add_argument("--window", type=float, default=12.0, help="seconds measured per level")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    most = max(levels)
    # Every call outlasts the placing of the largest level, the settling and the window.
    talk_ms = int(1000 * (most / args.rate + ANSWER_WAIT_S + SETTLE_S + args.window + 4))
    started = time.monotonic()
    results = []
    with Lab({"r": (most, AGENT_PORT, RING_MS, talk_ms)}, keep=args.keep) as lab:
        pcap = tone_pcap(lab.root, talk_ms / 1000 + 10)
        lab.staff("r")
        print(f"lab in {lab.root}: Asterisk pid {lab.asterisk_pid}; agents talk {talk_ms} ms")
        level(lab, 5, args.rate, 2, pcap)  # warm-up
        print(HEADER, flush=True)
        for calls in levels:
            result = level(lab, calls, args.rate, args.window, pcap)
            results.append(result)
            print(row(result), flush=True)
    report = {
        "benchmark": "recorded_calls",
        "cores": os.cpu_count(),
        "talk_s": talk_ms / 1000,
        "levels": results,
        "python": platform.python_version(),
        "duration_s": round(time.monotonic() - started, 1),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
