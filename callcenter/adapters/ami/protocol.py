"""panoramisk's AMI protocol with a cheaper reading of events.

Every AMI event costs the controller a parse, and a busy call center receives
about fifteen per call. panoramisk builds each ``Message`` through a generic
mapping update (every header through ``__setitem__``, lower-cased once more on
every later read); ``fast_message`` builds the same ``Message`` (same headers,
same duplicates as lists, same ``content``) straight into its store.
Responses with a body (``Follows``, ``Fail``) keep panoramisk's own reading.
tests/unit/test_ami_protocol.py checks both readings agree, so an upgrade of
panoramisk that changes its ``Message`` is caught there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from panoramisk import utils
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

EOL = utils.EOL
_BODY = ("Response: Follows", "Response: Fail")
_QUOTED = frozenset(Message.quoted_keys)


def fast_message(line: str) -> Message | None:
    """``Message.from_line(line)``, built without the generic mapping machinery."""
    if line.startswith(_BODY):
        return Message.from_line(line)
    headers: dict[str, Any] = {}
    for mline in line.split(EOL):
        key, sep, value = mline.partition(": ")
        if not sep:
            continue
        if key.lower() in _QUOTED:
            value = unquote(value).strip()
        if key in headers:
            before = headers[key]
            headers[key] = [*before, value] if isinstance(before, list) else [before, value]
        else:
            headers[key] = value
    if "Event" not in headers and "Response" not in headers:
        return None
    message: Message = Message.__new__(Message)
    store = {key.lower(): (key, value) for key, value in headers.items()}
    store["content"] = ("content", "")
    message._store = store
    message.manager = None
    return message


class FastAmiProtocol(AMIProtocol):  # type: ignore[misc]
    """AMIProtocol whose incoming messages are read by ``fast_message``."""

    def data_received(self, data: bytes) -> None:
        text = data.decode(getattr(self, "encoding", "ascii"), "ignore")
        if getattr(self, "version", None) is None and text.startswith("Asterisk Call Manager/"):
            version, _, _ = text.partition(EOL)
            self.version = version.partition("/")[2].strip()
        if self.queue:
            text = self.queue.popleft() + text
        lines = text.split(EOL + EOL)
        self.queue.append(lines.pop(-1))
        for line in lines:
            message = fast_message(line.strip())
            if message is not None:
                self.handle_message(message)
