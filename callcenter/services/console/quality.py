"""QA scoring of recorded calls as the console uses it: admins keep the forms,
supervisors score recordings and draw the calls to review, agents read and
acknowledge their own evaluations (the rules: core/quality.py).

Who may do what is the console's to check (roles); this service checks what
the data allows: a retired form scores nothing, a recording is scored once and
only if it is a finished recording of an answered call an agent took, an
evaluation is acknowledged once and only by its agent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from callcenter.core.quality import (
    FORM_NAME,
    MAX_COMMENT,
    Candidate,
    Evaluation,
    Form,
    NewEvaluation,
    QaReport,
    QualityError,
    check_answers,
    parse_form,
    qa_report,
    sample,
    score,
)
from callcenter.services.repositories import QualityStore

MAX_PER_AGENT = 50


class Quality:
    def __init__(self, store: QualityStore, clock: Callable[[], float]) -> None:
        self.store = store
        self._clock = clock

    # -- forms (admins) -------------------------------------------------------------------------
    def save_form(self, name: str, raw: Any, who: str) -> Form:
        if not FORM_NAME.fullmatch(name):
            raise QualityError("invalid", "a form's name: lower-case letters, digits, - and _")
        definition = parse_form(raw)
        return self.store.save_form(name, definition.as_dict(), who, self._clock())

    def retire_form(self, name: str) -> None:
        if not self.store.retire_form(name):
            raise QualityError("not-found", f"no form {name!r} in use")

    def form(self, form_id: int) -> Form:
        found = self.store.form(form_id)
        if found is None:
            raise QualityError("not-found", f"no form {form_id}")
        return found

    # -- evaluations (supervisors) ----------------------------------------------------------------
    def evaluate(
        self,
        form_id: int,
        recording_id: int,
        answers: Mapping[str, Any],
        comment: str,
        who: str,
        who_works_as: str = "",
    ) -> Evaluation:
        """``who`` scores the recording; not a call they took themselves (``who_works_as``:
        the agent the evaluator works as, if any)."""
        form = self.form(form_id)
        if form.retired:
            raise QualityError("retired", f"form {form.name!r} is retired")
        latest = {f.name: f.id for f in self.store.forms()}
        if latest.get(form.name) != form.id:
            raise QualityError("retired", f"form {form.name!r} has a newer version: use it")
        if len(comment) > MAX_COMMENT:
            raise QualityError("invalid", f"comment: at most {MAX_COMMENT} characters")
        call = self.store.recorded_call(recording_id)
        if call is None:
            raise QualityError(
                "not-found", f"no finished recording {recording_id} of an answered call"
            )
        if who_works_as and call.agent == who_works_as:
            raise QualityError("self", "nobody scores their own calls")
        checked = check_answers(form.definition, answers)
        result = score(form.definition, checked)
        return self.store.add_evaluation(
            NewEvaluation(
                form_id=form.id,
                recording_id=call.recording_id,
                call_id=call.call_id,
                agent=call.agent,
                queue=call.queue,
                call_at=call.started_at,
                evaluator=who,
                evaluated_at=self._clock(),
                answers=checked,
                score=result.score,
                critical_failed=bool(result.critical_failed),
                comment=comment.strip(),
            )
        )

    def evaluation(self, evaluation_id: int) -> Evaluation:
        found = self.store.evaluation(evaluation_id)
        if found is None:
            raise QualityError("not-found", f"no evaluation {evaluation_id}")
        return found

    # -- agents ---------------------------------------------------------------------------------
    def acknowledge(self, evaluation_id: int, agent: str, comment: str) -> Evaluation:
        found = self.evaluation(evaluation_id)
        if found.agent != agent:
            raise QualityError("not-yours", f"evaluation {evaluation_id} is not yours")
        if len(comment) > MAX_COMMENT:
            raise QualityError("invalid", f"comment: at most {MAX_COMMENT} characters")
        if not self.store.acknowledge(evaluation_id, agent, self._clock(), comment.strip()):
            raise QualityError("acknowledged", f"evaluation {evaluation_id} is acknowledged")
        return self.evaluation(evaluation_id)

    # -- the calls to review, the figures ----------------------------------------------------------
    def sample(
        self, since: float, until: float, per_agent: int, seed: str, queue: str = ""
    ) -> dict[str, list[Candidate]]:
        if not 1 <= per_agent <= MAX_PER_AGENT:
            raise QualityError("invalid", f"per_agent: 1 to {MAX_PER_AGENT}")
        return sample(
            self.store.candidates(since, until, queue),
            per_agent,
            seed,
            self.store.evaluated_counts(since, until, queue),
        )

    def report(self, since: float, until: float, queue: str = "", agent: str = "") -> QaReport:
        return qa_report(
            self.store.evaluations(
                agent=agent, queue=queue, since=since, until=until, limit=100_000
            )
        )
