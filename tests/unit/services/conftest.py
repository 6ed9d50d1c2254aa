"""Every test here gets the call center built over fakes (tests/fakes/center.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.center import Center


@pytest.fixture
async def center() -> AsyncIterator[Center]:
    built = Center()
    yield built
    await built.settle()  # the notifier's last asynchronous subscribers finish
    built.timers.cancel_all()
