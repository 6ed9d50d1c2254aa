"""Queue configs: validation and the requirement rules (relax steps, IVR extras)."""

from __future__ import annotations

import pytest

from callcenter.core.acd.model import QueueConfig, RelaxStep, Strategy, meets


def billing_queue() -> QueueConfig:
    return QueueConfig(
        "billing",
        {"billing": 4, "english": 2},
        relax=(RelaxStep(30, {"billing": 2, "english": 2}), RelaxStep(120, {})),
    )


@pytest.mark.parametrize(
    ("wait", "expected"),
    [
        (-1.0, {"billing": 4, "english": 2}),
        (0.0, {"billing": 4, "english": 2}),
        (29.999, {"billing": 4, "english": 2}),
        (30.0, {"billing": 2, "english": 2}),
        (119.0, {"billing": 2, "english": 2}),
        (120.0, {}),
        (10_000.0, {}),
    ],
)
def test_the_latest_step_reached_applies(wait: float, expected: dict[str, int]) -> None:
    assert billing_queue().requirements_at(wait) == expected


def test_extra_requirements_add_to_the_queue_and_the_higher_level_wins() -> None:
    queue = billing_queue()
    assert queue.requirements_at(0, {"spanish": 3, "english": 4}) == {
        "billing": 4,
        "english": 4,
        "spanish": 3,
    }


def test_extra_requirements_survive_a_step_that_lists_skills() -> None:
    queue = billing_queue()
    assert queue.requirements_at(30, {"spanish": 3, "billing": 3}) == {
        "billing": 3,
        "english": 2,
        "spanish": 3,
    }


def test_an_empty_step_means_anyone_and_drops_extra_requirements_too() -> None:
    assert billing_queue().requirements_at(120, {"spanish": 3}) == {}


def test_a_queue_without_requirements_still_honours_extras() -> None:
    assert QueueConfig("any", {}).requirements_at(50, {"spanish": 2}) == {"spanish": 2}


def test_a_step_at_zero_applies_immediately() -> None:
    queue = QueueConfig("q", {"a": 3}, relax=(RelaxStep(0, {"a": 1}),))
    assert queue.requirements_at(0) == {"a": 1}


def test_tightening_step_is_refused_naming_queue_and_step() -> None:
    with pytest.raises(ValueError, match=r"queue 'billing'.*relax step 1 .*raises 'billing'"):
        QueueConfig(
            "billing",
            {"billing": 4},
            relax=(RelaxStep(30, {"billing": 2}), RelaxStep(60, {"billing": 3})),
        )


def test_a_step_adding_a_skill_is_refused() -> None:
    with pytest.raises(ValueError, match=r"relax step 0 .*adds skill 'french'"):
        QueueConfig("q", {"a": 2}, relax=(RelaxStep(30, {"a": 2, "french": 1}),))


def test_a_step_requiring_something_after_anyone_is_refused() -> None:
    with pytest.raises(ValueError, match="adds skill 'a'"):
        QueueConfig("q", {"a": 2}, relax=(RelaxStep(30, {}), RelaxStep(60, {"a": 1})))


def test_steps_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="must come later"):
        QueueConfig("q", {"a": 3}, relax=(RelaxStep(60, {"a": 2}), RelaxStep(30, {"a": 1})))
    with pytest.raises(ValueError, match="must come later"):
        QueueConfig("q", {"a": 3}, relax=(RelaxStep(30, {"a": 2}), RelaxStep(30, {"a": 1})))


@pytest.mark.parametrize("level", [0, 6, -1, 2.5, True])
def test_levels_outside_one_to_five_are_refused(level: object) -> None:
    with pytest.raises(ValueError, match="level of 'a'"):
        QueueConfig("q", {"a": level})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="level of 'a'"):
        RelaxStep(10, {"a": level})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    "changes",
    [
        {"weight": 0},
        {"weight": -1.0},
        {"ring_timeout": 0},
        {"wrapup": -1},
        {"max_wait": 0},
        {"service_level_target": float("nan")},
        {"name": ""},
    ],
)
def test_nonsense_numbers_are_refused(changes: dict[str, object]) -> None:
    arguments: dict[str, object] = {"name": "q", "requirements": {}} | changes
    with pytest.raises(ValueError):
        QueueConfig(**arguments)  # type: ignore[arg-type]


def test_negative_or_infinite_after_is_refused() -> None:
    with pytest.raises(ValueError, match="after"):
        RelaxStep(-1, {})
    with pytest.raises(ValueError, match="after"):
        RelaxStep(float("inf"), {})


def test_config_does_not_share_the_callers_dict() -> None:
    requirements = {"a": 2}
    queue = QueueConfig("q", requirements)
    requirements["a"] = 5
    assert queue.requirements_at(0) == {"a": 2}
    with pytest.raises(TypeError):
        queue.requirements["a"] = 9  # type: ignore[index]


def test_strategy_accepts_its_string_value() -> None:
    queue = QueueConfig("q", {}, strategy="most_proficient")  # type: ignore[arg-type]
    assert queue.strategy is Strategy.MOST_PROFICIENT


def test_meets_needs_every_skill_at_its_level() -> None:
    assert meets({"a": 3, "b": 1}, {"a": 3})
    assert meets({"a": 3}, {})
    assert not meets({"a": 2}, {"a": 3})
    assert not meets({"a": 5}, {"a": 1, "b": 1})
