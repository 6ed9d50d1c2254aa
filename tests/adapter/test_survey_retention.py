"""A caller's survey comment (a WAV beside the call's recording, named in survey_results
only) is kept as long as recordings: the retention run deletes it as a file no recording
row names, and audits it."""

from __future__ import annotations

import os

from callcenter.adapters.db.models import AuditRow
from callcenter.simulate.console import Console


def test_an_old_survey_comment_goes_with_the_recordings_retention(console: Console) -> None:
    controller = console.controller
    root = controller.recordings.host_root
    old = root / "2020" / "01" / "02" / "c20200102x-comment.wav"
    new = root / "2099" / "01" / "02" / "c20990102x-comment.wav"
    for path in (old, new):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF")
    os.utime(old, (1_578_000_000, 1_578_000_000))  # January 2020: long past any retention
    report = controller.retention.run("retention-test")
    assert not old.exists() and new.exists()
    assert "2020/01/02/c20200102x-comment.wav" in report.strays_deleted
    with controller.storage.sessions() as session:
        actions = {
            a.target
            for a in session.query(AuditRow).filter(AuditRow.action == "recording.stray-deleted")
        }
    assert "file:2020/01/02/c20200102x-comment.wav" in actions
