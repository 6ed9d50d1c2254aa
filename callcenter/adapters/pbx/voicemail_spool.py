"""The voicemail inbox: messages Asterisk left in the spool, found and stored within seconds.

The spool is scanned on a timer rather than following AMI's MessageWaiting
events: a scan also finds the messages left while the controller or the AMI link
was down, and needs nothing else from Asterisk. Every ``msgNNNN.txt`` not yet
stored (by Asterisk's ``msg_id``) becomes a row (core/voicemail.py parses it).
The scan is file and database I/O: it runs on a worker thread.

Several Asterisk nodes ([[pbx.nodes]]): each node's spool is scanned too (its state
directory as the controller sees it); a message on a node is stored with the path
``@<node>/<box>/INBOX/msgNNNN`` and its ``msg_id`` as ``<node>:<Asterisk's id>`` (each
Asterisk counts its own ids).
"""

from __future__ import annotations

import asyncio
import logging
import wave
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from callcenter.core.voicemail import LeftMessage, VoicemailError, parse_message
from callcenter.services.repositories import Voicemails

log = logging.getLogger(__name__)

SCAN_EVERY = 2.0  # seconds
EXPIRE_BATCH = 500


def _audio_seconds(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as audio:
            return round(audio.getnframes() / (audio.getframerate() or 1), 2)
    except (OSError, EOFError, wave.Error):
        return 0.0


class VoicemailInbox:
    def __init__(
        self,
        repository: Voicemails,
        spool: Path,  # the host's spool/voicemail/callcenter
        box_queues: Callable[[], dict[str, str]],
        region: Callable[[], str],
        nodes: dict[str, Path] | None = None,  # each node's spool ([[pbx.nodes]])
    ) -> None:
        self.repository = repository
        self.spool = spool
        self.nodes = dict(nodes or {})
        self._box_queues = box_queues
        self._region = region

    def scan(self) -> int:
        """Store the messages not yet known; how many were new."""
        found: dict[str, tuple[LeftMessage, Path, str]] = {}
        for node, spool in [("", self.spool), *self.nodes.items()]:
            if not spool.is_dir():
                continue  # no message yet, or a node's mount away
            for txt in sorted(spool.glob("*/INBOX/msg*.txt")):
                box = txt.parent.parent.name
                try:
                    message = parse_message(txt.read_text(errors="replace"), box, self._region())
                except OSError:
                    continue  # removed while we looked
                if message is None or not txt.with_suffix(".wav").is_file():
                    continue  # still being written
                relative = str(txt.with_suffix("").relative_to(spool))
                if node:
                    message = replace(message, msg_id=f"{node}:{message.msg_id}"[:64])
                    relative = f"@{node}/{relative}"
                found[message.msg_id] = (message, txt, relative)
        known = self.repository.known(found)
        queues = self._box_queues()
        added = 0
        for msg_id, (message, txt, path) in found.items():
            if msg_id in known:
                continue
            if not message.duration:  # Asterisk leaves 0 when it heard only silence
                message = replace(message, duration=_audio_seconds(txt.with_suffix(".wav")))
            self.repository.add(message, queues.get(message.box, ""), path)
            added += 1
        return added

    def audio(self, relative: str) -> Path:
        """The message's audio file, refusing any path out of the spool (its node's)."""
        root = self.spool.resolve()
        if relative.startswith("@"):
            node, _, relative = relative[1:].partition("/")
            if node not in self.nodes:
                raise VoicemailError("not-found", f"no node {node} holds the message")
            root = self.nodes[node].resolve()
        path = (root / f"{relative}.wav").resolve()
        if not path.is_relative_to(root):
            raise VoicemailError("not-found", "the message's file is outside the spool")
        return path

    def expire(self, cutoff: float) -> tuple[list[tuple[int, str, float]], list[str]]:
        """Delete the messages left before ``cutoff``: files, then rows (retention).

        A file that cannot be deleted keeps its row, so the next run tries again.
        Returns (id, call id, left at) of each message gone, and the errors.
        """
        removed: list[tuple[int, str, float]] = []
        errors: list[str] = []
        skipped: set[int] = set()
        while True:
            batch = [
                m
                for m in self.repository.left_before(cutoff, EXPIRE_BATCH + len(skipped))
                if m.id not in skipped
            ]
            if not batch:
                return removed, errors
            gone = []
            for message in batch:
                try:
                    audio = self.audio(message.path)
                    for path in (audio, audio.with_suffix(".txt")):
                        path.unlink(missing_ok=True)
                    gone.append(message)
                except VoicemailError:
                    errors.append(f"voicemail {message.id}: path outside the spool kept")
                    gone.append(message)
                except OSError as exc:
                    errors.append(f"voicemail {message.id}: {exc.strerror}")
                    skipped.add(message.id)
            self.repository.delete(m.id for m in gone)
            removed += [(m.id, m.call_id, m.left_at) for m in gone]

    async def run(self) -> None:
        """Scan every SCAN_EVERY seconds until cancelled."""
        while True:
            try:
                added = await asyncio.to_thread(self.scan)
                if added:
                    log.info("voicemail: %d new message(s)", added)
            except Exception:  # the database away, a bad file: try again next time
                log.exception("voicemail scan failed")
            await asyncio.sleep(SCAN_EVERY)
