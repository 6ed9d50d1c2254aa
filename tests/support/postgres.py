"""A throwaway PostgreSQL cluster on loopback, owned by the test session."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from callcenter.simulate.procs import wait_for


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return found[-1]


@dataclass
class PostgresCluster:
    # Read when made, not imported: a parallel test worker sets its own port base.
    port: int = field(
        default_factory=lambda: int(os.environ.get("CALLCENTER_TEST_PORT_BASE", "15000")) + 432
    )
    directory: Path | None = None

    def _as_postgres(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv],
            capture_output=True,
            text=True,
            check=check,
            cwd="/",
        )

    def start(self) -> str:
        self.directory = Path(tempfile.mkdtemp(prefix="cc-pg-"))
        os.chmod(self.directory, 0o755)
        shutil.chown(self.directory, "postgres", "postgres")
        data = self.directory / "data"
        self._as_postgres(
            [
                _bin("initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        )
        self._run_server()
        self._psql("postgres", "CREATE DATABASE callcenter")
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/callcenter"

    def _run_server(self) -> None:
        assert self.directory is not None
        self._as_postgres(
            [
                _bin("pg_ctl"),
                "-D",
                str(self.directory / "data"),
                "-l",
                str(self.directory / "log"),
                "-w",
                "-o",
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off",
                "start",
            ]
        )
        wait_for(self.ready, 20, "postgres ready")

    def ready(self) -> bool:
        """The server accepts connections (pg_isready)."""
        isready = [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)]
        return self._as_postgres(isready, check=False).returncode == 0

    def pause(self) -> None:
        """Stop the server as an outage would (sessions cut), keeping its data: resume()."""
        assert self.directory is not None
        data = str(self.directory / "data")
        self._as_postgres([_bin("pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"])

    def resume(self) -> None:
        """Start the paused server again and wait until it accepts connections."""
        if not self.ready():
            self._run_server()

    def reset(self, url: str) -> None:
        """Empty the database between tests (drop and recreate the schema)."""
        self._psql("callcenter", "DROP SCHEMA public CASCADE; CREATE SCHEMA public;")

    def _psql(self, database: str, sql: str) -> None:
        psql = shutil.which("psql") or _bin("psql")
        self._as_postgres(
            [
                psql,
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ]
        )

    def stop(self) -> None:
        if self.directory is None:
            return
        self._as_postgres(
            [_bin("pg_ctl"), "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop"],
            check=False,
        )
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None
