"""`callcenter backup` / `callcenter restore`: one tar archive with a manifest.

What goes in:
- the database: SQLite through its online backup API (consistent while the
  controller writes), PostgreSQL through ``pg_dump --format=custom``;
- the state directory's own data: secrets, the records journal (call records not
  in the database yet), lead imports in progress, voicemail messages, and with
  ``--with-recordings`` the call recordings;
- the site directory (site files, Asterisk additions, prompts) and the
  configuration file when it lives elsewhere.

Left out, because they are rebuilt: Asterisk's rendered configuration, its
logs, its run and cache folders and its astdb (the controller re-adds what it
needs on every AMI login).

``manifest.json`` lists every member with its SHA-256; restore checks them all
before writing anything. The archive holds secrets: it is written 0600.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

FORMAT = 1
MANIFEST = "manifest.json"
# The state directory's data (relative paths); everything else there is rebuilt.
STATE_DATA = ("secrets", "records-journal.jsonl", "imports", "pbx/spool/voicemail")
RECORDINGS = "pbx/spool/recordings"

Runner = Callable[..., subprocess.CompletedProcess[str]]


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Install:
    """What a backup reads and a restore writes: from the configuration."""

    database_url: str
    state_dir: Path
    site_dir: Path
    config_file: Path | None


@dataclass
class Manifest:
    created_at: str
    database: dict[str, Any]
    members: dict[str, str] = field(default_factory=dict)  # name -> sha256
    with_recordings: bool = False
    config_file: str | None = None
    format: int = FORMAT

    def as_json(self) -> bytes:
        return json.dumps(self.__dict__, indent=2, sort_keys=True).encode()

    @classmethod
    def parse(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            if raw.get("format") != FORMAT:
                raise BackupError(f"archive format {raw.get('format')!r}, expected {FORMAT}")
            return cls(**raw)
        except (ValueError, TypeError) as exc:
            raise BackupError(f"{MANIFEST} is not a callcenter manifest: {exc}") from None


def database_kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"{url}: not a SQLite file")
    return Path(database)


def _pg_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment carrying it
    (a password in argv is visible to every user in ps)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    bare = parsed.set(drivername="postgresql", password=None)
    return bare.render_as_string(hide_password=False), env


# -- backup --------------------------------------------------------------------------------
def backup(
    install: Install, target: Path, *, with_recordings: bool, run: Runner = subprocess.run
) -> Manifest:
    kind = database_kind(install.database_url)
    manifest = Manifest(
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        database={"kind": kind, "member": f"database/callcenter.{_DUMP_SUFFIX[kind]}"},
        with_recordings=with_recordings,
        config_file=str(install.config_file) if install.config_file else None,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode=_mode(target, "w")) as tar:
            with tempfile.TemporaryDirectory(prefix="cc-backup-") as scratch:
                dump = Path(scratch) / "dump"
                _dump_database(install.database_url, kind, dump, run)
                _add(tar, manifest, manifest.database["member"], dump)
            for name, path in _state_files(install.state_dir, with_recordings):
                _add(tar, manifest, f"state/{name}", path)
            for name, path in _tree(install.site_dir):
                _add(tar, manifest, f"site/{name}", path)
            config = install.config_file
            if config is not None and config.is_file() and install.site_dir not in config.parents:
                _add(tar, manifest, f"config/{config.name}", config)
            info = tarfile.TarInfo(MANIFEST)
            body = manifest.as_json()
            info.size, info.mtime, info.mode = len(body), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(body))
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


_DUMP_SUFFIX = {"sqlite": "db", "postgresql": "pgdump"}


def _mode(path: Path, verb: str) -> Any:
    compressed = path.name.endswith((".gz", ".tgz"))
    return f"{verb}:gz" if compressed else verb


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    """SQLite's online backup API: a consistent copy even while another connection writes."""
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(target_path)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()


def _dump_database(url: str, kind: str, dump: Path, run: Runner) -> None:
    if kind == "sqlite":
        source_path = sqlite_path(url)
        if not source_path.exists():
            raise BackupError(f"no database at {source_path}")
        _sqlite_copy(source_path, dump)
        return
    conninfo, env = _pg_target(url)
    argv = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
            f"--file={dump}", f"--dbname={conninfo}"]  # fmt: skip
    result = run(argv, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (apt-get install postgresql-client)")
    return found


def _state_files(state_dir: Path, with_recordings: bool) -> Iterator[tuple[str, Path]]:
    entries = [*STATE_DATA, *([RECORDINGS] if with_recordings else [])]
    for entry in entries:
        path = state_dir / entry
        if path.is_file():
            yield entry, path
        elif path.is_dir():
            for name, file in _tree(path):
                yield f"{entry}/{name}", file


def _tree(folder: Path) -> Iterator[tuple[str, Path]]:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path.relative_to(folder).as_posix(), path


def _add(tar: tarfile.TarFile, manifest: Manifest, name: str, path: Path) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    info = tar.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with open(path, "rb") as handle:
        tar.addfile(info, handle)
    manifest.members[name] = digest.hexdigest()


# -- restore -------------------------------------------------------------------------------
@dataclass
class RestoreReport:
    written: int = 0
    kept: list[str] = field(default_factory=list)  # site/config files left as they were

    def lines(self, manifest: Manifest) -> list[str]:
        said = [f"restored the backup of {manifest.created_at}: {manifest.database['kind']} "
                f"database and {self.written} files"]  # fmt: skip
        said += [f"kept the existing {name} (--force replaces it)" for name in self.kept]
        return said


def read_manifest(archive: Path) -> Manifest:
    with tarfile.open(archive, mode=_mode(archive, "r")) as tar:
        return _verified(tar)


def restore(
    install: Install, archive: Path, *, force: bool, run: Runner = subprocess.run
) -> tuple[Manifest, RestoreReport]:
    if not archive.is_file():
        raise BackupError(f"no archive at {archive}")
    with tarfile.open(archive, mode=_mode(archive, "r")) as tar:
        manifest = _verified(tar)
        kind = database_kind(install.database_url)
        if manifest.database["kind"] != kind:
            raise BackupError(
                f"the archive holds a {manifest.database['kind']} database; this install "
                f"uses {kind} ([database] url)"
            )
        _check_empty(install, kind, force)
        report = RestoreReport()
        with tempfile.TemporaryDirectory(prefix="cc-restore-") as scratch:
            dump = Path(scratch) / "dump"
            _extract(tar, manifest.database["member"], dump)
            _load_database(install.database_url, kind, dump, run)
        for name in manifest.members:
            target = _target(install, manifest, name)
            if target is None:
                continue
            if not name.startswith("state/") and target.exists() and not force:
                report.kept.append(str(target))
                continue
            _extract(tar, name, target)
            report.written += 1
    secrets = install.state_dir / "secrets"
    if secrets.is_dir():
        secrets.chmod(0o700)
    return manifest, report


def _verified(tar: tarfile.TarFile) -> Manifest:
    try:
        manifest = Manifest.parse(_read(tar, MANIFEST))
    except KeyError:
        raise BackupError(f"no {MANIFEST}: not a callcenter backup") from None
    for name, expected in manifest.members.items():
        _safe(name)
        try:
            actual = hashlib.sha256(_read(tar, name)).hexdigest()
        except KeyError:
            raise BackupError(f"the archive lacks {name} (cut short?)") from None
        if actual != expected:
            raise BackupError(f"{name} does not match its checksum: the archive is damaged")
    if manifest.database.get("member") not in manifest.members:
        raise BackupError("the archive has no database")
    return manifest


def _read(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.getmember(name)
    if not member.isfile():
        raise BackupError(f"{name} is not a regular file in the archive")
    handle = tar.extractfile(member)
    assert handle is not None
    return handle.read()


def _safe(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
        raise BackupError(f"refusing archive member {name!r}")
    return path


def _target(install: Install, manifest: Manifest, name: str) -> Path | None:
    top, *rest = _safe(name).parts
    if top == "state":
        return install.state_dir.joinpath(*rest)
    if top == "site":
        return install.site_dir.joinpath(*rest)
    if top == "config":
        # Back where it was; a config file given now (--config) takes precedence.
        original = install.config_file or (
            Path(manifest.config_file) if manifest.config_file else None
        )
        return original
    return None  # the database: loaded on its own


def _check_empty(install: Install, kind: str, force: bool) -> None:
    if force:
        return
    state = install.state_dir
    if state.exists() and any(p.is_file() for p in state.rglob("*")):
        raise BackupError(f"{state} is not empty: restore into an empty state directory, "
                          "or --force to overwrite it (stop both services first)")  # fmt: skip
    if kind == "sqlite":
        database = sqlite_path(install.database_url)
        if database.exists() and database.stat().st_size > 0:
            raise BackupError(f"{database} exists: --force overwrites it")
        return
    engine = create_engine(install.database_url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupError(f"the database already has {len(tables)} tables: restore into "
                          "an empty database, or --force to replace its contents")  # fmt: skip


def _extract(tar: tarfile.TarFile, name: str, target: Path) -> None:
    member = tar.getmember(name)
    handle = tar.extractfile(member)
    assert handle is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, member.mode & 0o777 or 0o600)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(handle, out)
    os.chmod(partial, member.mode & 0o777 or 0o600)
    os.replace(partial, target)


def _load_database(url: str, kind: str, dump: Path, run: Runner) -> None:
    if kind == "sqlite":
        target = sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in (
            target.with_name(target.name + "-wal"),
            target.with_name(target.name + "-shm"),
        ):
            stale.unlink(missing_ok=True)
        _sqlite_copy(dump, target)
        os.chmod(target, 0o600)
        return
    conninfo, env = _pg_target(url)
    argv = [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
            "--single-transaction", f"--dbname={conninfo}", str(dump)]  # fmt: skip
    result = run(argv, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
