"""The controller's reading of AMI messages (adapters/ami/protocol.py) against panoramisk's."""

from __future__ import annotations

import pytest
from panoramisk.message import Message

from callcenter.adapters.ami.protocol import FastAmiProtocol, fast_message

EOL = "\r\n"
LINES = [
    EOL.join(
        [
            "Event: Newchannel",
            "Privilege: call,all",
            "Channel: PJSIP/bench-00000003",
            "ChannelState: 4",
            "CallerIDNum: +15550000001",
            "CallerIDName: Bench Caller",
            "Uniqueid: 1796672007.12",
            "Linkedid: 1796672007.12",
            "Cause-txt: Normal Clearing",
        ]
    ),
    EOL.join(["Event: VarSet", "ChanVariable: A=1", "ChanVariable: B=2", "chanvariable: c=3"]),
    EOL.join(["Response: Success", "ActionID: action/1", "Message: Pong"]),
    EOL.join(["Response: Success", "ActionID: x", "Result: 200%20result%3D1 "]),
    EOL.join(["Response: Follows", "ActionID: cmd/1", "Privilege: Command", "line 1", "line 2"]),
    EOL.join(["Response: Fail", "ActionID: cmd/2", "Message: no"]),
    "Asterisk Call Manager/9.0.0",
    "no header at all",
    "",
]


def _same(ours: Message | None, theirs: Message | None) -> None:
    if theirs is None:
        assert ours is None
        return
    assert ours is not None
    assert ours._store == theirs._store
    assert dict(ours.items()) == dict(theirs.items())
    assert (ours.id, ours.action_id, ours.manager) == (theirs.id, theirs.action_id, None)


@pytest.mark.parametrize("line", LINES)
def test_messages_read_as_panoramisk_reads_them(line: str) -> None:
    _same(fast_message(line), Message.from_line(line))


class _Factory:
    def __init__(self) -> None:
        self.seen: list[Message] = []

    def dispatch(self, message: Message) -> None:
        self.seen.append(message)


def test_events_split_across_reads_are_put_together() -> None:
    protocol = FastAmiProtocol()
    protocol.connection_made(None)
    factory = _Factory()
    protocol.factory = factory
    duplicates = EOL.join(["Event: VarSet", "ChanVariable: A=1", "ChanVariable: B=2"])
    stream = ("Asterisk Call Manager/9.0.0" + EOL + LINES[0] + EOL + EOL).encode()
    stream += (duplicates + EOL + EOL).encode()
    for cut in (10, 200, len(stream)):
        protocol.queue.clear()
        factory.seen.clear()
        protocol.data_received(stream[:cut])
        protocol.data_received(stream[cut:])
        assert [m["event"] for m in factory.seen] == ["Newchannel", "VarSet"]
        assert factory.seen[1]["chanvariable"] == ["A=1", "B=2"]
    assert protocol.version == "9.0.0"
