"""Prompts nobody can play are refused where a flow or a queue is written (pure)."""

from __future__ import annotations

import copy
from typing import Any, get_args

import pytest

from callcenter.core.ivr import FlowError, load_flow
from callcenter.core.ivr.nodes import PROMPT_FIELDS, Node
from callcenter.core.prompts import KnownPrompts, missing_prompts
from callcenter.core.queues import QueueSettings
from tests.e2e.sites import menu_flow, queue_node
from tests.unit.ivr.flows import FULL, QUEUES

KNOWN = KnownPrompts(frozenset({"beep", "pbx-invalid", "vm-sorry", "digits/1"}), frozenset({"hi"}))


def test_a_sound_asterisk_has_or_a_site_prompt_can_be_played() -> None:
    for prompt in ("beep", "digits/1", "custom/hi"):
        assert KNOWN.why_not(prompt) is None


def test_an_unknown_sound_is_named_with_the_closest_known_one() -> None:
    why = KNOWN.why_not("pbx-invalidd")
    assert why is not None
    assert "no prompt 'pbx-invalidd'" in why
    assert "neither among Asterisk's sounds nor the site's own" in why
    assert "did you mean 'pbx-invalid'?" in why


def test_an_unknown_site_prompt_says_how_to_make_it() -> None:
    why = KNOWN.why_not("custom/welcome")
    assert why is not None
    assert "the site has no prompt 'welcome'" in why
    assert "`callcenter prompt say welcome TEXT`" in why


def test_a_site_prompt_named_without_custom_is_pointed_at() -> None:
    why = KNOWN.why_not("hi")
    assert why is not None and "did you mean 'custom/hi'?" in why


def test_a_sound_named_as_a_site_prompt_is_pointed_at() -> None:
    why = KNOWN.why_not("custom/beep")
    assert why is not None and "did you mean 'beep'?" in why


def test_without_asterisks_sounds_only_the_sites_own_are_checked() -> None:
    unknown_sounds = KnownPrompts(None, frozenset({"hi"}))
    assert unknown_sounds.why_not("anything-at-all") is None
    assert unknown_sounds.why_not("custom/hi") is None
    assert unknown_sounds.why_not("custom/nope") is not None


def test_missing_prompts_keeps_where_each_one_was_named() -> None:
    used = [("prompts.0", "beep"), ("invalid_prompt", "option-is-invalid")]
    [(where, why)] = missing_prompts(used, KNOWN)
    assert where == "invalid_prompt" and "'option-is-invalid'" in why


# -- flows -------------------------------------------------------------------------------
def menu(**welcome: Any) -> dict[str, Any]:
    flow = menu_flow({"1": "q"}, {"q": queue_node("sales")})
    flow["nodes"]["welcome"].update(welcome)
    return flow


def test_a_flow_naming_an_unknown_prompt_is_refused_naming_node_field_and_prompt() -> None:
    with pytest.raises(FlowError) as refused:
        load_flow(menu(invalid_prompt="option-is-invalid"), prompts=KNOWN, source="flows.main")
    [problem] = refused.value.problems
    assert (problem.node, problem.field) == ("welcome", "invalid_prompt")
    assert str(refused.value).startswith(
        "flows.main: node 'welcome', field 'invalid_prompt': no prompt 'option-is-invalid'"
    )


def test_every_prompt_of_a_list_is_checked_and_placed() -> None:
    with pytest.raises(FlowError) as refused:
        load_flow(menu(prompts=["beep", "custom/hello"]), prompts=KNOWN)
    assert [(p.node, p.field) for p in refused.value.problems] == [("welcome", "prompts.1")]


def test_a_flow_of_known_prompts_loads_and_none_means_not_checked() -> None:
    assert load_flow(menu(), prompts=KNOWN).name == "main"
    assert load_flow(menu(invalid_prompt="option-is-invalid")).name == "main"


def test_every_node_type_offers_its_prompts_for_the_check() -> None:
    flow = copy.deepcopy(FULL)
    known = KnownPrompts(frozenset(), frozenset())  # nothing at all can be played
    with pytest.raises(FlowError) as refused:
        load_flow(flow, queues=QUEUES, schedules={"office"}, prompts=known)
    named = {(p.node, p.field) for p in refused.value.problems}
    expected = {
        (name, field)
        for name, node in load_flow(flow, queues=QUEUES, schedules={"office"}).nodes.items()
        for field, _ in node.sounds()
    }
    assert named == expected
    assert {node for node, _ in named} >= {"welcome", "account", "pin", "say_balance", "closed"}


def test_no_node_field_names_a_prompt_the_check_would_miss() -> None:
    # A new field playing a sound must be in PROMPT_FIELDS, or its prompts go unchecked.
    node_types = get_args(get_args(Node)[0])
    for node_type in node_types:
        for name in node_type.model_fields:
            if "prompt" in name:
                assert name in PROMPT_FIELDS, f"{node_type.__name__}.{name}"


# -- queues ------------------------------------------------------------------------------
def test_a_queue_offers_its_overflow_announce_and_callback_prompts() -> None:
    queue = QueueSettings.model_validate(
        {
            "name": "sales",
            "on_closed": {"action": "hangup", "prompt": "custom/closed"},
            "on_unstaffed": {"action": "voicemail", "target": "sales", "prompt": ""},
            "callback": {"offer_prompts": ["custom/keep-your-place"]},
            "announce": {"unreliable": "few_minutes", "few_minutes_prompt": "custom/few"},
        }
    )
    assert queue.sounds() == [
        ("on_max_wait.prompt", "vm-nobodyavail"),
        ("on_closed.prompt", "custom/closed"),
        ("announce.few_minutes_prompt", "custom/few"),
        ("callback.offer_prompts.0", "custom/keep-your-place"),
        ("callback.thanks_prompts.0", "auth-thankyou"),
        ("callback.thanks_prompts.1", "goodbye"),
        ("callback.refused_prompts.0", "im-sorry"),
        ("callback.refused_prompts.1", "cannot-complete-as-dialed"),
    ]
