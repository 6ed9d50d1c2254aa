"""A recording is served by its id only, and only from the recordings folder.

Whatever a recording row's path says (../, an absolute path, a symlink out, a
NUL byte) and whatever the URL carries (encoded traversal), no other file is
ever read; refused attempts are not written to the audit log as playbacks.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from callcenter.adapters.db.models import RecordingRow
from callcenter.simulate.console import Console

SECRET = b"RIFF-not-a-recording-SECRET"
GOOD = b"RIFF-a-real-recording"


def _add(console: Console, path: str, call_id: str) -> int:
    with console.controller.storage.sessions.begin() as session:
        row = RecordingRow(call_id=call_id, path=path, started_at=1.0e9, ended_at=1.0e9 + 5)
        session.add(row)
        session.flush()
        return row.id


@pytest.fixture(scope="module")
def folder(console: Console) -> Path:
    """The recordings folder, one good file in it, and bait outside it."""
    root = console.controller.recordings.host_root
    (root / "2026/11/24").mkdir(parents=True, exist_ok=True)
    (root / "2026/11/24/good.wav").write_bytes(GOOD)
    outside = root.parent
    (outside / "secret.wav").write_bytes(SECRET)
    (outside / "away").mkdir(exist_ok=True)
    (outside / "away/secret.wav").write_bytes(SECRET)
    (root / "link.wav").symlink_to(outside / "secret.wav")
    (root / "dirlink").symlink_to(outside / "away")
    (root / "folder.wav").mkdir(exist_ok=True)
    return root


@pytest.fixture(scope="module")
def admin(console: Console) -> FlaskClient:
    token = console.controller.users.create_token("recordings-test", "admin")
    client = console.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def _played(console: Console) -> list[str]:
    return [
        e.target
        for e in console.controller.users.audit_entries(1000)
        if e.action.startswith("recording.")
    ]


def test_a_recording_in_the_folder_plays_and_downloads(
    console: Console, folder: Path, admin: FlaskClient
) -> None:
    good = _add(console, "2026/11/24/good.wav", "good")
    played = admin.get(f"/api/recordings/{good}/audio")
    assert played.status_code == 200 and played.data == GOOD
    saved = admin.get(f"/api/recordings/{good}/download")
    assert saved.status_code == 200 and saved.data == GOOD
    assert "attachment" in saved.headers["Content-Disposition"]
    assert _played(console).count(f"recording:{good}") == 2


BAD_PATHS = [
    "../secret.wav",
    "2026/../../secret.wav",
    "2026/11/24/../../../../secret.wav",
    "link.wav",  # a symlink in the folder pointing out of it
    "dirlink/secret.wav",  # through a symlinked directory
    "%2e%2e/secret.wav",
    "..%2fsecret.wav",
    "....//secret.wav",
    "..\\secret.wav",
    "good.wav\x00/../../secret.wav",
    "folder.wav",  # a directory
    "",
    ".",
    "/",
    "~/secret.wav",
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_a_path_in_the_database_never_reads_another_file(
    console: Console, folder: Path, admin: FlaskClient, path: str
) -> None:
    recording = _add(console, path, "bad")
    before = _played(console)
    for kind in ("audio", "download"):
        answer = admin.get(f"/api/recordings/{recording}/{kind}")
        assert answer.status_code == 404, (path, kind, answer.status_code)
        assert SECRET not in answer.data
        assert answer.is_json and answer.get_json()["message"]
    assert _played(console) == before


def test_an_absolute_path_in_the_database_is_refused(
    console: Console, folder: Path, admin: FlaskClient
) -> None:
    for path in (str(folder.parent / "secret.wav"), str(folder / "2026/11/24/good.wav")):
        recording = _add(console, path, "absolute")
        answer = admin.get(f"/api/recordings/{recording}/download")
        assert answer.status_code == 404, path  # stored paths are relative, always
        assert SECRET not in answer.data and GOOD not in answer.data


URLS = [
    "/api/recordings/..%2f..%2fsecret.wav/audio",
    "/api/recordings/%2e%2e/audio",
    "/api/recordings/%2e%2e%2fsecret.wav/download",
    "/api/recordings/-1/audio",
    "/api/recordings/1.0/download",
    "/api/recordings/0x1/audio",
    "/api/recordings/../../secret.wav",
    "/api/recordings/1/../../../secret.wav",
    "/api/recordings//etc/passwd",
    "/static/../auth.py",
    "/static/..%2fauth.py",
    "/static/%2e%2e/auth.py",
    "/static/%2e%2e%2fauth.py",
    "/static//etc/passwd",
    "/static/..%5cauth.py",
]


@pytest.mark.parametrize("url", URLS)
def test_an_url_never_reads_another_file(folder: Path, admin: FlaskClient, url: str) -> None:
    answer = admin.get(url)
    assert answer.status_code in (404, 400, 308), (url, answer.status_code)
    assert SECRET not in answer.data
    assert b"def requires" not in answer.data and b"root:" not in answer.data
    if answer.status_code == 308:  # werkzeug merging slashes: follow once, same rules
        again = admin.get(answer.headers["Location"])
        assert again.status_code == 404 and b"root:" not in again.data


def test_bait_is_really_there(folder: Path) -> None:
    # The refusals above mean something only if the files they aimed at exist.
    assert (folder.parent / "secret.wav").read_bytes() == SECRET
    assert os.path.realpath(folder / "link.wav") == str(folder.parent / "secret.wav")
