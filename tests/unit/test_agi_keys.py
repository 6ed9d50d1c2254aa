"""One AGI command per prompt-and-keys (adapters/agi/keys.py) and batched variable sets."""

from __future__ import annotations

import pytest

from callcenter.adapters.agi.keys import GetData, ReadApp, get_data_keys, plan, read_back
from callcenter.adapters.agi.session import batch

# -- which command ---------------------------------------------------------------------------


def test_a_one_prompt_menu_on_an_answered_channel_is_one_get_data() -> None:
    command = plan(("main-menu",), 1, 5.0, None, answered=True)
    assert command == GetData("main-menu", 5000, 1, hash_is_key=True)


def test_a_hash_ended_entry_with_one_prompt_is_get_data_where_hash_ends_it() -> None:
    command = plan(("enter-account",), 8, 2.5, "#", answered=True)
    assert command == GetData("enter-account", 2500, 8, hash_is_key=False)


def test_a_menu_on_a_ringing_channel_is_read_which_answers_it() -> None:
    command = plan(("main-menu",), 1, 5.0, None, answered=False)
    assert command == ReadApp("CC_KEYS,main-menu,1,t(),1,5")


def test_several_prompts_are_one_read_playing_them_in_turn() -> None:
    # GET DATA takes "a&b" for one (missing) file, so a list always goes to Read().
    command = plan(("welcome", "main-menu"), 1, 2.0, None, answered=True)
    assert command == ReadApp("CC_KEYS,welcome&main-menu,1,t(),1,2")


def test_another_terminator_or_none_is_read_with_its_t_option() -> None:
    assert plan(("enter",), 6, 3.25, "*", answered=True) == ReadApp("CC_KEYS,enter,6,t(*),1,3.25")
    assert plan(("enter",), 6, 3.0, None, answered=True) == ReadApp("CC_KEYS,enter,6,t(),1,3")
    # One key that '#' would end: '#' must stay the terminator, not a key.
    assert plan(("a", "b"), 1, 1.5, "#", answered=True) == ReadApp("CC_KEYS,a&b,1,t(#),1,1.5")


@pytest.mark.parametrize("prompt", ["a,b", "a&b", "x)", "bad name", "a\nb", ""])
def test_a_prompt_that_would_be_syntax_is_refused(prompt: str) -> None:
    with pytest.raises(ValueError):
        plan((prompt,), 1, 1.0, None, answered=False)


def test_out_of_range_reads_are_refused() -> None:
    with pytest.raises(ValueError):
        plan(("a",), 0, 1.0, None, answered=True)
    with pytest.raises(ValueError):
        plan(("a",), 1, 1.0, "1", answered=True)


# -- what Asterisk answered ----------------------------------------------------------------------

MENU = GetData("m", 1000, 1, hash_is_key=True)
ENTRY = GetData("e", 1000, 8, hash_is_key=False)


@pytest.mark.parametrize(
    ("result", "timed_out", "command", "keys"),
    [
        ("5", False, MENU, "5"),
        ("", True, MENU, ""),  # "200 result= (timeout)": no key
        ("", False, MENU, "#"),  # "200 result=": '#' pressed first, the menu key '#'
        ("", False, ENTRY, ""),  # the same for an entry: '#' alone ends it empty
        ("12", True, ENTRY, "12"),  # some keys, then the timeout
        ("-1", False, MENU, ""),
    ],
)
def test_get_data_replies(result: str, timed_out: bool, command: GetData, keys: str) -> None:
    assert get_data_keys(result, timed_out, command) == keys


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("OK,5", ("OK", "5")),
        ("OK,#", ("OK", "#")),
        ("TIMEOUT,", ("TIMEOUT", "")),
        ("HANGUP,", ("HANGUP", "")),
        ("", ("ERROR", "")),
        ("OK,5;x", ("ERROR", "")),
    ],
)
def test_read_back(value: str, expected: tuple[str, str]) -> None:
    assert read_back(value) == expected


# -- batched sets ------------------------------------------------------------------------------


def test_plain_values_go_in_one_mset_the_others_one_by_one_in_order() -> None:
    pairs = [
        ("CC_CALL_ID", "c1x"),
        ("CALLERID(name)", "Doe, John"),
        ("__CC_REC_FILE", "/var/spool/rec/2026/c1x.wav"),
        ("CC_STATUS", "WAIT"),
    ]
    mset, others = batch(pairs)
    assert mset == "CC_CALL_ID=c1x,__CC_REC_FILE=/var/spool/rec/2026/c1x.wav,CC_STATUS=WAIT"
    assert others == [("CALLERID(name)", "Doe, John")]


def test_one_plain_value_is_no_batch() -> None:
    assert batch([("CC_STATUS", "FAIL")]) == ("", [("CC_STATUS", "FAIL")])
    pairs = [("CC_REASON", "no route x"), ("CC_STATUS", "FAIL")]
    assert batch(pairs) == ("", pairs)


@pytest.mark.parametrize("value", ["a,b", "a(b", "${SHELL(id)}", 'a"b', "a\\b", "a b", "a=b"])
def test_values_msets_parser_would_read_as_syntax_go_alone(value: str) -> None:
    mset, others = batch([("CC_A", "ok"), ("CC_B", value), ("CC_C", "")])
    assert mset == "CC_A=ok,CC_C="
    assert others == [("CC_B", value)]
