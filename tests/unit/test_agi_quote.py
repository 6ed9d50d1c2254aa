"""quote(): one AGI argument that cannot end the command line or break out of its quotes;
and what an AgiSession refuses before anything is written."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.adapters.agi.session import AgiSession, quote


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("beep", '"beep"'),
        ("", '""'),
        ("with space", '"with space"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ('\\"', '"\\\\\\""'),
        ("line\nbreak", '"linebreak"'),
        ("cr\r\nlf", '"crlf"'),
        ("nul\x00tab\tesc\x1bdel\x7f", '"nultabescdel"'),
        ("José ☎", '"José ☎"'),
        ("${SHELL(id)}", '"${SHELL(id)}"'),  # inert in SET VARIABLE: not evaluated
    ],
)
def test_quote(value: str, quoted: str) -> None:
    assert quote(value) == quoted


def _unquote(text: str) -> tuple[str, int]:
    """Read one argument back the way Asterisk's AGI parser does (res_agi.c parse_args):
    the value and the index of the quote that closes it."""
    assert text[0] == '"'
    out: list[str] = []
    escaped = False
    for index, char in enumerate(text[1:], start=1):
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return "".join(out), index
        else:
            out.append(char)
    raise AssertionError(f"unterminated argument {text!r}")


def _without_controls(value: str) -> str:
    return "".join(c for c in value if not (ord(c) < 0x20 or ord(c) == 0x7F))


@settings(derandomize=True, max_examples=300)
@given(st.text())
def test_quoted_value_is_one_line_one_argument_and_reads_back(value: str) -> None:
    quoted = quote(value)
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in quoted)
    read_back, closing = _unquote(quoted)
    assert closing == len(quoted) - 1  # nothing after the argument's own closing quote
    assert read_back == _without_controls(value)


# -- what a session refuses before anything reaches the socket ---------------------------
class _NoIo:
    def write(self, data: bytes) -> None:
        raise AssertionError(f"nothing should be written, got {data!r}")

    async def readline(self) -> bytes:
        raise AssertionError("nothing should be read")


def _session(headers: dict[str, str] | None = None) -> AgiSession:
    return AgiSession(headers or {}, _NoIo(), _NoIo())  # type: ignore[arg-type]


@pytest.mark.parametrize("line", ["ANSWER\nHANGUP", "EXEC Dial x\r", "\n"])
async def test_a_command_is_one_line(line: str) -> None:
    with pytest.raises(ValueError, match="one line"):
        await _session().command(line)


@pytest.mark.parametrize("app", ["System", "Dial"])
async def test_exec_refuses_no_application_name_of_the_right_form(app: str) -> None:
    # The form is checked, not the name: guarding *which* apps run is the caller's job.
    session = _session()
    for bad in (f"{app} x", f"{app};", f"{app}\n", "", "1App", f"{app}(x)"):
        with pytest.raises(ValueError, match="not an application name"):
            await session.exec(bad)


def test_header_accessors() -> None:
    session = _session(
        {
            "agi_channel": "PJSIP/sipp-00000001",
            "agi_uniqueid": "1.1",
            "agi_callerid": "5551234",
            "agi_arg_1": "NOANSWER",
            "agi_arg_2": "",
            "agi_arg_4": "skipped: args stop at the first gap",
        }
    )
    assert (session.channel, session.unique_id, session.caller_id) == (
        "PJSIP/sipp-00000001",
        "1.1",
        "5551234",
    )
    assert session.args == ["NOANSWER", ""]
    assert session.header("missing") == ""
