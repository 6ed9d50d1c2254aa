"""The post-call survey's pure parts: its settings, a key's rating, CSAT and response rate."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from callcenter.core.queues import Announce, Overflow
from callcenter.core.survey import SurveyResult, SurveySettings, by, figures, rating


def result(call_id: str, *scores: int | None, agent: str = "ann", queue: str = "support",
           at: float = 0.0) -> SurveyResult:  # fmt: skip
    return SurveyResult(call_id, at, queue, agent, tuple(scores))


def test_a_rating_is_exactly_one_key_from_1_to_5() -> None:
    assert [rating(k) for k in "12345"] == [1, 2, 3, 4, 5]
    for keys in ("", "0", "6", "9", "*", "#", "12", "55", "a"):
        assert rating(keys) is None, keys


def test_a_caller_who_rated_nothing_did_not_respond() -> None:
    assert not result("c1").responded
    assert not result("c1", None, None).responded
    assert result("c1", None, 2).responded


def test_csat_is_the_share_of_4_and_5_among_ratings_and_response_rate_among_offers() -> None:
    found = figures(
        [
            result("c1", 5, 4),  # two satisfied
            result("c2", 3, None),  # one rating, not satisfied
            result("c3", None, None),  # hung up: offered, not responded
            result("c4", 1, 5),
        ]
    )
    assert (found.offered, found.responded, found.ratings, found.satisfied) == (4, 3, 5, 3)
    assert found.response_rate == pytest.approx(0.75)
    assert found.csat == pytest.approx(3 / 5)
    assert found.mean_score == pytest.approx((5 + 4 + 3 + 1 + 5) / 5)


def test_no_surveys_and_no_ratings_give_no_rates_rather_than_zero() -> None:
    empty = figures([])
    assert (empty.offered, empty.response_rate, empty.csat, empty.mean_score) == (
        0,
        None,
        None,
        None,
    )
    silent = figures([result("c1", None)])
    assert (silent.offered, silent.response_rate, silent.csat) == (1, 0.0, None)


def test_figures_per_agent_and_queue() -> None:
    results = [
        result("c1", 5, agent="bob", queue="sales"),
        result("c2", 2, agent="ann"),
        result("c3", None, agent="ann"),
    ]
    per_agent = by(results, lambda r: r.agent)
    assert list(per_agent) == ["ann", "bob"]
    assert (per_agent["ann"].offered, per_agent["ann"].response_rate) == (2, 0.5)
    assert per_agent["ann"].csat == 0.0 and per_agent["bob"].csat == 1.0
    assert list(by(results, lambda r: r.queue)) == ["sales", "support"]


def test_an_enabled_survey_asks_something_and_plays_only_sound_names() -> None:
    with pytest.raises(ValidationError, match="at least one question"):
        SurveySettings(enabled=True)
    with pytest.raises(ValidationError):
        SurveySettings.model_validate({"questions": [{"prompt": "../etc/passwd"}]})
    with pytest.raises(ValidationError):
        SurveySettings.model_validate({"opt_in_prompt": "x,1)&System(rm"})
    with pytest.raises(ValidationError):
        SurveySettings.model_validate({"questions": [{"prompt": "q"}] * 6})
    survey = SurveySettings.model_validate(
        {"enabled": True, "questions": [{"prompt": "custom/q1"}], "thanks_prompt": "bye"}
    )
    assert survey.sounds() == [
        ("questions.0.prompt", "custom/q1"),
        ("retry_prompt", "beep"),
        ("thanks_prompt", "bye"),
    ]


def test_an_optional_prompt_is_anchored_at_both_ends() -> None:
    # "^$|" + a pattern without its "^" anchored only the empty alternative: pydantic
    # searches, so any text ending in a sound name passed (queue prompts had it too).
    with pytest.raises(ValidationError):
        Overflow(action="hangup", prompt="x,1)&System(rm")
    with pytest.raises(ValidationError):
        Announce(unreliable="few_minutes", few_minutes_prompt="a b")
    assert Overflow(action="hangup", prompt="").prompt == ""
