"""Asterisk's channel event log (CEL), read back: one JSON object per line in
<log dir>/cel-custom/events.json (asterisk/cel.conf, asterisk/cel_custom.conf).

Lines are read from the newest file backwards in time only as far as asked;
a line that is not a CEL record (cut short by a crash, edited by hand) is
skipped with a count, never fatal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from callcenter.core.calls.outage import CelEvent

log = logging.getLogger(__name__)

FILE = Path("cel-custom") / "events.json"


class ChannelLogFile:
    def __init__(self, log_dir: Path) -> None:
        self.path = log_dir / FILE

    def since(self, at: float) -> list[CelEvent]:
        """Every event logged at or after ``at`` (epoch seconds), oldest first."""
        # Rotated files (events.json.1, ...) hold older lines; newest first until past
        # ``at``. Just after a rotation only they exist, until Asterisk logs again.
        files = sorted(self.path.parent.glob(FILE.name + "*"), key=_age)
        if not files:  # no call since Asterisk was set up, or logging is off
            log.info("no channel event log at %s yet", self.path)
            return []
        found: list[CelEvent] = []
        bad = 0
        for path in files:
            lines = path.read_text(errors="replace").splitlines()
            older = False
            for line in lines:
                event = _parse(line)
                if event is None:
                    bad += line.strip() != ""
                elif event.at >= at:
                    found.append(event)
                else:
                    older = True
            if older:
                break
        if bad:
            log.warning("%d lines of %s are not channel events (skipped)", bad, self.path)
        found.sort(key=lambda e: e.at)
        return found


class ChannelLogs:
    """Several Asterisk nodes' logs ([[pbx.nodes]]: each node's state directory as the
    controller sees it), read as one: every node's unique ids start with its name, so
    the events of different nodes never mix up one call's."""

    def __init__(self, logs: Sequence[ChannelLogFile]) -> None:
        self.logs = list(logs)

    def since(self, at: float) -> list[CelEvent]:
        found = [event for one in self.logs for event in one.since(at)]
        found.sort(key=lambda e: e.at)
        return found


def _age(path: Path) -> int:
    suffix = path.name.removeprefix(FILE.name).lstrip(".")
    return int(suffix) if suffix.isdigit() else 0


def _parse(line: str) -> CelEvent | None:
    try:
        raw: dict[str, Any] = json.loads(line)
        extra_text = raw.get("eventextra") or ""
        extra = json.loads(extra_text) if extra_text else {}
        return CelEvent(
            kind=str(raw["eventtype"]),
            at=float(raw["eventtime"]),
            unique_id=str(raw["uniqueid"]),
            linked_id=str(raw["linkedid"]),
            channel=str(raw.get("channame", "")),
            context=str(raw.get("context", "")),
            exten=str(raw.get("exten", "")),
            app=str(raw.get("appname", "")),
            caller=str(raw.get("num", "")),
            caller_name=str(raw.get("name", "")),
            peer=str(raw.get("peer", "")),
            extra=extra if isinstance(extra, dict) else {},
        )
    except (ValueError, KeyError, TypeError):
        return None
