"""The agents' call-control codes (core/phone_codes.py): checks, the applicationmap,
keyed targets."""

from __future__ import annotations

import pytest

from callcenter.core.phone_codes import (
    DEFAULT_CODES,
    KeyedTarget,
    PhoneAction,
    action_for_keys,
    applicationmap,
    check_codes,
    conference_menu,
    dynamic_features,
    keyed_target,
)

QUEUES = ["billing", "support"]


def test_default_codes_are_valid_and_enable_every_action() -> None:
    codes = check_codes(DEFAULT_CODES)
    assert set(codes) == set(PhoneAction)
    features = dynamic_features(codes).split("#")
    assert features == sorted(features) and len(features) == len(PhoneAction)


def test_applicationmap_runs_the_gosub_on_the_pressing_leg() -> None:
    lines = applicationmap({PhoneAction.HOLD: "*1"}, "cc-phone-code")
    assert lines == "cc_hold => *1,self,Gosub(cc-phone-code,hold,1)\n"


def test_in_a_conference_only_leaving_is_a_code_and_it_escapes_to_the_dialplan() -> None:
    menu = conference_menu(check_codes(DEFAULT_CODES), "cc-conf-code")
    assert menu.splitlines() == [
        "[cc_agent_menu]",
        "type = menu",
        "*4 = dialplan_exec(cc-conf-code,complete,1)",
    ]


@pytest.mark.parametrize(
    "codes",
    [
        {"hold": "1"},  # must begin with * or #
        {"hold": "*"},  # too short
        {"hold": "*1234"},  # too long
        {"hold": "*1;x"},
        {"park": "*9"},  # no such action
        {"hold": "*1", "transfer": "*1"},  # twice
        {"hold": "*1", "transfer": "*12"},  # one begins the other
    ],
)
def test_bad_codes_are_refused(codes: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        check_codes(codes)


def test_keys_pressed_on_hold_name_their_action() -> None:
    codes = check_codes(DEFAULT_CODES)
    assert action_for_keys("*1", codes) is PhoneAction.HOLD
    assert action_for_keys("*5", codes) is PhoneAction.CANCEL
    assert action_for_keys("*9", codes) is None
    assert action_for_keys("", codes) is None


@pytest.mark.parametrize(
    ("keys", "target"),
    [
        ("*1", KeyedTarget("queue", "billing")),
        ("*2#", KeyedTarget("queue", "support")),
        ("*3", None),  # no third queue
        ("*0", None),
        ("1001", KeyedTarget("extension", "1001")),
        ("12", KeyedTarget("extension", "12")),
        ("2125550100", KeyedTarget("number", "2125550100")),
        ("0012125550100#", KeyedTarget("number", "0012125550100")),
        ("1", None),
        ("", None),
        ("#", None),
        ("12*4", None),
        ("9" * 21, None),
    ],
)
def test_keyed_targets(keys: str, target: KeyedTarget | None) -> None:
    assert keyed_target(keys, QUEUES) == target
