"""The post-call survey on the caller's line, once the agent has hung up (core/survey.py).

Order of things: each question is asked (its prompt and one key, one command
inside Asterisk); a wrong key or none: the retry prompt and the question once
more, then it is skipped. Then the comment, if the queue records one, and the
thanks. A caller who hangs up ends the survey where it is; whatever was rated
by then is kept. The result is stored in every case (offered, responded or
not) by the call records (SurveyFinished: adapters/db/records_writer.py), which keep
it while the database is away; the wallboard counts it live.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from callcenter.core.calls.live import LiveCall
from callcenter.core.events import SurveyFinished
from callcenter.core.survey import SurveySettings, rating
from callcenter.services.notify import Notifier
from callcenter.services.ports import CallerLine
from callcenter.services.queues import QueueDirectory

log = logging.getLogger(__name__)

COMMENT_SUFFIX = "-comment"  # beside the call's recording: <call id>-comment.wav


class HungUp(Exception):
    pass


class Surveys:
    def __init__(
        self,
        notifier: Notifier,
        queues: QueueDirectory,
        clock: Callable[[], float],
        comment_path: Callable[[str], tuple[str, str]] | None = None,
    ) -> None:
        self.notifier = notifier
        self.queues = queues
        self.clock = clock
        # (the call's recording's relative path) -> (Asterisk's path without the
        # extension, the path stored); None: no comments recorded.
        self.comment_path = comment_path

    def wanted(self, call: LiveCall) -> SurveySettings | None:
        settings = self.queues.get(call.queue)
        if settings is None or not settings.survey.enabled or not call.agent:
            return None
        return settings.survey

    def opt_in(self, queue: str) -> tuple[str, ...]:
        """What a caller joining ``queue`` hears of the survey first (maybe nothing)."""
        settings = self.queues.get(queue)
        if settings is None or not settings.survey.enabled or not settings.survey.opt_in_prompt:
            return ()
        return (settings.survey.opt_in_prompt,)

    async def run(self, line: CallerLine, call: LiveCall) -> SurveyFinished | None:
        """Ask ``call``'s caller the queue's survey; publish what they said."""
        survey = self.wanted(call)
        if survey is None:
            return None
        at = self.clock()
        scores: list[int | None] = []
        comment = ""
        try:
            for question in survey.questions:
                scores.append(await self._ask(line, survey, question.prompt))
            comment = await self._comment(line, survey, call)
            if survey.thanks_prompt:
                await line.play((survey.thanks_prompt,))
        except HungUp:
            pass
        skipped = len(survey.questions) - len(scores)
        finished = SurveyFinished(
            at=at,
            call_id=call.call_id,
            queue=call.queue,
            agent=call.agent,
            scores=(*scores, *[None] * skipped),
            comment=comment,
        )
        log.info("call %s: survey %s", call.call_id, finished.scores)
        self.notifier.publish(finished)
        return finished

    @staticmethod
    async def _ask(line: CallerLine, survey: SurveySettings, prompt: str) -> int | None:
        prompts: tuple[str, ...] = (prompt,)
        for _ in range(2):  # asked, then once more
            keys = await line.rate(prompts, survey.timeout)
            if keys is None:
                raise HungUp()
            score = rating(keys)
            if score is not None:
                return score
            prompts = (survey.retry_prompt, prompt) if survey.retry_prompt else (prompt,)
        return None

    async def _comment(self, line: CallerLine, survey: SurveySettings, call: LiveCall) -> str:
        if not survey.comment_prompt or self.comment_path is None or not call.recording:
            return ""
        inner, stored = self.comment_path(call.recording)
        recorded = await line.record_comment(survey.comment_prompt, inner, survey.comment_seconds)
        if recorded is None:
            raise HungUp()
        return stored if recorded else ""
