"""`callcenter backup` then `restore` into an empty install gives the same data:
every table's rows, the secrets, the state files, the site's files. SQLite and a
real PostgreSQL (the suite's throwaway cluster)."""

from __future__ import annotations

import io
import os
import sqlite3
import stat
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from callcenter.adapters.db.agents import AgentRepository
from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.migrate import current, upgrade
from callcenter.adapters.db.models import Base
from callcenter.adapters.db.site_config import apply_site
from callcenter.adapters.db.users import UserRepository
from callcenter.adapters.ops.backup import BackupError, Install, backup, read_manifest, restore
from callcenter.adapters.pbx.secrets import ensure_secret
from callcenter.cli import main
from callcenter.services.site import parse_site

SITE = {
    "agents": [{"username": "alice", "name": "Alice", "extension": "1001", "skills": {"en": 3}}],
    "queues": [{"name": "support", "requirements": {"en": 1}}],
}


def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, in primary key order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    tuple(row)
                    for row in connection.execute(
                        select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def populate(install: Install) -> None:
    engine = make_engine(install.database_url)
    sessions = make_sessions(engine)
    try:
        AgentRepository(sessions).add("bob", "Bob", "1002", "s3cret-sip")
        apply_site(parse_site(SITE, Path("."), "test site"), sessions)
        UserRepository(sessions).add("admin", "a long enough password 1", "admin", "")
    finally:
        engine.dispose()
    state = install.state_dir
    ensure_secret(state, "ami")
    ensure_secret(state, "web")
    (state / "records-journal.jsonl").write_text('{"kind": "entered"}\n')
    voicemail = state / "pbx/spool/voicemail/callcenter/support/INBOX"
    voicemail.mkdir(parents=True)
    (voicemail / "msg0000.wav").write_bytes(b"RIFF voicemail")
    recordings = state / "pbx/spool/recordings/2026/12"
    recordings.mkdir(parents=True)
    (recordings / "call-1.wav").write_bytes(b"RIFF recording")
    (state / "pbx/etc").mkdir(parents=True)
    (state / "pbx/etc/asterisk.conf").write_text("rendered, rebuilt on start")
    (install.site_dir / "prompts").mkdir(parents=True)
    (install.site_dir / "site.toml").write_text("# the site\n")
    (install.site_dir / "prompts/welcome.wav").write_bytes(b"RIFF prompt")


def fresh_install(tmp_path: Path, database_url: str, name: str) -> Install:
    return Install(
        database_url=database_url,
        state_dir=tmp_path / name / "state",
        site_dir=tmp_path / name / "site",
        config_file=None,
    )


def target_url(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> str:
    """An empty database of the same kind to restore into."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored' / 'state' / 'callcenter.db'}"
    cluster, _ = request.getfixturevalue("postgres")
    cluster.reset(database_url)  # the same database, emptied: nothing left of the source
    return database_url


def test_backup_then_restore_into_an_empty_install_gives_the_same_data(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> None:
    source = Install(database_url, tmp_path / "state", tmp_path / "site", None)
    if database_url.startswith("sqlite"):
        source = Install(f"sqlite:///{tmp_path / 'state' / 'callcenter.db'}",
                         tmp_path / "state", tmp_path / "site", None)  # fmt: skip
        os.replace(database_url.removeprefix("sqlite:///"), tmp_path / "state.db")
        source.state_dir.mkdir()
        os.replace(tmp_path / "state.db", source.state_dir / "callcenter.db")
    source.site_dir.mkdir()
    populate(source)
    before = rows(source.database_url)
    revision = current(source.database_url)
    assert before["agents"] and before["users"] and before["queues"]
    archive = tmp_path / "backup.tar.gz"

    manifest = backup(source, archive, with_recordings=True)

    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds secrets
    assert manifest.database["kind"] == database_url.split(":")[0].split("+")[0]
    assert "state/secrets/ami.secret" in manifest.members
    assert "state/pbx/spool/recordings/2026/12/call-1.wav" in manifest.members
    assert not any(name.startswith("state/pbx/etc") for name in manifest.members)
    target = fresh_install(tmp_path, target_url(request, database_url, tmp_path), "restored")

    restored, report = restore(target, archive, force=False)

    assert rows(target.database_url) == before
    assert current(target.database_url) == revision
    for name in ("secrets/ami.secret", "secrets/web.secret", "records-journal.jsonl",
                 "pbx/spool/voicemail/callcenter/support/INBOX/msg0000.wav",
                 "pbx/spool/recordings/2026/12/call-1.wav"):  # fmt: skip
        assert (target.state_dir / name).read_bytes() == (source.state_dir / name).read_bytes()
    assert stat.S_IMODE((target.state_dir / "secrets/ami.secret").stat().st_mode) == 0o600
    assert stat.S_IMODE((target.state_dir / "secrets").stat().st_mode) == 0o700
    assert (target.site_dir / "prompts/welcome.wav").read_bytes() == b"RIFF prompt"
    assert not (target.state_dir / "pbx/etc").exists()
    assert report.kept == [] and restored.created_at == manifest.created_at

    # Once restored, the state is not empty: a second restore refuses, --force replaces.
    with pytest.raises(BackupError, match="not empty"):
        restore(target, archive, force=False)
    (target.site_dir / "site.toml").write_text("# changed since\n")
    _, again = restore(target, archive, force=True)
    assert rows(target.database_url) == before
    assert (target.site_dir / "site.toml").read_text() == "# the site\n"
    assert again.written == report.written


def test_recordings_only_when_asked(tmp_path: Path) -> None:
    install = fresh_install(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", "src")
    install.site_dir.mkdir(parents=True)
    upgrade(install.database_url)
    install.state_dir.mkdir(parents=True)
    populate(install)
    manifest = backup(install, tmp_path / "b.tar", with_recordings=False)
    assert not any("recordings" in name for name in manifest.members)
    assert read_manifest(tmp_path / "b.tar").members == manifest.members


def test_a_damaged_or_foreign_archive_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    install = fresh_install(tmp_path, f"sqlite:///{tmp_path / 'src.db'}", "src")
    upgrade(install.database_url)
    install.state_dir.mkdir(parents=True)
    install.site_dir.mkdir(parents=True)
    populate(install)
    archive = tmp_path / "b.tar"
    backup(install, archive, with_recordings=False)
    # One member's bytes changed: its checksum no longer matches.
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as out:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "state/secrets/ami.secret":
                data = b"x" * len(data)
            out.addfile(member, io.BytesIO(data))
    target = fresh_install(tmp_path, f"sqlite:///{tmp_path / 'dst' / 'c.db'}", "dst")
    with pytest.raises(BackupError, match="checksum"):
        restore(target, damaged, force=False)
    assert not target.state_dir.exists() and not Path(tmp_path / "dst").exists()
    # A member escaping the install is refused even with a matching checksum.
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as out:
        body = b'{"format": 1, "created_at": "", "database": {"kind": "sqlite", "member": "database/x"}, "members": {"state/../../etc/passwd": ""}}'  # noqa: E501
        info = tarfile.TarInfo("manifest.json")
        info.size = len(body)
        out.addfile(info, io.BytesIO(body))
    with pytest.raises(BackupError, match="refusing"):
        restore(target, evil, force=False)
    # A SQLite backup cannot go into a PostgreSQL install (nor the other way).
    elsewhere = fresh_install(tmp_path, "postgresql+psycopg2://nobody@127.0.0.1:1/x", "pg")
    with pytest.raises(BackupError, match="sqlite database; this install uses postgresql"):
        restore(elsewhere, archive, force=False)


def test_cli_round_trip_on_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("CALLCENTER_")]:
        monkeypatch.delenv(key)
    source = tmp_path / "source.toml"
    source.write_text(f'state_dir = "{tmp_path}/a/state"\nsite_dir = "{tmp_path}/a/site"\n')
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(source), "db", "upgrade"]).exit_code == 0
    added = runner.invoke(main, ["--config", str(source), "agent", "add", "carol",
                                 "--name", "Carol", "--extension", "1003"])  # fmt: skip
    assert added.exit_code == 0, added.output
    archive = tmp_path / "cc.tgz"
    made = runner.invoke(main, ["--config", str(source), "backup", str(archive)])
    assert made.exit_code == 0, made.output
    target = tmp_path / "target.toml"
    target.write_text(f'state_dir = "{tmp_path}/b/state"\nsite_dir = "{tmp_path}/b/site"\n')
    put = runner.invoke(main, ["--config", str(target), "restore", str(archive)])
    assert put.exit_code == 0, put.output
    listed = runner.invoke(main, ["--config", str(target), "agent", "list"])
    assert listed.output.startswith("carol\t1003\tCarol")
    refused = runner.invoke(main, ["--config", str(target), "restore", str(archive)])
    assert refused.exit_code != 0 and "not empty" in refused.output


def test_sqlite_backup_is_consistent_while_the_controller_writes(tmp_path: Path) -> None:
    """The online backup API copies a consistent database while another connection
    keeps committing (as the records writer does during a backup)."""
    install = fresh_install(tmp_path, f"sqlite:///{tmp_path / 'src' / 'state' / 'c.db'}", "src")
    install.state_dir.mkdir(parents=True)
    install.site_dir.mkdir(parents=True)
    upgrade(install.database_url)
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        connection = sqlite3.connect(install.state_dir / "c.db", timeout=15)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE IF NOT EXISTS churn (n INTEGER PRIMARY KEY, pad TEXT)")
        n = 0
        while not stop.is_set():
            n += 1
            with connection:
                connection.execute("INSERT INTO churn VALUES (?, ?)", (n, "x" * 2000))
            written.append(n)
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 200:  # well under way
            threading.Event().wait(0.01)
        backup(install, tmp_path / "live.tar", with_recordings=False)
        during = len(written)
    finally:
        stop.set()
        thread.join()
    target = fresh_install(tmp_path, f"sqlite:///{tmp_path / 'dst' / 'state' / 'c.db'}", "dst")
    restore(target, tmp_path / "live.tar", force=False)
    copy = sqlite3.connect(target.state_dir / "c.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        count, top = copy.execute("SELECT count(*), max(n) FROM churn").fetchone()
    finally:
        copy.close()
    assert 200 <= count == top <= during  # a prefix of the commits, none half-written
