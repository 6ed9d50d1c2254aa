"""What a ``QualityStore`` must do, on the fake (tests/unit/test_fakes.py) and on SQLite and
PostgreSQL (tests/adapter/test_repository_contracts.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from callcenter.core.quality import NewEvaluation, QualityError
from callcenter.services.repositories import QualityStore

FORM = {
    "title": "Support",
    "description": "",
    "sections": [{"title": "Opening", "questions": [
        {"key": "greeting", "text": "Greeted?", "kind": "yes_no", "weight": 1.0,
         "critical": False, "scale": 0, "allow_na": False}]}],
}  # fmt: skip


@dataclass
class QualityWorld:
    store: QualityStore
    # (call id, agent, queue, started at, answered, ended) -> recording id
    recorded: Callable[[str, str, str, float, bool, bool], int]


def _evaluate(world: QualityWorld, form_id: int, recording_id: int, at: float = 50.0) -> int:
    call = world.store.recorded_call(recording_id)
    assert call is not None
    new = NewEvaluation(
        form_id=form_id, recording_id=recording_id, call_id=call.call_id, agent=call.agent,
        queue=call.queue, call_at=call.started_at, evaluator="sue", evaluated_at=at,
        answers={"greeting": "yes"}, score=100.0, critical_failed=False, comment="fine",
    )  # fmt: skip
    return world.store.add_evaluation(new).id


def a_form_changes_in_place_until_used_then_gets_a_new_version(world: QualityWorld) -> None:
    store = world.store
    first = store.save_form("support", FORM, "ada", 1.0)
    assert (first.name, first.version, first.used, first.retired) == ("support", 1, False, False)
    changed = store.save_form("support", {**FORM, "title": "Support calls"}, "ada", 2.0)
    assert (changed.id, changed.version, changed.definition.title) == (first.id, 1, "Support calls")
    _evaluate(world, first.id, world.recorded("c1", "ann", "support", 10.0, True, True))
    frozen = store.form(first.id)
    assert frozen is not None and frozen.used and frozen.definition.title == "Support calls"
    second = store.save_form("support", {**FORM, "title": "Support v2"}, "ada", 3.0)
    assert second.version == 2 and second.id != first.id
    again = store.form(first.id)
    assert again is not None and again.definition.title == "Support calls"  # kept its meaning
    assert [(f.name, f.version) for f in store.forms()] == [("support", 2)]
    assert [(f.version, f.used) for f in store.versions("support")] == [(1, True), (2, False)]
    assert store.retire_form("support") and not store.retire_form("support")
    assert store.forms() == [] and [f.version for f in store.forms(retired=True)] == [2]
    revived = store.save_form("support", FORM, "ada", 4.0)
    assert (revived.version, revived.retired) == (3, False)
    assert store.form(10_000) is None and not store.retire_form("nothing")


def an_evaluation_is_stored_once_per_recording_and_read_back(world: QualityWorld) -> None:
    store = world.store
    form = store.save_form("support", FORM, "ada", 1.0)
    early = world.recorded("c1", "ann", "support", 10.0, True, True)
    late = world.recorded("c2", "bob", "sales", 20.0, True, True)
    first = _evaluate(world, form.id, early)
    second = _evaluate(world, form.id, late)
    found = store.evaluation(first)
    assert found is not None
    assert (found.form_name, found.form_version, found.recording_id, found.call_id) == (
        "support", 1, early, "c1",
    )  # fmt: skip
    assert (found.agent, found.queue, found.call_at, found.evaluator) == (
        "ann",
        "support",
        10.0,
        "sue",
    )
    assert (found.answers, found.score, found.critical_failed, found.comment) == (
        {"greeting": "yes"}, 100.0, False, "fine",
    )  # fmt: skip
    assert (found.acknowledged_at, found.agent_comment) == (None, "")
    with pytest.raises(QualityError) as twice:
        _evaluate(world, form.id, early)
    assert twice.value.code == "evaluated"
    assert [e.id for e in store.evaluations()] == [second, first]
    assert [e.id for e in store.evaluations(agent="ann")] == [first]
    assert [e.id for e in store.evaluations(queue="sales")] == [second]
    assert [e.id for e in store.evaluations(since=15.0, until=25.0)] == [second]
    assert store.evaluation(10_000) is None


def an_evaluation_is_acknowledged_once_by_its_agent(world: QualityWorld) -> None:
    store = world.store
    form = store.save_form("support", FORM, "ada", 1.0)
    evaluation = _evaluate(world, form.id, world.recorded("c1", "ann", "support", 10.0, True, True))
    assert not store.acknowledge(evaluation, "bob", 60.0, "not mine")
    assert store.acknowledge(evaluation, "ann", 60.0, "thanks")
    assert not store.acknowledge(evaluation, "ann", 70.0, "again")
    found = store.evaluation(evaluation)
    assert found is not None and (found.acknowledged_at, found.agent_comment) == (60.0, "thanks")


def the_calls_to_review_are_recorded_answered_and_not_yet_evaluated(world: QualityWorld) -> None:
    store = world.store
    form = store.save_form("support", FORM, "ada", 1.0)
    keep = world.recorded("c1", "ann", "support", 10.0, True, True)
    other_queue = world.recorded("c2", "ann", "sales", 11.0, True, True)
    unanswered = world.recorded("c3", "ann", "support", 12.0, False, True)
    running = world.recorded("c4", "ann", "support", 13.0, True, False)
    nobody = world.recorded("c5", "", "support", 14.0, True, True)
    late = world.recorded("c6", "ann", "support", 100.0, True, True)
    done = world.recorded("c7", "bob", "support", 15.0, True, True)
    _evaluate(world, form.id, done)
    for missing in (unanswered, running, nobody, 10_000):
        assert store.recorded_call(missing) is None
    call = store.recorded_call(keep)
    assert call is not None and (call.call_id, call.agent, call.queue, call.started_at) == (
        "c1", "ann", "support", 10.0,
    )  # fmt: skip
    assert sorted(c.recording_id for c in store.candidates(0.0, 50.0)) == [keep, other_queue]
    assert [c.recording_id for c in store.candidates(0.0, 50.0, "support")] == [keep]
    assert [c.recording_id for c in store.candidates(50.0, 200.0)] == [late]
    assert store.evaluated_counts(0.0, 50.0) == {"bob": 1}
    assert store.evaluated_counts(0.0, 50.0, "sales") == {}


QUALITY_STORE = [
    a_form_changes_in_place_until_used_then_gets_a_new_version,
    an_evaluation_is_stored_once_per_recording_and_read_back,
    an_evaluation_is_acknowledged_once_by_its_agent,
    the_calls_to_review_are_recorded_answered_and_not_yet_evaluated,
]
