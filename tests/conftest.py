"""Fixtures shared by every test layer: databases (SQLite and a real PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from callcenter.adapters.db.migrate import upgrade
from tests.support.postgres import PostgresCluster
from tests.support.workers import worker_port_base

# Under pytest-xdist (addopts: two workers) each worker runs its own Asterisk,
# controllers, SIP peers and PostgreSQL: its own port base, set before any test
# module reads CALLCENTER_TEST_PORT_BASE.
os.environ["CALLCENTER_TEST_PORT_BASE"] = str(
    worker_port_base(
        int(os.environ.get("CALLCENTER_TEST_PORT_BASE", "15000")),
        os.environ.get("PYTEST_XDIST_WORKER", ""),
    )
)

# The same examples on every run, so CI results do not depend on luck; local
# exploration can still use `--hypothesis-profile=explore`.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def postgres() -> Iterator[tuple[PostgresCluster, str]]:
    cluster = PostgresCluster()
    url = cluster.start()
    try:
        yield cluster, url
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database of each kind the product supports."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'callcenter.db'}"
        upgrade(url)
        yield url
        return
    cluster, url = request.getfixturevalue("postgres")
    cluster.reset(url)
    upgrade(url)
    yield url
