"""Recordings are kept for a retention period (site setting "recordings"), then deleted.

A run deletes, for every recording that started before the cutoff, its file
and then its row (a file that cannot be deleted keeps its row, so the next
run tries again; a row whose file is already gone is simply removed). It
then deletes stray recording files (no row points to them, e.g. a call
recorded while the controller was down) last modified before the cutoff.
Every deletion is written to the audit log.

Runs are blocking (database and files): the scheduler runs them in a worker
thread, the console in its request thread; one run at a time.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callcenter.core.recordings import Recording
from callcenter.services.inbound.recording import RecordingError
from callcenter.services.repositories import Auditor, RecordingArchive, SiteSettings

log = logging.getLogger(__name__)

SETTING_KEY = "recordings"
DAY = 86400.0
BATCH = 500


class RetentionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retention_days: int = Field(90, ge=1, le=36500)


class RetentionError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Files(Protocol):
    """Where recordings live (``Recordings`` from services/inbound/recording.py)."""

    host_root: Path

    def host_path(self, relative: str) -> Path: ...


class VoicemailExpiry(Protocol):
    """Voicemail messages left before a time: files and rows deleted (voicemail_spool.py)."""

    def expire(self, cutoff: float) -> tuple[list[tuple[int, str, float]], list[str]]: ...


@dataclass(slots=True)
class RetentionReport:
    started_at: float
    retention_days: int
    cutoff: float
    actor: str
    removed: list[int] = field(default_factory=list)  # recording ids whose rows are gone
    files_deleted: int = 0
    strays_deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    voicemails_removed: list[int] = field(default_factory=list)


def parse_settings(value: dict[str, Any] | None) -> RetentionSettings:
    try:
        return RetentionSettings.model_validate(value or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise RetentionError("bad-settings", f"recordings settings refused: {problems}") from None


def cutoff_of(now: float, days: int) -> float:
    return now - days * DAY


class Retention:
    def __init__(
        self,
        archive: RecordingArchive,
        files: Files,
        settings: SiteSettings,
        auditor: Auditor,
        clock: Callable[[], float],
        voicemail: VoicemailExpiry | None = None,
    ) -> None:
        self.archive = archive
        self.voicemail = voicemail
        self.files = files
        self.store = settings
        self.auditor = auditor
        self.clock = clock
        self.last: RetentionReport | None = None
        self._running = threading.Lock()

    # -- the setting -------------------------------------------------------------------------
    def settings(self) -> RetentionSettings:
        return parse_settings(self.store.get(SETTING_KEY))

    def configure(self, value: dict[str, Any], actor: str) -> RetentionSettings:
        """Validate, then save; nothing is saved if anything is wrong."""
        settings = parse_settings(value)
        self.store.set(SETTING_KEY, settings.model_dump())
        self.auditor.audit(actor, "settings.changed", SETTING_KEY, **settings.model_dump())
        return settings

    # -- a run -------------------------------------------------------------------------------
    def run(self, actor: str) -> RetentionReport:
        if not self._running.acquire(blocking=False):
            raise RetentionError("running", "a retention run is already in progress")
        try:
            # Stored settings are validated again: a bad value stops the run, never widens it.
            days = self.settings().retention_days
            now = self.clock()
            report = RetentionReport(now, days, cutoff_of(now, days), actor)
            self._expire_rows(report)
            self._expire_strays(report)
            self._prune_folders(report.cutoff)
            self._expire_voicemail(report)
            self.last = report
            log.info(
                "retention (%d days): %d recordings and %d stray files deleted, %d errors",
                days,
                len(report.removed),
                len(report.strays_deleted),
                len(report.errors),
            )
            return report
        finally:
            self._running.release()

    def _expire_rows(self, report: RetentionReport) -> None:
        skipped: set[int] = set()
        while True:
            batch = [
                r
                for r in self.archive.started_before(report.cutoff, BATCH + len(skipped))
                if r.id not in skipped
            ]
            if not batch:
                return
            gone = []
            for recording in batch:
                if self._delete_file(recording, report):
                    gone.append(recording)
                else:
                    skipped.add(recording.id)
            self.archive.delete(r.id for r in gone)
            for recording in gone:
                report.removed.append(recording.id)
                self.auditor.audit(
                    report.actor,
                    "recording.deleted",
                    f"recording:{recording.id}",
                    call_id=recording.call_id,
                    started_at=recording.started_at,
                    retention_days=report.retention_days,
                )

    def _expire_voicemail(self, report: RetentionReport) -> None:
        """Voicemail messages are kept as long as recordings."""
        if self.voicemail is None:
            return
        removed, errors = self.voicemail.expire(report.cutoff)
        report.errors.extend(errors)
        for voicemail_id, call_id, left_at in removed:
            report.voicemails_removed.append(voicemail_id)
            self.auditor.audit(
                report.actor,
                "voicemail.deleted",
                f"voicemail:{voicemail_id}",
                call_id=call_id,
                left_at=left_at,
                retention_days=report.retention_days,
            )

    def _delete_file(self, recording: Recording, report: RetentionReport) -> bool:
        """Delete a recording's file; True when it is gone (or never could be opened)."""
        try:
            path = self.files.host_path(recording.path)
        except RecordingError:
            # A path outside the folder is never touched; the row itself still goes.
            report.errors.append(f"recording {recording.id}: path outside the folder kept")
            return True
        try:
            path.unlink()
            report.files_deleted += 1
        except FileNotFoundError:
            pass
        except OSError as exc:
            report.errors.append(f"recording {recording.id}: {exc.strerror}")
            return False
        return True

    def _expire_strays(self, report: RetentionReport) -> None:
        old = {
            path.relative_to(root).as_posix(): path
            for root, path in self._wav_files()
            if self._mtime(path) < report.cutoff
        }
        kept = self.archive.referenced(old)
        for relative, path in sorted(old.items()):
            if relative in kept:
                continue
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                report.errors.append(f"{relative}: {exc.strerror}")
                continue
            report.strays_deleted.append(relative)
            self.auditor.audit(
                report.actor, "recording.stray-deleted", f"file:{relative}"[:64], path=relative
            )

    def _wav_files(self) -> Iterator[tuple[Path, Path]]:
        root = self.files.host_root.resolve()
        if not root.is_dir():
            return
        for path in root.rglob("*.wav"):
            if path.is_file() and not path.is_symlink():
                yield root, path

    @staticmethod
    def _mtime(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return float("inf")

    def _prune_folders(self, cutoff: float) -> None:
        """Remove day folders (YYYY/MM/DD, UTC) older than the cutoff once they are empty.

        Newer folders are left alone: Asterisk may be about to write into them.
        """
        root = self.files.host_root.resolve()
        if not root.is_dir():
            return
        limit = time.gmtime(cutoff)
        before = (limit.tm_year, limit.tm_mon, limit.tm_mday)
        for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
            parts = folder.relative_to(root).parts
            if not all(part.isdigit() for part in parts) or len(parts) > 3:
                continue
            if tuple(int(part) for part in parts) >= before[: len(parts)]:
                continue
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds when empty
