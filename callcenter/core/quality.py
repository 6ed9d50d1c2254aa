"""Quality scoring of recorded calls: evaluation forms, an evaluation's score, which
calls to review, and the QA figures of the reports.

A form has sections of questions. A question is answered yes/no or on a scale
from 0 to its ``scale`` (say 0-5); any question may allow "na" (not applicable).
Each question has a weight; the score is the weighted share of the points
earned over the questions that apply, in percent:

    score = 100 * sum(weight * earned) / sum(weight)    (questions answered "na" left out)

where earned is 1 for yes, 0 for no and n / scale for n on a scale. A critical
question is a yes/no question whose "no" fails the whole evaluation: the score
is 0 whatever else was earned (a compliance breach is not averaged away). An
evaluation where every question is "na" has no score (None), and counts in
no mean. Section scores are the same sum over a section's questions; they are
shown, but the evaluation's score is over the whole form (not a mean of sections).

Forms are versioned: an evaluation points at the version it was made with, and a
version that scored a call is never changed again (a change saves a new version),
so an old evaluation keeps the meaning it had.

Sampling: for each agent, up to ``per_agent`` calls of a period to review, from
the recorded, answered calls the agent took, less those evaluated already in
that period. Each call's place in the draw is a hash of the seed and its
recording's id, so the same seed gives the same draw (reproducible, auditable),
and evaluating one of the drawn calls does not change which others are drawn.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

YES_NO, SCALE = "yes_no", "scale"
YES, NO, NA = "yes", "no", "na"
KINDS = (YES_NO, SCALE)
KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
FORM_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_SECTIONS, MAX_QUESTIONS, MAX_SCALE, MAX_WEIGHT = 20, 100, 10, 100.0
MAX_TEXT, MAX_COMMENT = 300, 2000

Answer = str | int  # "yes", "no", "na", or 0..scale


class QualityError(Exception):
    """A form, an answer sheet or a request about evaluations that cannot be met.

    Codes: invalid (a form or answers at fault, with ``problems``), not-found,
    retired (a form no longer used for new evaluations), evaluated (the recording
    has its evaluation already), not-yours, acknowledged, conflict (a form saved
    twice at once), self (an evaluator's own call)."""

    def __init__(self, code: str, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.problems = problems or [message]


# -- forms ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Question:
    key: str
    text: str
    kind: Literal["yes_no", "scale"] = "yes_no"
    weight: float = 1.0
    critical: bool = False
    scale: int = 0  # the top of a scale question (0..scale); 0 for yes/no
    allow_na: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "text": self.text, "kind": self.kind, "weight": self.weight,
            "critical": self.critical, "scale": self.scale, "allow_na": self.allow_na,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    questions: tuple[Question, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "questions": [q.as_dict() for q in self.questions]}


@dataclass(frozen=True, slots=True)
class FormDefinition:
    title: str
    sections: tuple[Section, ...]
    description: str = ""

    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "sections": [s.as_dict() for s in self.sections],
        }


@dataclass(frozen=True, slots=True)
class Form:
    """One stored version of a form."""

    id: int
    name: str
    version: int
    definition: FormDefinition
    created_at: float
    created_by: str
    retired: bool = False
    used: bool = False  # an evaluation was made with this version: frozen


def _text(value: Any, where: str, problems: list[str], limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: text is required")
        return ""
    if len(value) > limit:
        problems.append(f"{where}: at most {limit} characters")
    return value.strip()


def _question(raw: Any, where: str, problems: list[str]) -> Question | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be an object")
        return None
    key = raw.get("key")
    if not isinstance(key, str) or not KEY.fullmatch(key):
        problems.append(
            f"{where}.key: lower-case letters, digits and _ (a letter first, 32 at most)"
        )
        key = ""
    text = _text(raw.get("text"), f"{where}.text", problems)
    kind = raw.get("kind", YES_NO)
    if kind not in KINDS:
        problems.append(f"{where}.kind: one of {', '.join(KINDS)}")
        kind = YES_NO
    weight = raw.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        problems.append(f"{where}.weight: a number")
        weight = 1.0
    elif not 0 < weight <= MAX_WEIGHT:
        problems.append(f"{where}.weight: more than 0 and at most {MAX_WEIGHT:g}")
    critical, allow_na = raw.get("critical", False), raw.get("allow_na", False)
    if not isinstance(critical, bool) or not isinstance(allow_na, bool):
        problems.append(f"{where}: critical and allow_na are true or false")
        critical, allow_na = bool(critical), bool(allow_na)
    scale = raw.get("scale", 0)
    if kind == SCALE:
        if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= MAX_SCALE:
            problems.append(f"{where}.scale: a whole number from 1 to {MAX_SCALE}")
            scale = 1
        if critical:
            problems.append(f"{where}: a critical question is answered yes or no")
    else:
        if scale not in (0, None):
            problems.append(f"{where}.scale: only scale questions have one")
        scale = 0
    unknown = set(raw) - {"key", "text", "kind", "weight", "critical", "scale", "allow_na"}
    if unknown:
        problems.append(f"{where}: unknown fields {', '.join(sorted(map(str, unknown)))}")
    return Question(key, text, kind, float(weight), critical, scale, allow_na)


def parse_form(raw: Any) -> FormDefinition:
    """A form definition from its JSON shape, or QualityError("invalid") with every problem."""
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise QualityError("invalid", "a form is an object", ["a form is an object"])
    title = _text(raw.get("title"), "title", problems)
    description = raw.get("description", "") or ""
    if not isinstance(description, str) or len(description) > MAX_COMMENT:
        problems.append(f"description: text of at most {MAX_COMMENT} characters")
        description = ""
    raw_sections = raw.get("sections")
    if not isinstance(raw_sections, list) or not 1 <= len(raw_sections) <= MAX_SECTIONS:
        problems.append(f"sections: a list of 1 to {MAX_SECTIONS} sections")
        raw_sections = []
    sections, seen = [], set()
    for i, raw_section in enumerate(raw_sections):
        where = f"sections[{i}]"
        if not isinstance(raw_section, Mapping):
            problems.append(f"{where}: must be an object")
            continue
        section_title = _text(raw_section.get("title"), f"{where}.title", problems)
        raw_questions = raw_section.get("questions")
        if not isinstance(raw_questions, list) or not raw_questions:
            problems.append(f"{where}.questions: a list of at least one question")
            raw_questions = []
        questions = []
        for j, raw_question in enumerate(raw_questions):
            question = _question(raw_question, f"{where}.questions[{j}]", problems)
            if question is None:
                continue
            if question.key and question.key in seen:
                problems.append(f"{where}.questions[{j}].key: {question.key!r} is used twice")
            seen.add(question.key)
            questions.append(question)
        sections.append(Section(section_title, tuple(questions)))
    if len(seen) > MAX_QUESTIONS:
        problems.append(f"sections: at most {MAX_QUESTIONS} questions in all")
    if problems:
        raise QualityError("invalid", "; ".join(problems), problems)
    return FormDefinition(title, tuple(sections), description.strip())


# -- scoring ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SectionScore:
    title: str
    score: float | None  # percent; None: every question "na"
    earned: float
    possible: float


@dataclass(frozen=True, slots=True)
class Score:
    score: float | None  # percent, 0 when a critical question failed; None: nothing applied
    earned: float  # weighted points (before a critical failure's zero)
    possible: float
    critical_failed: tuple[str, ...]  # keys of the critical questions answered "no"
    sections: tuple[SectionScore, ...]


def check_answers(form: FormDefinition, answers: Mapping[str, Any]) -> dict[str, Answer]:
    """Every question answered, each answer one its question allows; nothing else."""
    problems: list[str] = []
    clean: dict[str, Answer] = {}
    questions = {q.key: q for q in form.questions()}
    for key in answers:
        if key not in questions:
            problems.append(f"{key}: no such question on this form")
    for key, question in questions.items():
        value = answers.get(key)
        if value is None:
            problems.append(f"{key}: not answered")
        elif value == NA and question.allow_na:
            clean[key] = NA
        elif (question.kind == YES_NO and value in (YES, NO)) or (
            question.kind == SCALE
            and isinstance(value, int)
            and not isinstance(value, bool)
            and 0 <= value <= question.scale
        ):
            clean[key] = value
        else:
            allowed = "yes or no" if question.kind == YES_NO else f"0 to {question.scale}"
            problems.append(f"{key}: {allowed}{' or na' if question.allow_na else ''}")
    if problems:
        raise QualityError("invalid", "; ".join(problems), problems)
    return clean


def earned(question: Question, answer: Answer) -> float | None:
    """The share of the question's weight earned (0-1); None for "na"."""
    if answer == NA:
        return None
    if question.kind == YES_NO:
        return 1.0 if answer == YES else 0.0
    assert isinstance(answer, int)
    return answer / question.scale


def _percent(got: float, possible: float) -> float | None:
    return round(100.0 * got / possible, 2) if possible > 0 else None


def score(form: FormDefinition, answers: Mapping[str, Answer]) -> Score:
    """The evaluation's score from checked answers (``check_answers``)."""
    sections, got, possible, failed = [], 0.0, 0.0, []
    for section in form.sections:
        s_got = s_possible = 0.0
        for question in section.questions:
            share = earned(question, answers[question.key])
            if share is None:
                continue
            s_got += question.weight * share
            s_possible += question.weight
            if question.critical and share == 0.0:
                failed.append(question.key)
        sections.append(SectionScore(section.title, _percent(s_got, s_possible), s_got, s_possible))
        got += s_got
        possible += s_possible
    total = _percent(got, possible)
    if failed and total is not None:
        total = 0.0
    return Score(total, got, possible, tuple(failed), tuple(sections))


# -- evaluations, sampling, figures ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Evaluation:
    id: int
    form_id: int
    form_name: str
    form_version: int
    recording_id: int
    call_id: str
    agent: str
    queue: str
    call_at: float  # when the recorded call started (what reports' periods count by)
    evaluator: str
    evaluated_at: float
    answers: dict[str, Answer]
    score: float | None
    critical_failed: bool
    comment: str
    acknowledged_at: float | None = None
    agent_comment: str = ""


@dataclass(frozen=True, slots=True)
class NewEvaluation:
    form_id: int
    recording_id: int
    call_id: str
    agent: str
    queue: str
    call_at: float
    evaluator: str
    evaluated_at: float
    answers: dict[str, Answer]
    score: float | None
    critical_failed: bool
    comment: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A recorded, answered call an agent took: one that may be drawn for review."""

    recording_id: int
    call_id: str
    agent: str
    queue: str
    started_at: float
    caller_number: str = ""
    duration: float | None = None


def draw_rank(seed: str, recording_id: int) -> str:
    return hashlib.sha256(f"{seed}\x00{recording_id}".encode()).hexdigest()


def sample(
    candidates: Iterable[Candidate],
    per_agent: int,
    seed: str,
    evaluated: Mapping[str, int] | None = None,
) -> dict[str, list[Candidate]]:
    """Per agent, the calls to review: ``per_agent`` less the agent's ``evaluated`` count,
    drawn from ``candidates`` (not yet evaluated) in the order of their seeded hash.
    Agents are listed in name order; each agent's calls oldest first."""
    done = evaluated or {}
    by_agent: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        if candidate.agent:
            by_agent.setdefault(candidate.agent, []).append(candidate)
    drawn: dict[str, list[Candidate]] = {}
    for agent in sorted(by_agent):
        wanted = max(0, per_agent - done.get(agent, 0))
        ranked = sorted(by_agent[agent], key=lambda c: draw_rank(seed, c.recording_id))
        drawn[agent] = sorted(ranked[:wanted], key=lambda c: (c.started_at, c.recording_id))
    return drawn


@dataclass(slots=True)
class QaFigures:
    evaluations: int = 0
    scored: int = 0  # with a score (not every question "na")
    score_sum: float = 0.0
    critical_failures: int = 0
    acknowledged: int = 0
    scores: list[float] = field(default_factory=list)

    def add(self, evaluation: Evaluation) -> None:
        self.evaluations += 1
        if evaluation.score is not None:
            self.scored += 1
            self.score_sum += evaluation.score
            self.scores.append(evaluation.score)
        self.critical_failures += evaluation.critical_failed
        self.acknowledged += evaluation.acknowledged_at is not None

    def row(self) -> dict[str, Any]:
        return {
            "evaluations": self.evaluations,
            "scored": self.scored,
            "mean_score": round(self.score_sum / self.scored, 2) if self.scored else None,
            "min_score": min(self.scores) if self.scores else None,
            "max_score": max(self.scores) if self.scores else None,
            "critical_failures": self.critical_failures,
            "acknowledged": self.acknowledged,
        }


@dataclass(frozen=True, slots=True)
class QaReport:
    agents: dict[str, dict[str, Any]]
    queues: dict[str, dict[str, Any]]
    totals: dict[str, Any]


def qa_report(evaluations: Iterable[Evaluation]) -> QaReport:
    """Mean score (of the evaluations that have one), critical failures and acknowledgements
    per agent, per queue and in all."""
    agents: dict[str, QaFigures] = {}
    queues: dict[str, QaFigures] = {}
    totals = QaFigures()
    for evaluation in evaluations:
        agents.setdefault(evaluation.agent, QaFigures()).add(evaluation)
        queues.setdefault(evaluation.queue, QaFigures()).add(evaluation)
        totals.add(evaluation)
    return QaReport(
        {name: agents[name].row() for name in sorted(agents)},
        {name: queues[name].row() for name in sorted(queues)},
        totals.row(),
    )
