"""Routing decisions, scenario by scenario."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from callcenter.core.acd.model import QueueConfig, RelaxStep, Strategy
from callcenter.core.acd.router import Assignment, Router


def router(*queues: QueueConfig) -> Router:
    return Router({q.name: q for q in queues})


def ready(r: Router, agent_id: str, skills: Mapping[str, int], since: float = 0.0) -> None:
    r.upsert_agent(agent_id, skills)
    r.set_logged_in(agent_id, True)
    r.set_available(agent_id, True, since)


def staffed(r: Router, agent_id: str, skills: Mapping[str, int]) -> None:
    r.upsert_agent(agent_id, skills)
    r.set_logged_in(agent_id, True)


SALES = QueueConfig("sales", {"sales": 2})
BILLING = QueueConfig(
    "billing",
    {"billing": 4},
    relax=(RelaxStep(30, {"billing": 2}), RelaxStep(90, {})),
)


# --- eligibility -------------------------------------------------------------


def test_agent_below_the_minimum_level_does_not_get_the_call() -> None:
    r = router(BILLING)
    ready(r, "low", {"billing": 3})
    r.enqueue("c1", "billing", 0, 0.0)
    assert r.offer_call("c1", 1.0) is None
    ready(r, "high", {"billing": 4})
    assert r.offer_call("c1", 2.0) == Assignment("c1", "high", "billing", 2.0)


def test_agent_missing_a_skill_is_not_eligible() -> None:
    r = router(QueueConfig("q", {"billing": 1, "spanish": 1}))
    ready(r, "a", {"billing": 5})
    r.enqueue("c1", "q", 0, 0.0)
    assert r.offer_call("c1", 1.0) is None
    assert r.offer_agent("a", 1.0) is None


def test_queue_without_requirements_takes_any_agent() -> None:
    r = router(QueueConfig("any", {}))
    ready(r, "a", {})
    r.enqueue("c1", "any", 0, 0.0)
    assert r.offer_call("c1", 1.0) == Assignment("c1", "a", "any", 1.0)


def test_assignment_takes_the_call_out_of_line_and_the_agent_out_of_service() -> None:
    r = router(SALES)
    ready(r, "a", {"sales": 3})
    r.enqueue("c1", "sales", 0, 0.0)
    r.enqueue("c2", "sales", 0, 1.0)
    assert r.offer_agent("a", 5.0) == Assignment("c1", "a", "sales", 5.0)
    assert r.waiting() == ["c2"]
    assert not r.is_available("a")
    assert r.offer_agent("a", 6.0) is None
    assert r.offer_call("c2", 6.0) is None


# --- who deserves an agent ---------------------------------------------------


def test_higher_priority_goes_first_even_if_younger() -> None:
    r = router(SALES)
    r.enqueue("old", "sales", 0, 0.0)
    r.enqueue("vip", "sales", 5, 50.0)
    ready(r, "a", {"sales": 2})
    assert r.offer_agent("a", 60.0) == Assignment("vip", "a", "sales", 10.0)


def test_weights_decide_between_queues() -> None:
    urgent = QueueConfig("urgent", {"x": 1}, weight=2.0)
    normal = QueueConfig("normal", {"x": 1})
    r = router(urgent, normal)
    r.enqueue("n", "normal", 0, 0.0)  # waits 50 s, weighted 50
    r.enqueue("u", "urgent", 0, 20.0)  # waits 30 s, weighted 60
    ready(r, "a", {"x": 1})
    assert r.offer_agent("a", 50.0) == Assignment("u", "a", "urgent", 30.0)


def test_equal_weighted_waits_go_to_the_earlier_call_then_the_smaller_id() -> None:
    double = QueueConfig("double", {}, weight=2.0)
    single = QueueConfig("single", {})
    r = router(double, single)
    r.enqueue("s", "single", 0, 0.0)  # 40 s x 1 = 40
    r.enqueue("d", "double", 0, 20.0)  # 20 s x 2 = 40
    r.enqueue("b", "single", 0, 10.0)
    r.enqueue("a", "single", 0, 10.0)
    for agent in ("x", "y", "z", "w"):
        ready(r, agent, {})
    assert [r.offer_agent(agent, 40.0).call_id for agent in "xyzw"] == ["s", "d", "a", "b"]  # type: ignore[union-attr]


def test_an_agent_skips_calls_it_cannot_take() -> None:
    r = router(SALES, BILLING)
    r.enqueue("b", "billing", 0, 0.0)
    r.enqueue("s", "sales", 0, 5.0)
    ready(r, "a", {"sales": 5, "billing": 3})
    assert r.offer_agent("a", 10.0) == Assignment("s", "a", "sales", 5.0)


# --- which agent a call gets ---------------------------------------------------


def test_longest_idle_agent_gets_the_call() -> None:
    r = router(SALES)
    ready(r, "busy-lately", {"sales": 5}, since=30.0)
    ready(r, "idle-long", {"sales": 2}, since=10.0)
    ready(r, "unqualified", {"sales": 1}, since=0.0)
    r.enqueue("c1", "sales", 0, 40.0)
    assert r.offer_call("c1", 40.0) == Assignment("c1", "idle-long", "sales", 0.0)


def test_longest_idle_ties_go_to_the_smaller_agent_id() -> None:
    r = router(SALES)
    ready(r, "b", {"sales": 2}, since=10.0)
    ready(r, "a", {"sales": 2}, since=10.0)
    r.enqueue("c1", "sales", 0, 40.0)
    assert r.offer_call("c1", 40.0) == Assignment("c1", "a", "sales", 0.0)


def test_most_proficient_counts_levels_of_the_required_skills_only() -> None:
    expert = QueueConfig("expert", {"a": 1, "b": 1}, strategy=Strategy.MOST_PROFICIENT)
    r = router(expert)
    ready(r, "generalist", {"a": 2, "b": 2, "c": 5}, since=0.0)
    ready(r, "specialist", {"a": 5, "b": 1}, since=20.0)
    r.enqueue("c1", "expert", 0, 30.0)
    assert r.offer_call("c1", 30.0) == Assignment("c1", "specialist", "expert", 0.0)


def test_most_proficient_ties_go_to_the_longest_idle() -> None:
    expert = QueueConfig("expert", {"a": 1}, strategy=Strategy.MOST_PROFICIENT)
    r = router(expert)
    ready(r, "a1", {"a": 4}, since=20.0)
    ready(r, "a2", {"a": 4}, since=5.0)
    r.enqueue("c1", "expert", 0, 30.0)
    assert r.offer_call("c1", 30.0) == Assignment("c1", "a2", "expert", 0.0)


# --- relaxation ---------------------------------------------------------------


def test_a_call_needing_billing_4_goes_to_billing_2_after_the_relax_time() -> None:
    r = router(BILLING)
    ready(r, "junior", {"billing": 2})
    r.enqueue("c1", "billing", 0, 100.0)
    assert r.offer_call("c1", 100.0) is None
    assert r.requirements("c1", 100.0) == {"billing": 4}
    assert r.next_relax_at() == 130.0
    assert r.relax_due(129.9) == []
    assert r.relax_due(130.0) == [Assignment("c1", "junior", "billing", 30.0)]
    assert r.next_relax_at() is None


def test_relaxing_to_anyone_reaches_an_agent_without_the_skill() -> None:
    r = router(BILLING)
    ready(r, "sales-only", {"sales": 3})
    r.enqueue("c1", "billing", 0, 0.0)
    assert r.relax_due(30.0) == []
    assert r.next_relax_at() == 90.0
    assert r.relax_due(95.0) == [Assignment("c1", "sales-only", "billing", 95.0)]


def test_offer_agent_sees_relaxed_requirements_without_relax_due() -> None:
    r = router(BILLING)
    r.enqueue("c1", "billing", 0, 0.0)
    ready(r, "junior", {"billing": 2})
    assert r.offer_agent("junior", 29.0) is None
    r.set_available("junior", True, 0.0)
    assert r.offer_agent("junior", 31.0) == Assignment("c1", "junior", "billing", 31.0)


def test_two_relaxed_calls_wanting_one_agent_go_by_priority() -> None:
    r = router(BILLING)
    r.enqueue("old", "billing", 0, 0.0)
    r.enqueue("young-vip", "billing", 3, 10.0)
    ready(r, "junior", {"billing": 2})
    assert r.relax_due(45.0) == [Assignment("young-vip", "junior", "billing", 35.0)]
    assert r.waiting() == ["old"]


def test_next_relax_at_ignores_calls_that_left() -> None:
    r = router(BILLING)
    r.enqueue("c1", "billing", 0, 0.0)
    r.enqueue("c2", "billing", 0, 10.0)
    r.remove_call("c1")
    assert r.next_relax_at() == 40.0
    r.remove_call("c2")
    assert r.next_relax_at() is None


def test_queues_without_relax_steps_schedule_nothing() -> None:
    r = router(SALES)
    r.enqueue("c1", "sales", 0, 0.0)
    assert r.next_relax_at() is None
    assert r.relax_due(1e9) == []


# --- ring-no-answer and removal -------------------------------------------------


def test_ring_no_answer_puts_the_call_back_at_the_head_of_its_line() -> None:
    r = router(SALES)
    for index, call in enumerate(["c1", "c2", "c3"]):
        r.enqueue(call, "sales", 0, float(index))
    ready(r, "a", {"sales": 2})
    assert r.offer_agent("a", 10.0) == Assignment("c1", "a", "sales", 10.0)
    r.enqueue("c4", "sales", 0, 12.0)
    r.enqueue("c1", "sales", 0, 0.0)  # the agent did not answer
    assert r.waiting("sales") == ["c1", "c2", "c3", "c4"]
    ready(r, "b", {"sales": 2})
    assert r.offer_agent("b", 30.0) == Assignment("c1", "b", "sales", 30.0)


def test_removed_calls_are_gone_and_removal_is_idempotent() -> None:
    r = router(SALES)
    r.enqueue("c1", "sales", 0, 0.0)
    r.enqueue("c2", "sales", 0, 1.0)
    assert r.remove_call("c1") is True
    assert r.remove_call("c1") is False
    ready(r, "a", {"sales": 2})
    assert r.offer_agent("a", 5.0) == Assignment("c2", "a", "sales", 4.0)
    with pytest.raises(KeyError, match="c1"):
        r.offer_call("c1", 5.0)


def test_the_same_call_cannot_wait_twice() -> None:
    r = router(SALES)
    r.enqueue("c1", "sales", 0, 0.0)
    with pytest.raises(ValueError, match="already waiting"):
        r.enqueue("c1", "sales", 1, 0.0)


def test_unknown_queue_agent_or_call() -> None:
    r = router(SALES)
    with pytest.raises(KeyError, match="nowhere"):
        r.enqueue("c1", "nowhere", 0, 0.0)
    with pytest.raises(KeyError, match="ghost"):
        r.offer_agent("ghost", 0.0)
    with pytest.raises(KeyError, match="ghost"):
        r.set_logged_in("ghost", True)
    with pytest.raises(KeyError, match="c9"):
        r.requirements("c9", 0.0)
    assert r.remove_agent("ghost") is False


# --- agents -------------------------------------------------------------------


def test_an_agent_must_be_logged_in_to_be_available() -> None:
    r = router(SALES)
    r.upsert_agent("a", {"sales": 3})
    with pytest.raises(ValueError, match="logged in"):
        r.set_available("a", True, 0.0)


def test_logging_out_ends_availability() -> None:
    r = router(SALES)
    ready(r, "a", {"sales": 3})
    r.set_logged_in("a", False)
    assert not r.is_available("a")
    r.enqueue("c1", "sales", 0, 0.0)
    assert r.offer_call("c1", 1.0) is None


def test_removed_agents_get_no_calls() -> None:
    r = router(SALES)
    ready(r, "a", {"sales": 3})
    assert r.remove_agent("a") is True
    r.enqueue("c1", "sales", 0, 0.0)
    assert r.offer_call("c1", 1.0) is None
    assert r.eligible_staffed("c1", 1.0) == []


def test_new_skills_apply_at_once() -> None:
    r = router(SALES)
    ready(r, "a", {"billing": 3})
    r.enqueue("c1", "sales", 0, 0.0)
    assert r.offer_call("c1", 1.0) is None
    r.upsert_agent("a", {"sales": 2})
    assert r.is_available("a")
    assert r.offer_agent("a", 2.0) == Assignment("c1", "a", "sales", 2.0)


def test_agent_skill_levels_are_validated() -> None:
    r = router(SALES)
    with pytest.raises(ValueError, match="agent 'a'"):
        r.upsert_agent("a", {"sales": 7})


# --- configuration changes --------------------------------------------------------


def test_set_queues_keeps_places_and_applies_new_requirements() -> None:
    r = router(SALES)
    for index, call in enumerate(["c1", "c2", "c3"]):
        r.enqueue(call, "sales", 0, float(index))
    ready(r, "a", {"sales": 1})
    assert r.offer_agent("a", 5.0) is None
    r.set_queues({"sales": QueueConfig("sales", {"sales": 1})})
    assert r.waiting() == ["c1", "c2", "c3"]
    assert r.offer_agent("a", 5.0) == Assignment("c1", "a", "sales", 5.0)


def test_set_queues_reschedules_relaxation() -> None:
    r = router(SALES)
    r.enqueue("c1", "sales", 0, 0.0)
    r.relax_due(10.0)
    assert r.next_relax_at() is None
    relaxing = QueueConfig("sales", {"sales": 2}, relax=(RelaxStep(5, {"sales": 1}),))
    r.set_queues({"sales": relaxing})
    # The new step is already due: the service's timer fires at once.
    assert r.next_relax_at() == pytest.approx(10.0)
    ready(r, "a", {"sales": 1})
    assert r.relax_due(10.0) == [Assignment("c1", "a", "sales", 10.0)]


def test_set_queues_refuses_to_drop_a_queue_with_waiting_calls() -> None:
    r = router(SALES, BILLING)
    r.enqueue("c1", "sales", 0, 0.0)
    with pytest.raises(ValueError, match="'sales'"):
        r.set_queues({"billing": BILLING})
    r.remove_call("c1")
    r.set_queues({"billing": BILLING})


def test_queue_names_must_match_their_keys() -> None:
    with pytest.raises(ValueError, match="registered under"):
        Router({"other": SALES})


# --- IVR extra requirements ------------------------------------------------------


def test_extra_requirements_from_the_ivr_pick_the_agent() -> None:
    r = router(SALES)
    ready(r, "english", {"sales": 5}, since=0.0)
    ready(r, "spanish", {"sales": 2, "spanish": 4}, since=10.0)
    r.enqueue("c1", "sales", 0, 20.0, extra={"spanish": 3})
    assert r.offer_call("c1", 20.0) == Assignment("c1", "spanish", "sales", 0.0)


def test_extra_requirements_survive_relaxation_until_anyone() -> None:
    r = router(BILLING)
    ready(r, "english", {"billing": 5})
    r.enqueue("c1", "billing", 0, 0.0, extra={"spanish": 3})
    assert r.relax_due(30.0) == []
    assert r.requirements("c1", 30.0) == {"billing": 2, "spanish": 3}
    assert r.relax_due(90.0) == [Assignment("c1", "english", "billing", 90.0)]


def test_calls_with_and_without_extras_share_the_line_fairly() -> None:
    r = router(SALES)
    r.enqueue("spanish", "sales", 0, 0.0, extra={"spanish": 3})
    r.enqueue("plain", "sales", 0, 5.0)
    ready(r, "bilingual", {"sales": 3, "spanish": 3})
    assert r.offer_agent("bilingual", 10.0) == Assignment("spanish", "bilingual", "sales", 10.0)


def test_invalid_extra_levels_are_refused() -> None:
    r = router(SALES)
    with pytest.raises(ValueError, match="extra"):
        r.enqueue("c1", "sales", 0, 0.0, extra={"spanish": 0})


# --- wallboard and estimates ------------------------------------------------------


def test_waiting_lists_calls_in_service_order() -> None:
    double = QueueConfig("double", {}, weight=2.0)
    r = router(SALES, double)
    r.enqueue("s-old", "sales", 0, 0.0)
    r.enqueue("s-vip", "sales", 1, 30.0)
    r.enqueue("d-new", "double", 0, 20.0)
    assert r.waiting("sales") == ["s-vip", "s-old"]
    assert r.waiting("double") == ["d-new"]
    assert r.waiting() == ["s-vip", "s-old", "d-new"]
    # At 50 s, d-new's weighted wait (60) beats s-old's (50).
    assert r.waiting(now=50.0) == ["s-vip", "d-new", "s-old"]


def test_eligible_staffed_counts_busy_agents_but_not_logged_out_ones() -> None:
    r = router(BILLING)
    staffed(r, "busy", {"billing": 4})
    ready(r, "ready", {"billing": 5})
    r.upsert_agent("home", {"billing": 5})
    staffed(r, "junior", {"billing": 2})
    r.enqueue("c1", "billing", 0, 0.0)
    assert r.eligible_staffed("c1", 0.0) == ["busy", "ready"]
    assert r.eligible_staffed("c1", 30.0) == ["busy", "junior", "ready"]


def test_calls_ahead_counts_only_calls_competing_for_the_same_agents() -> None:
    spanish = QueueConfig("spanish", {"spanish": 3})
    r = router(SALES, BILLING, spanish)
    staffed(r, "s1", {"sales": 3})
    staffed(r, "b1", {"billing": 4, "sales": 2})
    staffed(r, "e1", {"spanish": 5})
    r.enqueue("sales-old", "sales", 0, 0.0)
    r.enqueue("billing-old", "billing", 0, 5.0)
    r.enqueue("spanish-old", "spanish", 0, 1.0)  # other agents entirely
    r.enqueue("sales-vip", "sales", 2, 15.0)
    r.enqueue("me", "sales", 0, 10.0)
    r.enqueue("sales-young", "sales", 0, 12.0)  # behind me
    # sales-old (older), billing-old (shares b1, older), sales-vip (priority).
    assert r.calls_ahead("me", 20.0) == 3
    assert r.calls_ahead("sales-old", 20.0) == 1  # only the VIP
    assert r.calls_ahead("spanish-old", 20.0) == 0


def test_calls_ahead_uses_current_requirements_of_the_calls_in_front() -> None:
    r = router(SALES, BILLING)
    staffed(r, "b2", {"billing": 2, "sales": 2})
    r.enqueue("billing-old", "billing", 0, 0.0)
    r.enqueue("me", "sales", 0, 1.0)
    assert r.calls_ahead("me", 10.0) == 0  # billing-old still needs billing 4
    assert r.calls_ahead("me", 30.0) == 1  # now b2 may take it


def test_calls_ahead_is_zero_without_eligible_agents() -> None:
    r = router(SALES)
    r.enqueue("c1", "sales", 0, 0.0)
    r.enqueue("c2", "sales", 0, 1.0)
    assert r.calls_ahead("c2", 5.0) == 0


def test_eligible_over_time_says_when_a_relax_step_lets_each_agent_in() -> None:
    r = router(BILLING)
    staffed(r, "senior", {"billing": 4})
    staffed(r, "junior", {"billing": 2})
    staffed(r, "sales", {"sales": 3})  # any agent will do after 90 s
    r.upsert_agent("home", {"billing": 5})  # not logged in: never
    r.enqueue("c1", "billing", 0, 0.0)
    assert sorted(r.eligible_over_time("c1", 10.0)) == [
        ("junior", 20.0), ("sales", 80.0), ("senior", 0.0),
    ]  # fmt: skip
    assert sorted(r.eligible_over_time("c1", 40.0)) == [
        ("junior", 0.0), ("sales", 50.0), ("senior", 0.0),
    ]  # fmt: skip


def test_expected_ahead_weighs_other_queues_by_the_agents_they_share() -> None:
    """A sales call ahead that four agents may take, one of whom may also take this
    billing caller, counts a quarter; a billing call ahead counts whole."""
    billing = QueueConfig("billing", {"billing": 1})
    r = router(SALES, billing)
    for n in range(3):
        staffed(r, f"s{n}", {"sales": 3})
    staffed(r, "both", {"sales": 3, "billing": 2})
    staffed(r, "b1", {"billing": 2})
    r.enqueue("sales-1", "sales", 0, 0.0)
    r.enqueue("sales-2", "sales", 0, 1.0)
    r.enqueue("billing-1", "billing", 0, 2.0)
    r.enqueue("me", "billing", 0, 3.0)
    assert r.calls_ahead("me", 10.0) == 3
    assert r.expected_ahead("me", 10.0) == pytest.approx(1 + 2 * 0.25)
    assert r.expected_ahead("sales-2", 10.0) == pytest.approx(1.0)


# --- a caller transferred to a queue passes over the agent who transferred them -----


def test_a_transferred_call_is_not_offered_to_the_agent_who_transferred_it() -> None:
    r = router(SALES)
    ready(r, "sender", {"sales": 5}, since=0.0)  # longest idle: would win
    ready(r, "other", {"sales": 5}, since=5.0)
    r.enqueue("c1", "sales", 0, 0.0, avoid=("sender", 70.0))
    assert r.offer_call("c1", 10.0) == Assignment("c1", "other", "sales", 10.0)


def test_the_agent_who_transferred_gets_the_next_call_in_line_instead() -> None:
    r = router(SALES)
    staffed(r, "sender", {"sales": 5})
    r.enqueue("c1", "sales", 0, 0.0, avoid=("sender", 70.0))  # the oldest
    r.enqueue("c2", "sales", 0, 5.0)
    r.set_available("sender", True, 10.0)
    assert r.offer_agent("sender", 10.0) == Assignment("c2", "sender", "sales", 5.0)
    assert r.waiting() == ["c1"]


def test_the_agent_who_transferred_is_offered_nothing_when_only_that_call_waits() -> None:
    r = router(SALES)
    staffed(r, "sender", {"sales": 5})
    r.enqueue("c1", "sales", 0, 0.0, avoid=("sender", 70.0))
    r.set_available("sender", True, 10.0)
    assert r.offer_agent("sender", 10.0) is None
    assert r.offer_call("c1", 11.0) is None
    assert r.waiting() == ["c1"]


def test_after_the_window_the_call_goes_back_to_its_sender_if_nobody_took_it() -> None:
    r = router(SALES)
    staffed(r, "sender", {"sales": 5})
    r.enqueue("c1", "sales", 0, 0.0, avoid=("sender", 70.0))
    r.set_available("sender", True, 10.0)
    assert r.offer_agent("sender", 10.0) is None
    assert r.next_relax_at() == 70.0  # the timer that offers it again
    assert r.relax_due(69.0) == []
    assert r.relax_due(70.0) == [Assignment("c1", "sender", "sales", 70.0)]
    assert r.next_relax_at() is None


def test_once_the_window_is_over_the_sender_may_take_it_when_free_again() -> None:
    r = router(SALES)
    staffed(r, "sender", {"sales": 5})
    r.enqueue("c1", "sales", 0, 0.0, avoid=("sender", 70.0))
    assert r.relax_due(70.0) == []  # nobody free then
    r.set_available("sender", True, 80.0)
    assert r.offer_agent("sender", 80.0) == Assignment("c1", "sender", "sales", 80.0)


def test_the_avoidance_is_kept_when_the_call_comes_back_after_a_ring_no_answer() -> None:
    r = router(SALES)
    ready(r, "sender", {"sales": 5}, since=0.0)
    ready(r, "other", {"sales": 5}, since=5.0)
    r.enqueue("c1", "sales", 0, 0.0, avoid=("sender", 70.0))
    assert r.offer_call("c1", 10.0) == Assignment("c1", "other", "sales", 10.0)
    r.enqueue("c1", "sales", 0, 0.0, avoid=("sender", 70.0))  # "other" did not answer
    assert r.offer_call("c1", 30.0) is None
    assert r.offer_agent("sender", 30.0) is None


def test_an_avoidance_already_over_is_ignored() -> None:
    r = router(SALES)
    ready(r, "sender", {"sales": 5})
    r.offer_agent("sender", 100.0)  # the router's clock at 100
    r.enqueue("c1", "sales", 0, 0.0, avoid=("sender", 70.0))
    assert r.offer_call("c1", 100.0) == Assignment("c1", "sender", "sales", 100.0)


def test_a_call_that_left_the_line_ends_its_avoidance() -> None:
    r = router(SALES)
    r.enqueue("c1", "sales", 0, 0.0, avoid=("sender", 70.0))
    r.remove_call("c1")
    assert r.next_relax_at() is None
