"""An in-memory ``QualityStore`` (services/repositories.py), with recorded calls arranged by
``recorded``; it passes the checks of tests/fakes/quality_contracts.py as the database does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from callcenter.core.quality import (
    Candidate,
    Evaluation,
    Form,
    NewEvaluation,
    QualityError,
    parse_form,
)


@dataclass
class _Recorded:
    candidate: Candidate
    answered: bool
    ended: bool


class FakeQualityStore:
    def __init__(self) -> None:
        self.form_rows: dict[int, Form] = {}
        self.rows: dict[int, Evaluation] = {}
        self.recordings: dict[int, _Recorded] = {}

    def recorded(
        self, call_id: str, agent: str, queue: str, started_at: float,
        answered: bool = True, ended: bool = True,
    ) -> int:  # fmt: skip
        new_id = len(self.recordings) + 1
        candidate = Candidate(new_id, call_id, agent, queue, started_at, "+12125550100", 60.0)
        self.recordings[new_id] = _Recorded(candidate, answered, ended)
        return new_id

    # -- forms ---------------------------------------------------------------------------------
    def _used(self, form: Form) -> Form:
        return replace(form, used=any(e.form_id == form.id for e in self.rows.values()))

    def forms(self, retired: bool = False) -> list[Form]:
        latest: dict[str, Form] = {}
        for form in self.form_rows.values():
            if form.name not in latest or form.version > latest[form.name].version:
                latest[form.name] = form
        return [self._used(f) for _, f in sorted(latest.items()) if retired or not f.retired]

    def form(self, form_id: int) -> Form | None:
        found = self.form_rows.get(form_id)
        return self._used(found) if found is not None else None

    def versions(self, name: str) -> list[Form]:
        found = [self._used(f) for f in self.form_rows.values() if f.name == name]
        return sorted(found, key=lambda f: f.version)

    def save_form(self, name: str, definition: Mapping[str, Any], who: str, at: float) -> Form:
        versions = self.versions(name)
        latest = versions[-1] if versions else None
        parsed = parse_form(definition)
        if latest is not None and not latest.used and not latest.retired:
            saved = replace(latest, definition=parsed, created_at=at, created_by=who)
        else:
            version = latest.version + 1 if latest is not None else 1
            saved = Form(len(self.form_rows) + 1, name, version, parsed, at, who)
        self.form_rows[saved.id] = saved
        return saved

    def retire_form(self, name: str) -> bool:
        live = [f for f in self.form_rows.values() if f.name == name and not f.retired]
        for form in live:
            self.form_rows[form.id] = replace(form, retired=True)
        return bool(live)

    # -- evaluations ---------------------------------------------------------------------------
    def add_evaluation(self, new: NewEvaluation) -> Evaluation:
        if any(e.recording_id == new.recording_id for e in self.rows.values()):
            raise QualityError(
                "evaluated", f"recording {new.recording_id} has its evaluation already"
            )
        form = self.form_rows[new.form_id]
        evaluation = Evaluation(
            id=len(self.rows) + 1, form_name=form.name, form_version=form.version, **asdict(new)
        )
        self.rows[evaluation.id] = evaluation
        return evaluation

    def evaluation(self, evaluation_id: int) -> Evaluation | None:
        return self.rows.get(evaluation_id)

    def evaluations(
        self, agent: str = "", queue: str = "", since: float | None = None,
        until: float | None = None, limit: int = 200,
    ) -> list[Evaluation]:  # fmt: skip
        found = [
            e
            for e in self.rows.values()
            if (not agent or e.agent == agent)
            and (not queue or e.queue == queue)
            and (since is None or e.call_at >= since)
            and (until is None or e.call_at < until)
        ]
        return sorted(found, key=lambda e: (e.call_at, e.id), reverse=True)[:limit]

    def acknowledge(self, evaluation_id: int, agent: str, at: float, comment: str) -> bool:
        found = self.rows.get(evaluation_id)
        if found is None or found.agent != agent or found.acknowledged_at is not None:
            return False
        self.rows[evaluation_id] = replace(found, acknowledged_at=at, agent_comment=comment)
        return True

    # -- the recorded calls ----------------------------------------------------------------------
    def recorded_call(self, recording_id: int) -> Candidate | None:
        found = self.recordings.get(recording_id)
        if found is None or not (found.answered and found.ended and found.candidate.agent):
            return None
        return found.candidate

    def candidates(self, since: float, until: float, queue: str = "") -> list[Candidate]:
        evaluated = {e.recording_id for e in self.rows.values()}
        return [
            c
            for r in self.recordings
            if (c := self.recorded_call(r)) is not None
            and since <= c.started_at < until
            and (not queue or c.queue == queue)
            and c.recording_id not in evaluated
        ]

    def evaluated_counts(self, since: float, until: float, queue: str = "") -> dict[str, int]:
        counts: dict[str, int] = {}
        for e in self.evaluations(queue=queue, since=since, until=until, limit=10**9):
            counts[e.agent] = counts.get(e.agent, 0) + 1
        return counts
