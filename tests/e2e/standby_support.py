"""Helpers of the standby tests (tests/e2e/test_standby_takeover.py, bench/takeover.py):
a controller process's settings with `[ha]`, its log, its role as its metrics say."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import psycopg2

from callcenter.adapters.db.leader_lock import psycopg_dsn
from callcenter.config import HaSettings, MetricsSettings, Settings
from tests.e2e.sites import direct_queue_site

SITE = direct_queue_site("ann", "bob")  # ann and bob, skill support; callers go straight in


def controller_settings(settings: Settings, node: str, metrics_port: int) -> Settings:
    """The test's settings for one controller of the pair (same database and Asterisk)."""
    return settings.model_copy(
        update={
            "ha": HaSettings(enabled=True, node=node),
            "metrics": MetricsSettings(enabled=True, port=metrics_port),
        }
    )


def log_has(workdir: Path, text: str) -> bool:
    log = workdir / "controller.log"
    return log.exists() and text in log.read_text(errors="replace")


def metrics_active(port: int) -> tuple[str, int] | None:
    """(node, 1 or 0) from callcenter_controller_active, or None if not served."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    found = re.search(r'^callcenter_controller_active\{node="([^"]+)"\} (\d)', text, re.M)
    return (found.group(1), int(float(found.group(2)))) if found else None


def end_sessions(url: str, application_name: str) -> int:
    """pg_terminate_backend every session of that application name; how many."""
    conn = psycopg2.connect(psycopg_dsn(url))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (application_name,),
            )
            (count,) = cur.fetchone()
            return int(count)
    finally:
        conn.close()
