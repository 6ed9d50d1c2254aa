"""The post-call survey (CSAT): a queue's questions, the caller's ratings, the figures.

After the agent hangs up, the caller is still on the line (``Dial``'s ``g``
option in dialplan/queue.conf: the caller's dialplan goes on to the
dial-result route), and a queue with a survey asks its questions there, each
a prompt and ONE keypad key from 1 to 5, read inside Asterisk in one command
(adapters/agi/keys.py). A wrong key or no key is asked once more, then the
question is skipped. An optional comment is recorded last.

Counting (the figures the reports show):
* offered: the survey began (the agent hung up first on a queue with a survey);
* responded: the caller gave at least one rating; a caller who hung up instead,
  or keyed nothing valid, did not respond;
* response rate: responded / offered;
* CSAT: ratings of 4 or 5 / all ratings (every question counts; the usual
  "share of satisfied answers"), and the mean rating beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

SOUND = r"^[A-Za-z0-9_][A-Za-z0-9_/-]{0,79}$"
OPTIONAL_SOUND = r"^$|^" + SOUND[1:]  # both alternatives anchored
KEYS = "12345"
SATISFIED = (4, 5)
MAX_QUESTIONS = 5


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SurveyQuestion(_Strict):
    prompt: str = Field(pattern=SOUND, description="asks for a rating from 1 to 5")


class SurveySettings(_Strict):
    enabled: bool = False
    questions: list[SurveyQuestion] = Field([], max_length=MAX_QUESTIONS)
    # Seconds for the key once a question's prompt has played.
    timeout: float = Field(5.0, ge=1, le=30)
    # Played before a question is asked again (a wrong key, or none).
    retry_prompt: str = Field("beep", pattern=OPTIONAL_SOUND)
    # A recorded comment after the ratings: its prompt ("" for none) and longest length.
    comment_prompt: str = Field("", pattern=OPTIONAL_SOUND)
    comment_seconds: int = Field(30, ge=3, le=120)
    # Played before the caller joins the line (before any agent answers), where the
    # site wants callers told of the survey to come.
    opt_in_prompt: str = Field("", pattern=OPTIONAL_SOUND)
    thanks_prompt: str = Field("", pattern=OPTIONAL_SOUND)

    @model_validator(mode="after")
    def _asks_something(self) -> SurveySettings:
        if self.enabled and not self.questions:
            raise ValueError("an enabled survey needs at least one question")
        return self

    def sounds(self) -> list[tuple[str, str]]:
        """(field, prompt) pairs of every prompt the survey plays (none while it is off)."""
        if not self.enabled:
            return []
        found = [(f"questions.{i}.prompt", q.prompt) for i, q in enumerate(self.questions)]
        others = ("retry_prompt", "comment_prompt", "opt_in_prompt", "thanks_prompt")
        return found + [(name, getattr(self, name)) for name in others if getattr(self, name)]


def rating(keys: str) -> int | None:
    """The rating a question's keys give: exactly one key from 1 to 5, else None."""
    return int(keys) if len(keys) == 1 and keys in KEYS else None


@dataclass(frozen=True, slots=True)
class SurveyResult:
    """One survey offered after a call; ``scores``: one per question, None if skipped."""

    call_id: str
    at: float  # when it was offered (the agent had just hung up)
    queue: str
    agent: str
    scores: tuple[int | None, ...]
    comment: str = ""  # the recorded comment's path, relative to the recordings folder
    disposition: str = ""  # the call's, as the agent set it (read side only)

    @property
    def responded(self) -> bool:
        return any(score is not None for score in self.scores)


@dataclass(frozen=True, slots=True)
class CsatFigures:
    offered: int
    responded: int
    response_rate: float | None  # responded / offered
    ratings: int
    satisfied: int  # ratings of 4 or 5
    csat: float | None  # satisfied / ratings
    mean_score: float | None


def figures(results: Iterable[SurveyResult]) -> CsatFigures:
    offered = responded = satisfied = 0
    scores: list[int] = []
    for result in results:
        offered += 1
        responded += result.responded
        given = [s for s in result.scores if s is not None]
        scores += given
        satisfied += sum(1 for s in given if s in SATISFIED)
    return CsatFigures(
        offered=offered,
        responded=responded,
        response_rate=responded / offered if offered else None,
        ratings=len(scores),
        satisfied=satisfied,
        csat=satisfied / len(scores) if scores else None,
        mean_score=sum(scores) / len(scores) if scores else None,
    )


def by(
    results: Iterable[SurveyResult], key: Callable[[SurveyResult], str]
) -> dict[str, CsatFigures]:
    """Figures per value of ``key`` (an agent, a queue, a disposition), in name order."""
    groups: dict[str, list[SurveyResult]] = {}
    for result in results:
        groups.setdefault(key(result), []).append(result)
    return {name: figures(groups[name]) for name in sorted(groups)}
