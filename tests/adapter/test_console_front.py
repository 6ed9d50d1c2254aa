"""The console's front process (real, over HTTPS with the product's server): live
streams pass through it, and floods stop there: requests per address, the login page
per address. The app behind it is the real console on a controller without Asterisk."""

from __future__ import annotations

import http.client
import ssl
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.adapters.web.front import FrontConfig, Shield
from callcenter.config import WebSettings
from callcenter.simulate.console import Console
from tests.adapter.console_support import start_console


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Console, str]]:
    console = start_console(tmp_path_factory.mktemp("front"))
    try:
        yield console, console.serve()
    finally:
        console.close()


def _status(url: str, context: ssl.SSLContext, address: str = "127.0.0.1") -> int:
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _trusting(console: Console) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(console.certificate))


def test_a_live_stream_passes_through_the_front(served: tuple[Console, str]) -> None:
    console, base = served
    token = console.controller.users.create_token("front-stream", "supervisor")
    host, port = base.removeprefix("https://").split(":")
    link = http.client.HTTPSConnection(host, int(port), timeout=10, context=_trusting(console))
    try:
        link.request(
            "GET", "/api/events?topics=wallboard", headers={"Authorization": f"Bearer {token}"}
        )
        answer = link.getresponse()
        assert answer.status == 200
        assert answer.getheader("Content-Type", "").startswith("text/event-stream")
        assert answer.read1(64).startswith(b"retry: 2000")  # before the stream ends
        console.controller.hub.publish("wallboard", {"probe": "through-the-front"})
        seen = b""
        while b"through-the-front" not in seen:
            seen += answer.read1(4096)
    finally:
        link.close()


def test_the_login_page_is_rationed_in_total(served: tuple[Console, str]) -> None:
    console, base = served
    statuses = Counter(_status(f"{base}/login", _trusting(console)) for _ in range(12))
    assert statuses[200] >= 5 and statuses[429] >= 1, statuses  # 5 per second, all addresses


def test_the_shield_counts_logins_per_address_per_user_and_in_total() -> None:
    shield = Shield(
        _config(login_per_address="3/minute", login_per_user="2/minute", login_total="99/second")
    )
    assert [shield.login_allowed("10.0.0.1", f"user{i}") for i in range(4)] == [
        True, True, True, False,
    ]  # fmt: skip
    assert [shield.login_allowed(f"10.0.1.{i}", "ann") for i in range(3)] == [True, True, False]
    spread = Shield(_config(login_total="4/second"))
    assert [spread.login_page_allowed(f"10.0.2.{i}") for i in range(6)].count(True) == 4


def _config(**changes: str) -> FrontConfig:
    web = WebSettings()
    values = {
        "host": "127.0.0.1", "port": 0, "http_port": 0, "cert": "", "key": "", "upstream": "",
        "threads": 4, "connection_limit": 10, "login_per_address": web.login_per_address,
        "login_per_user": web.login_per_user, "requests_per_address": web.requests_per_address,
        "login_total": web.login_total, "upstream_concurrency": 1,
    }  # fmt: skip
    return FrontConfig(**{**values, **changes})  # type: ignore[arg-type]


def test_a_burst_of_requests_from_one_address_is_cut() -> None:
    shield = Shield(_config(requests_per_address="30/second"))
    allowed = [shield.request_allowed("10.0.3.1") for _ in range(40)]
    assert allowed.count(True) == 30 and not allowed[-1]
    assert shield.request_allowed("10.0.3.2")  # another address is not held back


def test_a_page_load_burst_is_not_cut_by_default(served: tuple[Console, str]) -> None:
    # A browser opening a few pages in a row (assets, API calls) is no flood: the
    # docs page alone asks for five files at once, and one site may NAT many desks.
    console, base = served
    context = _trusting(console)
    statuses = Counter(_status(f"{base}/static/app.css", context) for _ in range(80))
    assert statuses == Counter({200: 80}), statuses


def test_the_front_runs_in_a_process_of_its_own(served: tuple[Console, str]) -> None:
    console, _ = served
    assert console.server is not None
    front = console.server.front_pid
    assert front is not None and Path(f"/proc/{front}").exists()
    import os

    assert front != os.getpid()


def test_a_killed_front_is_started_again_on_the_same_port(served: tuple[Console, str]) -> None:
    import os
    import signal
    import time

    console, base = served
    assert console.server is not None
    first = console.server.front_pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while console.server.front_pid in (None, first) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert console.server.front_pid not in (None, first)
    time.sleep(1.1)  # past the per-address request window of the earlier tests
    while time.monotonic() < deadline:
        try:
            assert _status(f"{base}/api/health", _trusting(console)) == 200
            return
        except (OSError, AssertionError):
            time.sleep(0.2)
    raise AssertionError("the console did not answer again on its port")
