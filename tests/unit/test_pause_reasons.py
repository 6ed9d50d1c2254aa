"""Pause codes from an agent's phone pick from the administrator's pause reasons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter.core.pause_reasons import DEFAULT_PAUSE_REASONS, reason_for_code

ADMINS = ("coffee", "training", "one to one")
# What *2N meant before the administrator's list counted (a fixed table in the AGI route).
FORMER = {
    "*2": "break",
    "*21": "break",
    "*22": "lunch",
    "*23": "meeting",
    "*24": "training",
    "*25": "admin",
}


@pytest.mark.parametrize(("code", "reason"), FORMER.items())
def test_the_defaults_keep_the_codes_agents_know(code: str, reason: str) -> None:
    assert reason_for_code(code, DEFAULT_PAUSE_REASONS) == reason


@pytest.mark.parametrize(
    ("code", "reason"), [("*2", "coffee"), ("*21", "coffee"), ("*23", "one to one")]
)
def test_the_nth_reason_of_the_administrators_list(code: str, reason: str) -> None:
    assert reason_for_code(code, ADMINS) == reason


@pytest.mark.parametrize("code", ["*24", "*29", "*20", "*200", "*2123"])
def test_a_place_outside_the_list_picks_nothing(code: str) -> None:
    assert reason_for_code(code, ADMINS) is None


@pytest.mark.parametrize("code", ["", "*1", "*3", "*4", "2", "*2a", "*2 1", "*2-1", "*2\u00b2"])
def test_what_is_not_a_pause_code_picks_nothing(code: str) -> None:
    assert reason_for_code(code, ADMINS) is None


def test_an_empty_list_picks_nothing() -> None:
    assert reason_for_code("*2", ()) is None


@given(st.lists(st.text(min_size=1), min_size=1, max_size=30), st.integers(1, 40))
def test_the_place_counts_from_one(reasons: list[str], place: int) -> None:
    expected = reasons[place - 1] if place <= len(reasons) else None
    assert reason_for_code(f"*2{place}", reasons) == expected
