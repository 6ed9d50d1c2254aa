"""QA scoring (core/quality.py): forms, answers, the score, the review draw, the figures."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter.core.quality import (
    Candidate,
    Evaluation,
    QualityError,
    check_answers,
    parse_form,
    qa_report,
    sample,
    score,
)

FORM: dict[str, Any] = {
    "title": "Inbound support",
    "sections": [
        {
            "title": "Opening",
            "questions": [
                {"key": "greeting", "text": "Greeted by name?", "weight": 1},
                {"key": "verify", "text": "Verified identity?", "weight": 2, "critical": True,
                 "allow_na": True},
            ],
        },
        {
            "title": "Resolution",
            "questions": [
                {"key": "empathy", "text": "Empathy", "kind": "scale", "scale": 4, "weight": 3},
                {"key": "recap", "text": "Recapped next steps?", "weight": 4, "allow_na": True},
            ],
        },
    ],
}  # fmt: skip


def test_a_form_is_read_with_its_defaults() -> None:
    form = parse_form(FORM)
    assert [s.title for s in form.sections] == ["Opening", "Resolution"]
    greeting, verify, empathy, _ = form.questions()
    assert (greeting.kind, greeting.critical, greeting.allow_na, greeting.scale) == (
        "yes_no", False, False, 0,
    )  # fmt: skip
    assert (verify.critical, verify.weight) == (True, 2.0)
    assert (empathy.kind, empathy.scale) == ("scale", 4)
    assert parse_form(form.as_dict()) == form  # stored as it is given back


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda f: f.update(sections=[]), "sections: a list of 1 to 20"),
        (lambda f: f.update(title=" "), "title: text is required"),
        (lambda f: f["sections"][0]["questions"][1].update(key="greeting"), "used twice"),
        (lambda f: f["sections"][0]["questions"][0].update(key="Bad Key"), "key: lower-case"),
        (lambda f: f["sections"][0]["questions"][0].update(weight=0), "weight: more than 0"),
        (lambda f: f["sections"][0]["questions"][0].update(weight=True), "weight: a number"),
        (lambda f: f["sections"][1]["questions"][0].update(scale=11), "scale: a whole number"),
        (lambda f: f["sections"][1]["questions"][0].update(critical=True), "answered yes or no"),
        (lambda f: f["sections"][0]["questions"][0].update(scale=3), "only scale questions"),
        (lambda f: f["sections"][0]["questions"][0].update(kind="stars"), "kind: one of"),
        (lambda f: f["sections"][0]["questions"][0].update(colour="red"), "unknown fields"),
        (lambda f: f["sections"][0].update(questions=[]), "at least one question"),
    ],
)
def test_a_bad_form_is_refused_with_each_problem(change: Any, problem: str) -> None:
    import copy

    raw = copy.deepcopy(FORM)
    change(raw)
    with pytest.raises(QualityError) as refused:
        parse_form(raw)
    assert refused.value.code == "invalid"
    assert any(problem in p for p in refused.value.problems), refused.value.problems


ALL_GOOD = {"greeting": "yes", "verify": "yes", "empathy": 4, "recap": "yes"}


def test_the_score_is_the_weighted_share_of_points_over_what_applies() -> None:
    form = parse_form(FORM)
    assert score(form, ALL_GOOD).score == 100.0
    # greeting no (0/1), verify yes (2/2), empathy 2 of 4 (1.5/3), recap yes (4/4): 7.5 / 10
    mixed = score(form, {"greeting": "no", "verify": "yes", "empathy": 2, "recap": "yes"})
    assert (mixed.score, mixed.earned, mixed.possible) == (75.0, 7.5, 10.0)
    assert [(s.title, s.score) for s in mixed.sections] == [
        ("Opening", 66.67),
        ("Resolution", 78.57),
    ]
    # "na" leaves the question out of both sides: 1 + 1.5 of 1 + 3
    applied = score(form, {"greeting": "yes", "verify": "na", "empathy": 2, "recap": "na"})
    assert (applied.score, applied.possible) == (62.5, 4.0)
    assert applied.sections[0].score == 100.0 and applied.critical_failed == ()


def test_a_failed_critical_question_zeroes_the_whole_score() -> None:
    form = parse_form(FORM)
    failed = score(form, {**ALL_GOOD, "verify": "no"})
    assert failed.score == 0.0 and failed.critical_failed == ("verify",)
    assert failed.earned == 8.0  # what was earned stays visible
    assert score(form, {**ALL_GOOD, "verify": "na"}).score == 100.0


def test_an_evaluation_where_nothing_applies_has_no_score() -> None:
    form = parse_form(
        {"title": "t", "sections": [{"title": "s", "questions": [
            {"key": "a", "text": "a", "allow_na": True, "critical": True}]}]}
    )  # fmt: skip
    assert score(form, {"a": "na"}).score is None


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({**ALL_GOOD, "greeting": "na"}, "greeting: yes or no"),
        ({**ALL_GOOD, "empathy": 5}, "empathy: 0 to 4"),
        ({**ALL_GOOD, "empathy": True}, "empathy: 0 to 4"),
        ({**ALL_GOOD, "empathy": "yes"}, "empathy: 0 to 4"),
        ({**ALL_GOOD, "recap": 1}, "recap: yes or no or na"),
        ({k: v for k, v in ALL_GOOD.items() if k != "verify"}, "verify: not answered"),
        ({**ALL_GOOD, "extra": "yes"}, "extra: no such question"),
    ],
)
def test_answers_must_fit_their_questions(answers: dict[str, Any], problem: str) -> None:
    with pytest.raises(QualityError) as refused:
        check_answers(parse_form(FORM), answers)
    assert any(problem in p for p in refused.value.problems), refused.value.problems


ANSWER = st.one_of(st.just("yes"), st.just("no"), st.just("na"))


@given(
    st.fixed_dictionaries(
        {"greeting": st.sampled_from(["yes", "no"]), "verify": ANSWER,
         "empathy": st.integers(0, 4), "recap": ANSWER}
    )
)  # fmt: skip
def test_the_score_agrees_with_a_plain_reading_of_the_rules(answers: dict[str, Any]) -> None:
    form = parse_form(FORM)
    found = score(form, check_answers(form, answers))
    weights = {"greeting": 1, "verify": 2, "empathy": 3, "recap": 4}
    points = {"yes": 1.0, "no": 0.0}
    got = possible = 0.0
    for key, weight in weights.items():
        value = answers[key]
        if value == "na":
            continue
        got += weight * (value / 4 if key == "empathy" else points[value])
        possible += weight
    expected = 0.0 if answers["verify"] == "no" else round(100 * got / possible, 2)
    assert found.score == expected
    assert 0.0 <= (found.score or 0.0) <= 100.0


# -- the review draw --------------------------------------------------------------------------
def _calls(agent: str, count: int, first_id: int) -> list[Candidate]:
    return [
        Candidate(first_id + i, f"c{first_id + i}", agent, "support", 1000.0 + first_id + i)
        for i in range(count)
    ]


CALLS = _calls("ann", 20, 1) + _calls("bob", 2, 100) + _calls("", 3, 200)


def test_the_draw_takes_n_calls_per_agent_the_same_for_the_same_seed() -> None:
    drawn = sample(CALLS, 3, "2026-W49")
    assert list(drawn) == ["ann", "bob"]  # calls with no agent are not anyone's to review
    assert len(drawn["ann"]) == 3 and len(drawn["bob"]) == 2
    assert drawn == sample(list(reversed(CALLS)), 3, "2026-W49")  # order given does not matter
    assert [c.started_at for c in drawn["ann"]] == sorted(c.started_at for c in drawn["ann"])
    others = {tuple(c.recording_id for c in sample(CALLS, 3, f"seed-{n}")["ann"]) for n in range(8)}
    assert len(others) > 1  # another seed, another draw


def test_evaluating_a_drawn_call_leaves_the_rest_of_the_draw_as_it_was() -> None:
    drawn = sample(CALLS, 3, "week")["ann"]
    reviewed = drawn[1]
    left = [c for c in CALLS if c != reviewed]
    again = sample(left, 3, "week", evaluated={"ann": 1})["ann"]
    assert again == [c for c in drawn if c != reviewed]
    assert sample(left, 3, "week", evaluated={"ann": 5})["ann"] == []


# -- figures ----------------------------------------------------------------------------------
def _evaluation(agent: str, queue: str, value: float | None, **changes: Any) -> Evaluation:
    base = Evaluation(
        id=1, form_id=1, form_name="f", form_version=1, recording_id=1, call_id="c",
        agent=agent, queue=queue, call_at=0.0, evaluator="sue", evaluated_at=0.0,
        answers={}, score=value, critical_failed=False, comment="",
    )  # fmt: skip
    return replace(base, **changes)


def test_the_figures_are_means_of_the_scored_evaluations_per_agent_and_queue() -> None:
    report = qa_report(
        [
            _evaluation("ann", "support", 80.0, acknowledged_at=5.0),
            _evaluation("ann", "sales", 0.0, critical_failed=True),
            _evaluation("bob", "support", None),
            _evaluation("bob", "support", 90.0),
        ]
    )
    assert report.agents["ann"] == {
        "evaluations": 2, "scored": 2, "mean_score": 40.0, "min_score": 0.0,
        "max_score": 80.0, "critical_failures": 1, "acknowledged": 1,
    }  # fmt: skip
    assert report.agents["bob"]["mean_score"] == 90.0 and report.agents["bob"]["scored"] == 1
    assert list(report.queues) == ["sales", "support"]
    assert report.queues["support"]["mean_score"] == 85.0
    assert (report.totals["evaluations"], report.totals["mean_score"]) == (4, 56.67)
    assert qa_report([]).totals["mean_score"] is None
