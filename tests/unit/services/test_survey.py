"""The post-call survey on the caller's line once the agent hung up
(services/inbound/survey.py), through the dial-result step of the inbound use case."""

from __future__ import annotations

from typing import Any

from callcenter.core.calls.live import LiveCall
from callcenter.core.dialplan import Decision, Status
from callcenter.core.events import SurveyFinished
from callcenter.core.queues import QueueSettings
from tests.fakes.center import RECORDINGS, Center
from tests.fakes.pbx import FakeCallerLine

SURVEY: dict[str, Any] = {
    "enabled": True,
    "questions": [{"prompt": "custom/q-agent"}, {"prompt": "custom/q-solved"}],
    "retry_prompt": "custom/sorry",
    "thanks_prompt": "custom/thanks",
}


def support(survey: dict[str, Any] | None = None) -> QueueSettings:
    return QueueSettings.model_validate({"name": "support", "survey": survey or SURVEY})


async def talked(center: Center, survey: dict[str, Any] | None = None) -> LiveCall:
    """A caller answered by agent1, who then hangs up (Dial's `g`: the caller stays)."""
    center.configure([support(survey)], {"agent1": {}})
    await center.ready("agent1")
    call = center.caller()
    call.recording = "2026/12/07/call0001.wav"
    await center.enqueue(call, "support")
    leg = await center.ring(call, "agent1")
    await center.dial_end(call, leg, "ANSWER")
    await center.advance(30)
    return call


async def agent_hangs_up(center: Center, call: LiveCall, line: FakeCallerLine) -> Status:
    status = await center.inbound.ring_ended(line, call.unique_id, "ANSWER")
    await center.settle()
    return status


async def test_the_caller_rates_each_question_and_hears_thanks(center: Center) -> None:
    call = await talked(center)
    line = FakeCallerLine(survey_keys=["4", "5"])
    assert await agent_hangs_up(center, call, line) == Status.HANGUP
    assert line.heard("rate") == [(("custom/q-agent",),), (("custom/q-solved",),)]
    assert line.heard("play") == [(("custom/thanks",),)]
    assert line.decisions == [Decision(Status.HANGUP)]
    (stored,) = center.of(SurveyFinished)
    assert stored == SurveyFinished(
        at=center.now, call_id=call.call_id, queue="support", agent="agent1", scores=(4, 5)
    )


async def test_a_wrong_key_or_none_is_asked_once_more_then_the_question_is_skipped(
    center: Center,
) -> None:
    call = await talked(center)
    line = FakeCallerLine(survey_keys=["9", "3", "", "#"])
    await agent_hangs_up(center, call, line)
    again = ("custom/sorry", "custom/q-agent")
    assert [step[0] for step in line.heard("rate")] == [
        ("custom/q-agent",), again, ("custom/q-solved",), ("custom/sorry", "custom/q-solved"),
    ]  # fmt: skip
    (stored,) = center.of(SurveyFinished)
    assert stored.scores == (3, None)


async def test_a_caller_who_hangs_up_instead_is_stored_as_not_responded(center: Center) -> None:
    call = await talked(center)
    line = FakeCallerLine(survey_keys=[None])
    await agent_hangs_up(center, call, line)
    (stored,) = center.of(SurveyFinished)
    assert stored.scores == (None, None)
    assert line.heard("play") == []  # no thanks to a caller who is gone


async def test_a_hang_up_after_the_first_rating_keeps_it(center: Center) -> None:
    call = await talked(center)
    await agent_hangs_up(center, call, FakeCallerLine(survey_keys=["2", None]))
    assert center.of(SurveyFinished)[0].scores == (2, None)


async def test_a_comment_is_recorded_beside_the_calls_recording(center: Center) -> None:
    call = await talked(center, {**SURVEY, "comment_prompt": "custom/comment"})
    line = FakeCallerLine(survey_keys=["5", "5"])
    await agent_hangs_up(center, call, line)
    inner = f"{RECORDINGS}/2026/12/07/call0001-comment"
    assert line.heard("record_comment") == [("custom/comment", inner, 30)]
    assert center.of(SurveyFinished)[0].comment == "2026/12/07/call0001-comment.wav"


async def test_no_survey_on_a_queue_without_one(center: Center) -> None:
    call = await talked(center, {"enabled": False})
    line = FakeCallerLine(survey_keys=["5"])
    await agent_hangs_up(center, call, line)
    assert line.heard("rate") == [] and center.of(SurveyFinished) == []


async def test_no_survey_when_the_agent_did_not_answer(center: Center) -> None:
    center.configure([support()], {"agent1": {}})
    await center.ready("agent1")
    caller = center.caller()
    await center.enqueue(caller, "support")  # agent1 is rung, and does not answer
    await center.dial_end(caller, await center.ring(caller, "agent1"), "NOANSWER")
    line = FakeCallerLine(survey_keys=["5"])
    await center.inbound.ring_ended(line, caller.unique_id, "NOANSWER")
    assert line.heard("rate") == [] and center.of(SurveyFinished) == []


async def test_the_opt_in_is_played_before_the_caller_joins_the_line(center: Center) -> None:
    survey = {**SURVEY, "opt_in_prompt": "custom/survey-after"}
    center.configure([support(survey)], {"agent1": {}})
    prompts = center.surveys.opt_in("support")
    assert prompts == ("custom/survey-after",)
    assert center.surveys.opt_in("nowhere") == ()
