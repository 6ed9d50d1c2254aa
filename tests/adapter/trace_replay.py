"""Recorded exchanges replayed against the controller, playing the other side.

A trace is a text file, one step per line:

    # comment                     ignored, like blank lines
    @ key: value                  metadata (e.g. which test route to register)
    > text                        the peer (Asterisk) sends ``text`` and a newline
    >                             the peer sends an empty line (ends the agi_* headers)
    >x text                       the peer sends ``text`` with Python bytes escapes
                                  (``\\xe9``) decoded, then a newline: invalid UTF-8
    < text                        the controller must send exactly this line
    <~ regex                      the controller must send a line matching this regex
    = closed                      the controller must close the connection now
    = hangup                      the peer closes the connection (the channel is gone)
"""

from __future__ import annotations

import asyncio
import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

TRACES = Path(__file__).parent / "traces"


@dataclass(frozen=True)
class Step:
    kind: str  # send, expect, expect_re, closed, hangup
    data: bytes | str
    line_no: int


@dataclass
class Trace:
    name: str
    meta: dict[str, str] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)

    @property
    def sent(self) -> list[bytes]:
        return [s.data for s in self.steps if s.kind == "send"]  # type: ignore[misc]


def load(name: str) -> Trace:
    path = TRACES / name
    trace = Trace(path.name)
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("@ "):
            key, _, value = line[2:].partition(":")
            trace.meta[key.strip()] = value.strip()
        elif line == ">":
            trace.steps.append(Step("send", b"\n", number))
        elif line.startswith(">x "):
            data = codecs.escape_decode(line[3:].encode("ascii"))[0]
            trace.steps.append(Step("send", bytes(data) + b"\n", number))
        elif line.startswith("> "):
            trace.steps.append(Step("send", line[2:].encode("utf-8") + b"\n", number))
        elif line.startswith("<~ "):
            trace.steps.append(Step("expect_re", line[3:], number))
        elif line.startswith("< "):
            trace.steps.append(Step("expect", line[2:], number))
        elif line == "= closed":
            trace.steps.append(Step("closed", "", number))
        elif line == "= hangup":
            trace.steps.append(Step("hangup", "", number))
        else:
            raise ValueError(f"{path.name}:{number}: cannot read {line!r}")
    return trace


def all_traces(prefix: str) -> list[str]:
    return sorted(p.name for p in TRACES.glob(f"{prefix}*.txt"))


async def replay(trace: Trace, host: str, port: int, line_timeout: float = 1.0) -> list[str]:
    """Play the peer's side of ``trace``; return every line the controller sent."""
    reader, writer = await asyncio.open_connection(host, port)
    received: list[str] = []
    try:
        for step in trace.steps:
            where = f"{trace.name}:{step.line_no}"
            if step.kind == "send":
                assert isinstance(step.data, bytes)
                writer.write(step.data)
                await writer.drain()
            elif step.kind == "hangup":
                writer.close()
                await writer.wait_closed()
                return received
            elif step.kind == "closed":
                rest = await asyncio.wait_for(reader.read(), line_timeout)
                assert rest == b"", f"{where}: controller sent {rest!r} instead of closing"
            else:
                try:
                    raw = await asyncio.wait_for(reader.readline(), line_timeout)
                except TimeoutError:
                    raise AssertionError(
                        f"{where}: controller sent nothing in {line_timeout}s, "
                        f"expected {step.data!r}"
                    ) from None
                assert raw.endswith(b"\n"), f"{where}: controller closed; got {raw!r}"
                line = raw.decode("utf-8").rstrip("\n")
                received.append(line)
                if step.kind == "expect":
                    assert line == step.data, f"{where}: expected {step.data!r}, got {line!r}"
                else:
                    assert isinstance(step.data, str)
                    assert re.fullmatch(step.data, line), (
                        f"{where}: {line!r} does not match {step.data!r}"
                    )
    finally:
        writer.close()
    return received
