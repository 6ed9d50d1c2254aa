"""Asterisk's channel event log read back (adapters/pbx/channel_log.py): one node's
file, and several nodes' files read as one ([[pbx.nodes]], recovery)."""

from __future__ import annotations

import json
from pathlib import Path

from callcenter.adapters.pbx.channel_log import FILE, ChannelLogFile, ChannelLogs


def logged(log_dir: Path, *events: tuple[str, float, str]) -> ChannelLogFile:
    path = log_dir / FILE
    path.parent.mkdir(parents=True)
    lines = [
        json.dumps({"eventtype": kind, "eventtime": str(at), "uniqueid": uid, "linkedid": uid})
        for kind, at, uid in events
    ]
    path.write_text("\n".join([*lines, "cut sho"]) + "\n")
    return ChannelLogFile(log_dir)


def test_every_node_s_log_is_read_as_one_oldest_first(tmp_path: Path) -> None:
    alpha = logged(
        tmp_path / "alpha", ("CHAN_START", 100.0, "alpha-1.1"), ("HANGUP", 130.0, "alpha-1.1")
    )
    beta = logged(
        tmp_path / "beta", ("CHAN_START", 90.0, "beta-1.1"), ("HANGUP", 120.0, "beta-1.1")
    )
    gone = ChannelLogFile(tmp_path / "gamma")  # a node with no log yet (or its mount away)
    events = ChannelLogs([alpha, beta, gone]).since(95.0)
    assert [(e.kind, e.at, e.unique_id) for e in events] == [
        ("CHAN_START", 100.0, "alpha-1.1"),
        ("HANGUP", 120.0, "beta-1.1"),
        ("HANGUP", 130.0, "alpha-1.1"),
    ]
