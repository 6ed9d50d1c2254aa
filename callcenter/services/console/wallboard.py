"""The live wallboard: every queue's figures and every agent's state, pushed as they change.

Figures come from the call legs of today (wallboard_legs.py, over core/stats.py);
calls waiting and agents' states are read live from the CallBook and the
agent service when a picture is taken. Every domain event asks for a new
picture; pictures are taken at most once per ``coalesce`` seconds (a burst of
events costs one), computed once and handed to the publishers (the console's
hub sends the same bytes to every open wallboard). Between events the board
changes by the clock alone in three ways, each woken by a timer rather than a
tick: a waiting caller reaching the queue's target (service level), a new
minute (the charts), local midnight (a new day). Times in state and the
longest wait are sent as start times; the page counts them up. The board also
says when the call records fall behind (the database away): the records
writer asks for a picture from its own thread (``changed_soon``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import tzinfo
from typing import Protocol

from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.model import AgentState, meets
from callcenter.core.calls.live import CallBook, LiveCall
from callcenter.core.calls.state import CallState
from callcenter.core.events import Event, SurveyFinished
from callcenter.core.model import SipAccount
from callcenter.core.stats import CallEventRecord
from callcenter.core.survey import SurveyResult, figures
from callcenter.services.console.wallboard_legs import LegBook, add_figures, record_of
from callcenter.services.console.wallboard_series import (
    MINUTE,
    PeakSeries,
    local_midnight,
    minute_of,
    next_midnight,
    service_level_series,
    waiting_peaks,
)
from callcenter.services.console.wallboard_snapshot import (
    AgentBoard,
    AgentCounts,
    FiguresOut,
    NodeOut,
    QueueBoard,
    QueueSeries,
    RecordsOut,
    Series,
    SurveyOut,
    WallboardOut,
)
from callcenter.services.queues import QueueDirectory
from callcenter.services.repositories import RecordsLag

log = logging.getLogger(__name__)

RECENT = 30 * MINUTE  # the tiles' "last 30 min"
WAITING = (CallState.WAITING, CallState.RINGING)  # in the queue, not yet talking
MARGIN = 0.05  # wake a little after a deadline, so the figure has surely changed

Publisher = Callable[[WallboardOut], None]
History = Callable[[float], list[CallEventRecord]]
SurveyHistory = Callable[[float], list[SurveyResult]]  # surveys offered since that instant
NodeLinks = Callable[[], Mapping[str, bool]]  # each Asterisk node: is its AMI link up


class AgentSource(Protocol):
    @property
    def statuses(self) -> Mapping[str, AgentStatus]: ...

    @property
    def skills(self) -> Mapping[str, Mapping[str, int]]: ...


class NameSource(Protocol):
    def get(self, username: str) -> SipAccount | None: ...


class Wallboard:
    def __init__(
        self,
        agents: AgentSource,
        names: NameSource,
        calls: CallBook,
        queues: QueueDirectory,
        history: History,
        records: RecordsLag,
        clock: Callable[[], float],
        zone: tzinfo | None,
        coalesce: float = 0.15,
        survey_history: SurveyHistory | None = None,
        nodes: NodeLinks | None = None,
    ) -> None:
        # [[pbx.nodes]]: each node's link, shown with the time it last changed (the
        # links call ``changed`` as they go up or down); None: a single box.
        self.nodes = nodes
        self._node_states: dict[str, tuple[bool, float]] = {}
        self._survey_history = survey_history
        self._surveys: dict[str, list[SurveyResult]] = defaultdict(list)  # today's, per queue
        self._agents = agents
        self._names = names
        self._calls = calls
        self._queues = queues
        self._history = history
        self._records = records
        self._clock = clock
        self._zone = zone
        self.controller = ""  # the active controller's node ([ha]; set by runtime.py)
        self.coalesce = coalesce
        self._book = LegBook(local_midnight(clock(), zone))
        self._next_day = next_midnight(self._book.day_start, zone)
        self._peaks = PeakSeries()
        self._sent: dict[str, QueueSeries] = {}  # the series last pushed
        self._publishers: list[Publisher] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: asyncio.TimerHandle | None = None
        self._wake: asyncio.TimerHandle | None = None
        self._last_push = -math.inf
        self.pushes = 0

    def on_publish(self, publisher: Publisher) -> None:
        self._publishers.append(publisher)

    # -- life -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Rebuild today from the database; call before any live event (before AMI starts)."""
        self._loop = asyncio.get_running_loop()
        records = await asyncio.to_thread(self._history, self._book.day_start)
        self.rebuild(records)
        if self._survey_history is not None:
            surveys = await asyncio.to_thread(self._survey_history, self._book.day_start)
            self.rebuild_surveys(surveys)
        self._arm_wake(self._clock())

    def rebuild(self, records: list[CallEventRecord]) -> None:
        now = self._clock()
        for record in records:
            self._book.add(record)
        minutes = minute_of(now, self._book.day_start) + 1
        waits: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for leg in self._book.legs():
            end = now if leg.wait is None else leg.offered_at + leg.wait
            waits[leg.queue].append((leg.offered_at, end))
        peaks = {q: waiting_peaks(w, self._book.day_start, minutes) for q, w in waits.items()}
        self._peaks.reset(peaks, {queue: points[-1] for queue, points in peaks.items()})

    def rebuild_surveys(self, results: list[SurveyResult]) -> None:
        for result in results:
            if result.at >= self._book.day_start:
                self._surveys[result.queue].append(result)

    def stop(self) -> None:
        for handle in (self._pending, self._wake):
            if handle is not None:
                handle.cancel()
        self._pending = self._wake = None

    # -- input ----------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        record = record_of(event)
        if record is not None:
            self._book.add(record)
        elif isinstance(event, SurveyFinished) and event.at >= self._book.day_start:
            self._surveys[event.queue].append(
                SurveyResult(event.call_id, event.at, event.queue, event.agent, event.scores)
            )
        self.changed()

    def changed(self) -> None:
        """Something changed: push a new picture soon (at most one per ``coalesce`` s)."""
        if self._loop is None or self._pending is not None:
            return
        delay = max(0.0, self._last_push + self.coalesce - self._loop.time())
        self._pending = self._loop.call_later(delay, self._push)

    def changed_soon(self) -> None:
        """``changed``, from any thread (the records writer's)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody to push to
            loop.call_soon_threadsafe(self.changed)

    def _push(self) -> None:
        assert self._loop is not None
        self._pending = None
        self._last_push = self._loop.time()
        board = self.update()
        self.pushes += 1
        for publisher in self._publishers:
            try:
                publisher(board)
            except Exception:
                log.exception("wallboard publisher %r failed", publisher)

    def _arm_wake(self, now: float) -> None:
        if self._loop is None:
            return
        targets = {name: q.service_level_target for name, q in self._queues.queues.items()}
        next_minute = self._book.day_start + (minute_of(now, self._book.day_start) + 1) * MINUTE
        wake = min(next_minute, self._next_day)
        decision = self._book.next_decision(targets, now)
        if decision is not None:
            wake = min(wake, decision)
        if self._wake is not None:
            self._wake.cancel()
        self._wake = self._loop.call_later(max(0.0, wake - now) + MARGIN, self.changed)

    # -- pictures -------------------------------------------------------------------------
    def update(self) -> WallboardOut:
        """A picture to push: the series only from the first point that changed."""
        board = self.snapshot()
        fresh = board.series.queues
        start = self._first_change(fresh)
        self._sent = {series.queue: series for series in fresh}
        self._arm_wake(board.at)
        trimmed = [
            QueueSeries(
                queue=s.queue, service_level=s.service_level[start:], waiting=s.waiting[start:]
            )
            for s in fresh
        ]
        return board.model_copy(update={"series": Series(start=start, queues=trimmed)})

    def _first_change(self, fresh: list[QueueSeries]) -> int:
        if [series.queue for series in fresh] != list(self._sent):
            return 0
        length = len(fresh[0].waiting) if fresh else 0
        start = max(0, length - 1)  # the current minute always goes
        for series in fresh:
            old = self._sent[series.queue]
            if len(old.waiting) > length:
                return 0  # a new day
            start = min(start, _first_difference(old, series))
        return start

    def snapshot(self) -> WallboardOut:
        """The whole picture now (GET /api/wallboard; the page loads it, then follows pushes)."""
        now = self._clock()
        if now >= self._next_day:
            self._new_day(now)
        day_start = self._book.day_start
        minutes = minute_of(now, day_start) + 1
        waiting: dict[str, list[LiveCall]] = defaultdict(list)
        for call in self._calls.in_state(*WAITING):
            waiting[call.queue].append(call)
        boards, series = [], []
        for name, settings in sorted(self._queues.queues.items()):
            target = settings.service_level_target
            calls = waiting.get(name, [])
            self._peaks.observe(name, minutes - 1, len(calls))
            per_minute = self._book.minute_figures(name, target, now)
            starts = [c.enqueued_at for c in calls if c.enqueued_at is not None]
            boards.append(
                QueueBoard(
                    queue=name,
                    target_seconds=target,
                    waiting=len(calls),
                    longest_wait_since=min(starts) if starts else None,
                    today=FiguresOut.of(add_figures(per_minute.values(), target)),
                    last_30_min=FiguresOut.of(
                        self._book.figures_since(name, target, now - RECENT, now)
                    ),
                    agents=self._agent_counts(settings.to_config().requirements_at(math.inf)),
                    survey_today=(
                        SurveyOut.of(figures(self._surveys.get(name, [])))
                        if settings.survey.enabled or name in self._surveys
                        else None
                    ),
                )
            )
            series.append(
                QueueSeries(
                    queue=name,
                    service_level=service_level_series(per_minute, minutes),
                    waiting=self._peaks.points(name, minutes),
                )
            )
        return WallboardOut(
            at=now,
            day_start=day_start,
            queues=boards,
            agents=self._agent_rows(),
            series=Series(start=0, queues=series),
            records=RecordsOut.of(self._records.backlog()),
            controller=self.controller,
            nodes=self._node_rows(now),
        )

    def _node_rows(self, now: float) -> list[NodeOut]:
        if self.nodes is None:
            return []
        rows = []
        for node, up in self.nodes().items():
            seen = self._node_states.get(node)
            if seen is None or seen[0] != up:
                seen = self._node_states[node] = (up, now)
            rows.append(NodeOut(node=node, up=up, since=seen[1]))
        return rows

    def _new_day(self, now: float) -> None:
        day_start = local_midnight(now, self._zone)
        self._book.roll(day_start)
        self._next_day = next_midnight(day_start, self._zone)
        self._peaks.new_day()
        self._surveys.clear()
        self._sent = {}

    def _agent_counts(self, requirements: Mapping[str, int]) -> AgentCounts:
        counts = dict.fromkeys(("ready", "ringing", "on_call", "wrap_up", "paused"), 0)
        skills = self._agents.skills
        for agent, status in self._agents.statuses.items():
            if status.state is AgentState.LOGGED_OUT:
                continue
            if meets(skills.get(agent, {}), requirements):
                counts[status.state.value] += 1
        return AgentCounts(**counts)

    def _agent_rows(self) -> list[AgentBoard]:
        rows = []
        for agent, status in sorted(self._agents.statuses.items()):
            account = self._names.get(agent)
            call = self._calls.get(status.call_id) if status.call_id else None
            rows.append(
                AgentBoard(
                    agent=agent,
                    name=account.display_name if account else agent,
                    state=status.state.value,
                    reason=status.reason,
                    since=status.since,
                    call_id=status.call_id,
                    queue=call.queue if call else "",
                )
            )
        return rows


def _first_difference(old: QueueSeries, new: QueueSeries) -> int:
    points = zip(
        zip(old.service_level, old.waiting, strict=True),
        zip(new.service_level, new.waiting, strict=True),
        strict=False,
    )
    for index, (before, now) in enumerate(points):
        if before != now:
            return index
    return len(old.waiting)
