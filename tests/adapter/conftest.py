"""Fixtures of the adapter tests: the console on a real controller without Asterisk."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from callcenter.simulate.console import Console
from tests.adapter.console_support import start_console


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    running = start_console(tmp_path_factory.mktemp("console"))
    try:
        yield running
    finally:
        running.close()
