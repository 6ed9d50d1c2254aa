"""The QA service (services/console/quality.py) over the in-memory store: what the data
allows, whoever asks (roles are the console's to check)."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.core.quality import QualityError
from callcenter.services.console.quality import Quality
from tests.fakes.quality import FakeQualityStore

FORM: dict[str, Any] = {
    "title": "Support",
    "sections": [{"title": "Opening", "questions": [
        {"key": "greeting", "text": "Greeted?", "weight": 1},
        {"key": "verified", "text": "Verified?", "weight": 3, "critical": True}]}],
}  # fmt: skip
GOOD = {"greeting": "yes", "verified": "yes"}


@pytest.fixture
def world() -> tuple[Quality, FakeQualityStore]:
    store = FakeQualityStore()
    return Quality(store, lambda: 1000.0), store


def _refused(code: str, action: Any) -> None:
    with pytest.raises(QualityError) as refused:
        action()
    assert refused.value.code == code, refused.value


def test_a_recording_is_scored_once_with_the_latest_form_in_use(
    world: tuple[Quality, FakeQualityStore],
) -> None:
    quality, store = world
    form = quality.save_form("support", FORM, "ada")
    ann = store.recorded("c1", "ann", "support", 10.0)
    made = quality.evaluate(form.id, ann, {"greeting": "no", "verified": "yes"}, " Greet. ", "sue")
    assert (made.score, made.agent, made.call_at, made.evaluated_at, made.comment) == (
        75.0, "ann", 10.0, 1000.0, "Greet.",
    )  # fmt: skip
    _refused("evaluated", lambda: quality.evaluate(form.id, ann, GOOD, "", "sue"))
    failed = quality.evaluate(
        form.id, store.recorded("c2", "bob", "support", 20.0), {**GOOD, "verified": "no"}, "", "sue"
    )
    assert (failed.score, failed.critical_failed) == (0.0, True)
    newer = quality.save_form("support", {**FORM, "title": "Support v2"}, "ada")
    assert newer.version == 2
    other = store.recorded("c3", "ann", "support", 30.0)
    _refused("retired", lambda: quality.evaluate(form.id, other, GOOD, "", "sue"))
    quality.retire_form("support")
    _refused("retired", lambda: quality.evaluate(newer.id, other, GOOD, "", "sue"))
    _refused("not-found", lambda: quality.retire_form("support"))
    _refused("not-found", lambda: quality.evaluate(999, other, GOOD, "", "sue"))


def test_what_cannot_be_scored(world: tuple[Quality, FakeQualityStore]) -> None:
    quality, store = world
    form = quality.save_form("support", FORM, "ada")
    unanswered = store.recorded("c1", "ann", "support", 10.0, answered=False)
    running = store.recorded("c2", "ann", "support", 10.0, ended=False)
    for recording in (unanswered, running, 999):
        _refused("not-found", lambda r=recording: quality.evaluate(form.id, r, GOOD, "", "sue"))
    mine = store.recorded("c3", "sam", "support", 10.0)
    _refused("self", lambda: quality.evaluate(form.id, mine, GOOD, "", "sue", who_works_as="sam"))
    _refused("invalid", lambda: quality.evaluate(form.id, mine, {"greeting": "yes"}, "", "sue"))
    _refused("invalid", lambda: quality.evaluate(form.id, mine, GOOD, "x" * 2001, "sue"))
    _refused("invalid", lambda: quality.save_form("Bad Name", FORM, "ada"))
    _refused("invalid", lambda: quality.save_form("ok", {"title": "t", "sections": []}, "ada"))
    assert store.rows == {}


def test_only_the_evaluated_agent_acknowledges_and_only_once(
    world: tuple[Quality, FakeQualityStore],
) -> None:
    quality, store = world
    form = quality.save_form("support", FORM, "ada")
    made = quality.evaluate(form.id, store.recorded("c1", "ann", "support", 10.0), GOOD, "", "sue")
    _refused("not-yours", lambda: quality.acknowledge(made.id, "bob", ""))
    done = quality.acknowledge(made.id, "ann", " Thanks ")
    assert (done.acknowledged_at, done.agent_comment) == (1000.0, "Thanks")
    _refused("acknowledged", lambda: quality.acknowledge(made.id, "ann", ""))
    _refused("not-found", lambda: quality.acknowledge(999, "ann", ""))


def test_the_draw_leaves_out_what_is_scored_and_counts_it_against_the_agent(
    world: tuple[Quality, FakeQualityStore],
) -> None:
    quality, store = world
    form = quality.save_form("support", FORM, "ada")
    calls = [store.recorded(f"c{n}", "ann", "support", 10.0 + n) for n in range(6)]
    drawn = [c.recording_id for c in quality.sample(0.0, 100.0, 2, "week")["ann"]]
    assert len(drawn) == 2 and drawn == [
        c.recording_id for c in quality.sample(0.0, 100.0, 2, "week")["ann"]
    ]
    quality.evaluate(form.id, drawn[0], GOOD, "", "sue")
    assert [c.recording_id for c in quality.sample(0.0, 100.0, 2, "week")["ann"]] == drawn[1:]
    assert set(drawn) <= set(calls)
    for wrong in (0, 51):
        _refused("invalid", lambda n=wrong: quality.sample(0.0, 100.0, n, "week"))
    report = quality.report(0.0, 100.0)
    assert report.agents["ann"]["evaluations"] == 1 and report.totals["mean_score"] == 100.0
