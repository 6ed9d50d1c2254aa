"""The voicemail inbox: messages Asterisk left in the spool, found and stored within seconds.

The spool is scanned on a timer rather than following AMI's MessageWaiting
events: a scan also finds the messages left while the controller or the AMI link
was down, and needs nothing else from Asterisk. Every ``msgNNNN.txt`` not yet
stored (by Asterisk's ``msg_id``) becomes a row (core/voicemail.py parses it).
The scan is file and database I/O: it runs on a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import wave
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from callcenter.core.voicemail import VoicemailError, parse_message
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
    ) -> None:
        self.repository = repository
        self.spool = spool
        self._box_queues = box_queues
        self._region = region

    def scan(self) -> int:
        """Store the messages not yet known; how many were new."""
        if not self.spool.is_dir():
            return 0
        found = {}
        for txt in sorted(self.spool.glob("*/INBOX/msg*.txt")):
            box = txt.parent.parent.name
            try:
                message = parse_message(txt.read_text(errors="replace"), box, self._region())
            except OSError:
                continue  # removed while we looked
            if message is None or not txt.with_suffix(".wav").is_file():
                continue  # still being written
            found[message.msg_id] = (message, txt)
        known = self.repository.known(found)
        queues = self._box_queues()
        added = 0
        for msg_id, (message, txt) in found.items():
            if msg_id in known:
                continue
            path = str(txt.with_suffix("").relative_to(self.spool))
            if not message.duration:  # Asterisk leaves 0 when it heard only silence
                message = replace(message, duration=_audio_seconds(txt.with_suffix(".wav")))
            self.repository.add(message, queues.get(message.box, ""), path)
            added += 1
        return added

    def audio(self, relative: str) -> Path:
        """The message's audio file, refusing any path out of the spool."""
        root = self.spool.resolve()
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
