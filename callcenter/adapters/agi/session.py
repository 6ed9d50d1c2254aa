"""One FastAGI conversation with Asterisk about one channel.

Commands go out one line at a time; results are parsed with panoramisk's
parser. Asterisk may slip a ``HANGUP`` line in front of any result when the
caller hangs up; we note it and keep reading, so results never shift by one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from callcenter.core.dialplan import Var

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
# "200 result=12 (timeout) endpos=1234": the value may be empty, data optional.
_RESULT = re.compile(
    r"^200 result=(?P<result>\S*)(?:\s+\((?P<data>.*)\))?(?:\s+endpos=-?\d+)?\s*\Z"
)


# Values MSet can take as they are: no "," "(" ")" "=" quote, backslash, "$" or space,
# which its argument parser or the variable substitution would read as syntax.
_MSET_VALUE = re.compile(r"[A-Za-z0-9_./:@+-]*")
_MSET_NAME = re.compile(r"_{0,2}[A-Za-z][A-Za-z0-9_]*(\([a-z]+\))?")
# Commands that neither play nor read keys: they run on a channel still ringing.
# Read() answers the channel itself; anything else waits for a deferred answer.
_SILENT = ("SET VARIABLE", "GET VARIABLE", "GET FULL VARIABLE", "CHANNEL STATUS", "HANGUP")
_SILENT_APPS = frozenset({"MSet", "Set", "Read"})

USAGE_TIMEOUT = 5.0
# Commands whose -1 result can mean "the caller hung up meanwhile".
_MAY_HANG_UP = frozenset({"GET", "STREAM", "CONTROL", "WAIT", "SAY", "EXEC", "RECORD"})


class AgiHangup(Exception):
    """The channel is gone; nothing more can be played or read on it."""


class AgiError(Exception):
    """Asterisk refused a command (bad syntax, unknown command, app error)."""


@dataclass(frozen=True, slots=True)
class AgiResult:
    code: int
    result: str
    data: str
    line: str

    @property
    def timed_out(self) -> bool:
        return self.data == "timeout"


def batch(pairs: Iterable[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    """Split variable sets into MSet's argument (two or more plain values, "" if
    fewer) and the rest, each set on its own with SET VARIABLE (quoted)."""
    every = list(pairs)
    plain = [(n, v) for n, v in every if _MSET_NAME.fullmatch(n) and _MSET_VALUE.fullmatch(v)]
    if len(plain) < 2:
        return "", every
    others = [pair for pair in every if pair not in plain]
    return ",".join(f"{name}={value}" for name, value in plain), others


def quote(value: str) -> str:
    """One AGI argument: control characters dropped, quotes and backslashes escaped."""
    clean = _UNSAFE.sub("", value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{clean}"'


class AgiSession:
    def __init__(
        self,
        headers: Mapping[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        command_timeout: float = 3600.0,
    ) -> None:
        self.headers = dict(headers)
        self._reader = reader
        self._writer = writer
        self._command_timeout = command_timeout
        self.hung_up = False
        self.node = ""  # the node it came from ([[pbx.nodes]]); '' on a single box
        self.commands = 0  # round trips so far (tests and benchmarks count them)
        self._later: dict[str, str] = {}
        self._answer_due = False

    # -- headers -----------------------------------------------------------------
    def header(self, name: str) -> str:
        return self.headers.get(f"agi_{name}", "")

    @property
    def channel(self) -> str:
        return self.header("channel")

    @property
    def unique_id(self) -> str:
        return self.header("uniqueid")

    @property
    def caller_id(self) -> str:
        return self.header("callerid")

    @property
    def args(self) -> list[str]:
        found = []
        index = 1
        while f"agi_arg_{index}" in self.headers:
            found.append(self.headers[f"agi_arg_{index}"])
            index += 1
        return found

    # -- raw command -------------------------------------------------------------
    async def command(self, line: str) -> AgiResult:
        if "\n" in line or "\r" in line:
            raise ValueError("an AGI command is one line")
        if self._answer_due and not _silent(line):
            self._answer_due = False
            await self.command("ANSWER")
        if self._later:
            later, self._later = self._later, {}
            await self.set_variables(later.items())
        if line.startswith("EXEC Read "):
            self._answer_due = False  # Read answers a ringing channel itself
        self.commands += 1
        self._writer.write(line.encode() + b"\n")
        await self._writer.drain()
        while True:
            # asyncio.timeout rather than wait_for: no task made per line read.
            async with asyncio.timeout(self._command_timeout):
                raw = await self._reader.readline()
            if not raw:
                self.hung_up = True
                raise AgiHangup(f"connection closed during {line.split(' ', 1)[0]}")
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if text == "HANGUP":
                self.hung_up = True
                continue
            code = int(text[:3]) if text[:3].isdigit() else 0
            if code == 100:
                continue
            if text.startswith("520-"):
                # A usage text follows, ending with a line starting "520 End".
                while raw and not raw.startswith(b"520 End"):
                    async with asyncio.timeout(USAGE_TIMEOUT):
                        raw = await self._reader.readline()
            result = self._check(line, code, text)
            if result.result == "-1" and line.split(" ", 1)[0] in _MAY_HANG_UP:
                await self._confirm_alive(line)
            return result

    async def _confirm_alive(self, line: str) -> None:
        """A -1 from a command that plays or reads keys: the caller may be gone.

        Asterisk sends its HANGUP line only after that result, so a hang-up in
        the middle of GET DATA would pass as "no keys" (a retry prompt, or an
        IVR going on to queue a dead channel). Ask for the channel's status:
        a dead channel answers 511, which raises AgiHangup.
        """
        status = await self.command("CHANNEL STATUS")
        if status.result == "-1":
            self.hung_up = True
            raise AgiHangup(f"channel hung up ({line.split(' ', 1)[0]})")

    def _check(self, line: str, code: int, text: str) -> AgiResult:
        verb = line.split(" ", 1)[0]
        if code == 511:
            self.hung_up = True
            raise AgiHangup(f"channel hung up ({verb})")
        match = _RESULT.match(text) if code == 200 else None
        if match is None:
            raise AgiError(f"{line!r} refused: {text}")
        result, data = match["result"], match["data"] or ""
        if data == "hangup" or (result == "-1" and self.hung_up):
            self.hung_up = True
            raise AgiHangup(f"channel hung up ({verb})")
        return AgiResult(code, result, data, text)

    # -- commands ------------------------------------------------------------------
    async def answer(self) -> None:
        self._answer_due = False
        await self.command("ANSWER")

    @property
    def answer_due(self) -> bool:
        return self._answer_due

    def answer_later(self) -> None:
        """Answer just before the first command that plays or reads keys (none if
        Read() comes first: it answers itself), or at ``flush()``."""
        self._answer_due = True

    def set_later(self, name: Var | str, value: str | int) -> None:
        """Set a variable with the next command (batched with the others due)."""
        self._later[str(name)] = str(value)

    async def flush(self) -> None:
        """Send a deferred answer and the variables set for later, now."""
        if self._answer_due:
            await self.answer()
        if self._later:
            later, self._later = self._later, {}
            await self.set_variables(later.items())

    async def set_variables(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Set several variables: plain values in one MSet, others one by one."""
        mset, others = batch(pairs)
        if mset:
            await self.exec("MSet", mset)
        for name, value in others:
            await self.set_variable(name, value)

    async def hangup(self) -> None:
        with contextlib.suppress(AgiHangup):
            await self.command("HANGUP")

    async def set_variable(self, name: Var | str, value: str | int) -> None:
        await self.command(f"SET VARIABLE {name} {quote(str(value))}")

    async def get_variable(self, name: str) -> str | None:
        result = await self.command(f"GET VARIABLE {quote(name)}")
        return result.data if result.result == "1" else None

    async def get_full_variable(self, expression: str) -> str | None:
        result = await self.command(f"GET FULL VARIABLE {quote(expression)}")
        return result.data if result.result == "1" else None

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> tuple[str, bool]:
        """Play ``prompt`` and collect digits; returns (digits, timed_out)."""
        result = await self.command(f"GET DATA {quote(prompt)} {timeout_ms} {max_digits}")
        digits = result.result if result.result not in ("-1",) else ""
        return digits, result.timed_out

    async def stream_file(self, prompt: str, escape_digits: str = "") -> str:
        result = await self.command(f"STREAM FILE {quote(prompt)} {quote(escape_digits)}")
        return chr(int(result.result)) if result.result.isdigit() and result.result != "0" else ""

    async def wait_for_digit(self, timeout_ms: int) -> str:
        result = await self.command(f"WAIT FOR DIGIT {timeout_ms}")
        return chr(int(result.result)) if result.result.isdigit() and result.result != "0" else ""

    async def exec(self, app: str, args: str = "") -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", app):
            raise ValueError(f"not an application name: {app!r}")
        result = await self.command(f"EXEC {app} {quote(args)}")
        return result.result


def _silent(line: str) -> bool:
    if line.startswith("EXEC "):
        return line.split(" ", 2)[1] in _SILENT_APPS
    return line.startswith(_SILENT)
