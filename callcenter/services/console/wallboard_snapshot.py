"""What the wallboard shows, as one document: GET /api/wallboard and the live pushes.

Clocks that tick (time in state, longest wait) are sent as start times
(epoch seconds): the page counts them up itself, so nothing needs a push per
second. A pushed update has the same shape; its series holds only the points
from ``series.start`` on (the ones that changed), the GET holds them all.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from callcenter.core.records_backlog import RecordsBacklog
from callcenter.core.stats import Figures
from callcenter.core.survey import CsatFigures


class FiguresOut(BaseModel):
    offered: int = Field(description="legs that entered the queue (decided ones, see below)")
    answered: int
    answered_within_target: int
    abandoned: int
    overflowed: int
    waiting: int = Field(description="legs offered in the period still waiting")
    handled: int = Field(description="answered legs whose conversation has ended")
    target_seconds: float
    service_level: float | None = Field(
        description="answered within target / offered, 0-1; null when nothing was offered"
    )
    asa_seconds: float | None = Field(description="average speed of answer")
    aht_seconds: float | None = Field(
        description="average handle time (talk + hold + wrap-up) per handled leg"
    )
    abandon_rate: float | None = Field(description="abandoned / offered, 0-1")
    transfers: int = Field(0, description="agents' segments that ended in a blind transfer")
    holds: int = Field(0, description="times callers were put on hold")
    hold_seconds: float = Field(0.0, description="total hold time")

    @classmethod
    def of(cls, figures: Figures) -> FiguresOut:
        return cls.model_validate(figures.as_dict())


class SurveyOut(BaseModel):
    """Post-call surveys offered in the period (core/survey.py)."""

    offered: int
    responded: int
    response_rate: float | None = Field(description="responded / offered, 0-1")
    csat: float | None = Field(description="ratings of 4 or 5 / ratings, 0-1")
    mean_score: float | None

    @classmethod
    def of(cls, figures: CsatFigures) -> SurveyOut:
        return cls(
            offered=figures.offered,
            responded=figures.responded,
            response_rate=figures.response_rate,
            csat=figures.csat,
            mean_score=figures.mean_score,
        )


class AgentCounts(BaseModel):
    """Logged-in agents whose skills meet the queue's requirements (after relaxation)."""

    ready: int
    ringing: int
    on_call: int
    wrap_up: int
    paused: int


class QueueBoard(BaseModel):
    queue: str
    target_seconds: float = Field(description="the queue's service level target")
    waiting: int = Field(description="callers in the queue not yet talking to an agent")
    longest_wait_since: float | None = Field(
        description="when the caller waiting longest joined a queue (epoch s); null: nobody"
    )
    today: FiguresOut = Field(description="legs offered since local midnight")
    last_30_min: FiguresOut = Field(description="legs offered in the last 30 minutes")
    agents: AgentCounts
    survey_today: SurveyOut | None = Field(
        None, description="post-call surveys since local midnight; null: the queue has none"
    )


class AgentBoard(BaseModel):
    agent: str
    name: str
    state: str = Field(description="logged_out | ready | ringing | on_call | wrap_up | paused")
    reason: str = Field(description="pause reason")
    since: float = Field(description="in this state since (epoch s)")
    call_id: str | None
    queue: str = Field(description="the queue of the call the agent is on, if any")


class QueueSeries(BaseModel):
    queue: str
    service_level: list[float | None] = Field(
        description="the day's service level so far, at the end of each minute"
    )
    waiting: list[int] = Field(description="most callers waiting at once in each minute")


class Series(BaseModel):
    start: int = Field(description="minute of the day of the first point sent (0 = midnight)")
    queues: list[QueueSeries]


class RecordsOut(BaseModel):
    """Are the call records keeping up with the calls (the database may be away)."""

    behind: bool = Field(description="writing records fails, or is catching up after failing")
    waiting: int = Field(description="events not written to the database yet")
    since: float | None = Field(description="when writing first failed (epoch s); null: fine")
    last_error: str = Field(description="the last failure, short; empty when fine")
    journal: int = Field(description="of the waiting events, those kept in the journal file")
    dropped: int = Field(
        description="events lost since start (memory full with no journal to spill to)"
    )

    @classmethod
    def of(cls, backlog: RecordsBacklog) -> RecordsOut:
        return cls(
            behind=backlog.behind,
            waiting=backlog.waiting,
            since=backlog.behind_since,
            last_error=backlog.last_error,
            journal=backlog.journal,
            dropped=backlog.dropped,
        )


class NodeOut(BaseModel):
    """One Asterisk node the controller drives ([[pbx.nodes]]): is its AMI link up."""

    node: str = Field(description="the node's name ([[pbx.nodes]] name)")
    up: bool = Field(description="the controller's AMI link to the node is logged in")
    since: float = Field(
        description="in this state since (epoch s): when the wallboard saw it change, or "
        "first looked (the controller's start)"
    )


class WallboardOut(BaseModel):
    at: float = Field(description="server time of this picture (epoch s)")
    day_start: float = Field(description="local midnight that starts 'today' (epoch s)")
    queues: list[QueueBoard]
    agents: list[AgentBoard]
    series: Series
    records: RecordsOut = Field(description="whether the call records keep up (the database)")
    controller: str = Field(
        "", description="the active controller's node name ([ha] on; empty on a single box)"
    )
    nodes: list[NodeOut] = Field(
        [], description="each Asterisk node and whether its link is up; empty on a single box"
    )

    def payload(self) -> dict[str, Any]:
        return self.model_dump()
