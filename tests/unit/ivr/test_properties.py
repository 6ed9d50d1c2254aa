"""Properties over random result sequences: the session never misbehaves."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.core.ivr import (
    ANSWERS,
    Action,
    CallerHungUp,
    Digits,
    Done,
    FetchResult,
    Flow,
    IvrSession,
    LookupResult,
    NoInput,
    ProtocolError,
    Result,
    Say,
    VerifyResult,
    load_flow,
)
from callcenter.core.ivr.events import FINAL_ACTIONS
from callcenter.core.ivr.nodes import MenuNode
from tests.unit.ivr.flows import example, full

FLOWS: list[Flow] = [
    load_flow(example("main.toml")),
    load_flow(full()),
    load_flow(
        {
            "name": "loop",
            "start": "m",
            "nodes": {
                "m": {"type": "menu", "prompts": ["m"], "choices": {"1": "l", "2": "f"}},
                "l": {
                    "type": "lookup",
                    "source": "caller_number",
                    "next_found": "v",
                    "next_not_found": "m",
                },
                "v": {
                    "type": "verify",
                    "prompts": ["p"],
                    "digits": 4,
                    "field": "pin",
                    "next_ok": "f",
                    "next_fail": "m",
                },
                "f": {
                    "type": "fetch",
                    "url": "http://x/{caller}",
                    "store_prefix": "f_",
                    "next_ok": "s",
                    "next_error": "m",
                },
                "s": {"type": "say", "say": "digits", "value": "f_n", "next": "m"},
            },
        }
    ),
]
MAX = 40
DATA_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_-]+)?$")

typed = st.text(alphabet="0123456789*#ab \x00\u0661", max_size=12)
fields: st.SearchStrategy[Any] = st.dictionaries(
    st.text(alphabet="abcxyz_AB1 ", max_size=6),
    st.one_of(st.text(max_size=70), st.integers()),  # adapters may send anything
    max_size=5,
)
results = st.one_of(
    st.builds(Digits, typed),
    st.just(NoInput()),
    st.just(Done()),
    st.builds(LookupResult, st.booleans(), fields, st.booleans()),
    st.builds(VerifyResult, st.booleans()),
    st.builds(FetchResult, st.booleans(), fields),
    st.just(CallerHungUp()),
)
callers = st.sampled_from(["", "+15551234", "anonymous", "100", "1;2"])


def answers(action: Action | None) -> tuple[type, ...]:
    return () if action is None else (*ANSWERS[type(action)], CallerHungUp)


def check_invariants(session: IvrSession, action: Action) -> None:
    assert session.steps <= MAX
    assert len(session.path) == session.steps
    if isinstance(action, FINAL_ACTIONS):
        assert session.finished and session.pending is None
    else:
        assert not session.finished and session.pending == action
    for key, value in session.data.items():
        assert DATA_KEY.match(key), key
        assert len(value) <= 64 and value.isprintable()
    if isinstance(action, Say):
        assert re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", action.value)
    for key, value in session.data.items():
        if key.startswith("menu."):  # only keys the menu offers are ever recorded
            menu = session.flow.nodes[key.removeprefix("menu.")]
            assert isinstance(menu, MenuNode) and value in menu.choices


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(FLOWS),
    callers,
    st.sampled_from([True, False, None]),
    st.lists(results, max_size=60),
)
def test_any_results_give_an_action_or_a_protocol_error(
    flow: Flow, caller: str, open_now: bool | None, fed: list[Result]
) -> None:
    session = IvrSession(flow, caller=caller, open_now=open_now, max_steps=MAX)
    check_invariants(session, session.start())
    for result in fed:
        pending = session.pending
        if not isinstance(result, answers(pending)):
            before = (session.steps, dict(session.data), session.outcome)
            try:
                session.feed(result)
            except ProtocolError:
                assert (session.steps, session.data, session.outcome) == before
                continue
            raise AssertionError(f"{result!r} for {pending!r} was accepted")
        check_invariants(session, session.feed(result))


def answer_for(action: Action, data: st.DataObject) -> Result:
    draw = data.draw
    kind = draw(st.sampled_from(ANSWERS[type(action)]))
    if kind is Digits:
        return Digits(draw(typed))
    if kind is LookupResult:
        return LookupResult(draw(st.booleans()), draw(fields), draw(st.booleans()))
    if kind is FetchResult:
        return FetchResult(draw(st.booleans()), draw(fields))
    if kind is VerifyResult:
        return VerifyResult(draw(st.booleans()))
    return NoInput() if kind is NoInput else Done()


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FLOWS), callers, st.sampled_from([True, False, None]), st.data())
def test_fitting_answers_always_finish_within_the_step_limit(
    flow: Flow, caller: str, open_now: bool | None, data: st.DataObject
) -> None:
    session = IvrSession(flow, caller=caller, open_now=open_now, max_steps=MAX)
    action = session.start()
    feeds = 0
    while not session.finished:
        # Every answer moves the session at least one step, so it must end.
        assert feeds <= MAX
        action = session.feed(answer_for(action, data))
        check_invariants(session, action)
        feeds += 1
    assert session.outcome in ("queued", "voicemail", "hangup")
