"""Importing a lead CSV into a campaign, in a background thread, with progress.

The upload is copied to a file of our own naming in the imports folder (the
sender's file name is only shown, never used as a path), then read row by
row (core/outbound/leads_csv.py). Good rows are inserted in batches; after
each batch the ``lead_imports`` row gets the counts, the bytes read (the
console's progress bar) and the bad rows so far (line and reason). A file
refused as a whole ends as ``refused`` with the reason; an import cut short
by a stop or a crash ends as ``interrupted`` (the rows counted so far are in).
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from callcenter.core.outbound.leads_csv import BadRow, CsvFileError, LeadIn, LeadReader
from callcenter.core.outbound.records import LeadImport
from callcenter.services.outbound.campaigns import CampaignError, Campaigns
from callcenter.services.repositories import CampaignRepository

log = logging.getLogger(__name__)

BATCH = 500
FLUSH_SECONDS = 0.5
MAX_ERRORS = 1000  # bad rows kept with line and reason; all are counted
MAX_UPLOAD = 100 * 1024 * 1024


def display_name(filename: str) -> str:
    """The sender's file name, for showing only: no folders, plain characters."""
    base = re.split(r"[\\/]", filename or "")[-1]
    return re.sub(r"[^A-Za-z0-9._ ()-]", "_", base)[:200] or "upload.csv"


@dataclass
class _Tally:
    rows: int = 0
    good: int = 0
    bad: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)

    def refuse(self, row: BadRow) -> None:
        self.bad += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(row.as_dict())

    def fields(self) -> dict[str, Any]:
        return {"rows": self.rows, "good": self.good, "bad": self.bad, "errors": self.errors}


class LeadImports:
    def __init__(
        self,
        repository: CampaignRepository,
        campaigns: Campaigns,
        folder: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.repository = repository
        self.campaigns = campaigns
        self.folder = folder
        self.clock = clock
        self._threads: dict[int, threading.Thread] = {}
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self, campaign_id: int, upload: IO[bytes], filename: str) -> int:
        """Store the upload and import it in the background; returns the import's id."""
        self.campaigns.get(campaign_id)
        with self._lock:
            if any(i.campaign_id == campaign_id for i in self.repository.running_imports()):
                raise CampaignError("busy", "an import into this campaign is still running")
            path, size = self._store(upload)
            import_id = self.repository.start_import(
                campaign_id, display_name(filename), size, self.clock()
            )
        thread = threading.Thread(
            target=self.run, args=(import_id, path), name=f"lead-import-{import_id}", daemon=True
        )
        self._threads[import_id] = thread
        thread.start()
        return import_id

    def recent(self, campaign_id: int) -> list[LeadImport]:
        """The campaign's latest imports, newest first."""
        return self.repository.imports(campaign_id)

    def status(self, import_id: int) -> LeadImport:
        found = self.repository.get_import(import_id)
        if found is None:
            raise CampaignError("not-found", f"no import {import_id}")
        return found

    def wait(self, import_id: int, timeout: float | None = None) -> None:
        thread = self._threads.get(import_id)
        if thread is not None:
            thread.join(timeout)

    def recover(self) -> None:
        """At start-up: imports a previous run left running were cut short."""
        for found in self.repository.running_imports():
            if found.id not in self._threads:
                self.repository.update_import(
                    found.id, status="interrupted", finished_at=self.clock()
                )

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        for thread in list(self._threads.values()):
            thread.join(timeout)

    def _store(self, upload: IO[bytes]) -> tuple[Path, int]:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"import-{uuid.uuid4().hex}.csv"
        try:
            with path.open("wb") as out:
                shutil.copyfileobj(upload, out, 1 << 16)
                size = out.tell()
        except BaseException:  # the sender went away, or sent too much: keep nothing
            path.unlink(missing_ok=True)
            raise
        if size > MAX_UPLOAD:
            path.unlink()
            raise CampaignError("invalid", f"the file is larger than {MAX_UPLOAD} bytes")
        return path, size

    # -- the import itself (its own thread) ----------------------------------------------------
    def run(self, import_id: int, path: Path) -> None:
        started = self.status(import_id)
        tally = _Tally()
        try:
            status = self._read(started, path, tally)
        except CsvFileError as exc:
            status = "refused"
            tally.errors.append({"line": _line_of(str(exc)), "reason": str(exc), "text": ""})
        except Exception as exc:
            log.exception("lead import %d failed", import_id)
            status = "interrupted"
            tally.errors.append({"line": 0, "reason": f"import stopped: {exc}", "text": ""})
        finally:
            path.unlink(missing_ok=True)
        self.repository.update_import(
            import_id, status=status, finished_at=self.clock(), **tally.fields()
        )

    def _read(self, started: LeadImport, path: Path, tally: _Tally) -> str:
        campaign = self.campaigns.get(started.campaign_id)
        region = self.campaigns.settings(campaign).default_region
        with path.open("rb") as stream:
            reader = LeadReader(
                stream,
                default_region=region,
                existing=self.repository.lead_numbers(campaign.id),
            )
            self.repository.update_import(
                started.id, encoding=reader.encoding.name, warning=reader.encoding.warning
            )
            batch: list[LeadIn] = []
            flushed = time.monotonic()
            for item in reader.rows():
                tally.rows += 1
                if isinstance(item, BadRow):
                    tally.refuse(item)
                elif why := self.campaigns.refusal(campaign, item, "lead-import"):
                    tally.refuse(BadRow(item.line, why, ""))
                else:
                    batch.append(item)
                if len(batch) >= BATCH or time.monotonic() - flushed > FLUSH_SECONDS:
                    self._flush(started, batch, tally, reader.position())
                    batch, flushed = [], time.monotonic()
                    if self._stopping.is_set():
                        return "interrupted"
            self._flush(started, batch, tally, reader.position())
        return "done"

    def _flush(self, started: LeadImport, batch: list[LeadIn], tally: _Tally, read: int) -> None:
        late = self.repository.add_leads(started.campaign_id, batch, self.clock())
        for lead in late:
            tally.refuse(BadRow(lead.line, f"duplicate: {lead.phone} was added meanwhile", ""))
        tally.good += len(batch) - len(late)
        self.repository.update_import(started.id, read_bytes=read, **tally.fields())


def _line_of(message: str) -> int:
    found = re.match(r"line (\d+):", message)
    return int(found.group(1)) if found else 0
