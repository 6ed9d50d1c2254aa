"""How long a caller in line will wait, and whether that figure is worth saying (pure).

What decides a wait is when the agents who can take this caller free up, and
how many calls go first. So the estimate starts from each eligible agent as
they are now (free, ringing, talking for 140 s, in wrap-up), not from an
average: an agent 170 s into a typical 180 s call is about to be free.

Talk times are modelled as lognormal, fitted per queue from the calls handled
(``WaitHistory``, an exponentially weighted fit of log talk times), starting
from a prior (the queue's ``expected_talk``, spread ``PRIOR_SIGMA``) that counts
as a fifth of a call and so yields to data at once. An agent with enough calls of their
own in the queue gets their own pace.

Remaining talk for an agent ``t`` seconds into a call is drawn from the
lognormal *given that it has lasted t*: that is what keeps a cold start from
announcing minutes when agents are about to free up, and what makes a long
call not end "any second now" (lognormal calls that ran long tend to run on).

The wait itself is a random variable. With the line as it is (``line_for``:
every caller ahead in service order, each with the agents who may take them and
from when, across queues and relax steps), a draw frees the agents up in time
order and gives each to the most deserving caller ahead still waiting who may
have them, until one goes to this caller: skills and callers of other queues
count as the router will serve them. A busy agent's current call is drawn with
the talk times of that call's queue; an agent who asked to pause after the call
frees up after a pause of that reason. Without a line (too many callers ahead),
the (ahead+1)-th moment one of this caller's agents frees up is drawn instead.
Either way the estimate draws the wait a fixed number of times with a fixed seed
(the same inputs always give the same figure, in about a millisecond of CPU)
and reports the value that minimises the expected relative error
|estimate - actual| / actual, the measure the accuracy report uses. The same
draws say how far off that figure is expected to be (mean and 90th percentile);
together with how many calls the fit rests on, that is the confidence
(``Confidence``): callers are told a figure only when the product itself would
stand by it.

Abandonment: callers ahead give up at the queue's measured rate per second of
waiting (``WaitHistory.abandon_rate``: callers who gave up over seconds waited,
the hazard of an exponential patience); a caller ahead is skipped if they gave
up before an agent freed up for them. (The older share of all callers who gave
up, ``abandon_share``, is still accepted.)
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist
from typing import Protocol

from callcenter.core.acd.agent_state import AgentStatus
from callcenter.core.acd.estimate import AgentLoad, estimate_wait
from callcenter.core.acd.model import AgentState

DEFAULT_EXPECTED_TALK = 180.0  # seconds; the prior before a queue's calls are measured
PRIOR_SIGMA = 0.5  # spread of log talk time before data (a CV of about 0.53)
PRIOR_WEIGHT = 0.2  # the prior counts as a fifth of a call: data overrules it at once
MIN_SIGMA = 0.05  # even identical calls are not clockwork
DEFAULT_ANSWER_DELAY = 3.0  # seconds from an agent freeing up to the caller answered
PAUSES_KNOWN_AFTER = 3  # pauses of one reason measured before paused agents count
ALPHA = 0.05  # weight of the newest call once 1/ALPHA calls are known
HAZARD_ALPHA = 0.01  # the same for the patience curve (few callers give up: a longer memory)
PERSONAL_AFTER = 5  # calls in a queue before an agent's own pace is used there
RELATIVE_FLOOR = 10.0  # relative errors are taken against at least this many seconds
DRAWS = 48  # draws of the wait per estimate (fewer with many agents, see _draws)
DRAW_BUDGET = 2048  # (agents + calls ahead) x draws per estimate at most
MIN_DRAWS = 16
SEED = 0x5EED

_NORMAL = NormalDist()


# -- talk times ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TalkFit:
    """Lognormal talk times: log talk ~ N(mu, sigma); ``calls`` the fit rests on."""

    mu: float
    sigma: float
    calls: int = 0

    @classmethod
    def prior(cls, expected: float = DEFAULT_EXPECTED_TALK) -> TalkFit:
        if not (math.isfinite(expected) and expected > 0):
            raise ValueError(f"expected talk must be a number > 0, got {expected}")
        return cls(math.log(expected) - PRIOR_SIGMA**2 / 2, PRIOR_SIGMA, 0)

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    @property
    def cv(self) -> float:
        """Coefficient of variation of talk time (standard deviation / mean)."""
        return math.sqrt(math.expm1(self.sigma**2))

    def survived(self, elapsed: float) -> float:
        """P(talk <= elapsed): where a call ``elapsed`` s old sits in the distribution."""
        if elapsed <= 0:
            return 0.0
        return _NORMAL.cdf((math.log(elapsed) - self.mu) / self.sigma)

    def draw_total(self, rng: random.Random, below: float = 0.0) -> float:
        """A talk time, given that it is longer than the share ``below`` of all calls."""
        if below <= 0.0:
            return rng.lognormvariate(self.mu, self.sigma)
        u = below + rng.random() * (1.0 - below)
        u = min(max(u, 1e-12), 1.0 - 1e-12)
        return math.exp(self.mu + self.sigma * _NORMAL.inv_cdf(u))


class _LogStats:
    """Exponentially weighted mean and variance of log talk times (plain while few)."""

    __slots__ = ("calls", "mean", "var")

    def __init__(self) -> None:
        self.calls = 0
        self.mean = 0.0
        self.var = 0.0

    def add(self, value: float) -> None:
        self.calls += 1
        weight = max(ALPHA, 1.0 / self.calls)
        delta = value - self.mean
        self.mean += weight * delta
        self.var = (1.0 - weight) * (self.var + weight * delta * delta)


class _Share:
    """An exponentially weighted share of yes among outcomes."""

    __slots__ = ("count", "share")

    def __init__(self) -> None:
        self.count = 0
        self.share = 0.0

    def add(self, yes: bool) -> None:
        self.count += 1
        self.share += max(ALPHA, 1.0 / self.count) * ((1.0 if yes else 0.0) - self.share)


class _Hazard:
    """Exponentially weighted callers who gave up and seconds waited: their ratio is
    the rate at which a waiting caller gives up (1 / mean patience)."""

    __slots__ = ("count", "gave_up", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.gave_up = 0.0
        self.seconds = 0.0

    def add(self, waited: float, gave_up: bool) -> None:
        if not (math.isfinite(waited) and waited >= 0):
            raise ValueError(f"waited must be a finite number >= 0, got {waited}")
        self.count += 1
        keep = 1.0 - HAZARD_ALPHA if self.count > 1 / HAZARD_ALPHA else 1.0
        self.gave_up = keep * self.gave_up + (1.0 if gave_up else 0.0)
        self.seconds = keep * self.seconds + waited

    @property
    def rate(self) -> float:
        return self.gave_up / self.seconds if self.seconds > 0 else 0.0


class WaitHistory:
    """What the queues' recent calls say: talk times, answer delays, who gave up.

    Fed by the services as calls end (``talk``), are answered (``answered``) or
    abandoned (``abandoned``); read by the estimate (``fit``, ``answer_delay``,
    ``abandon_share``). Nothing here knows a clock.
    """

    def __init__(self) -> None:
        self._queue: dict[str, _LogStats] = {}
        self._agent: dict[tuple[str, str], _LogStats] = {}
        self._delay: dict[str, tuple[float, int]] = {}
        self._gave_up: dict[str, _Share] = {}
        self._patience: dict[str, _Hazard] = {}
        self._pauses: dict[str, _LogStats] = {}

    def talk(self, queue: str, agent: str, seconds: float) -> None:
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"talk time must be a finite number >= 0, got {seconds}")
        value = math.log(max(seconds, 1.0))
        self._queue.setdefault(queue, _LogStats()).add(value)
        self._agent.setdefault((agent, queue), _LogStats()).add(value)

    def answered(self, queue: str, delay: float, waited: float | None = None) -> None:
        """A waiting caller reached an agent ``delay`` s after being offered, after
        ``waited`` s in line in all (None: not known; the patience curve skips it)."""
        if not (math.isfinite(delay) and delay >= 0):
            raise ValueError(f"answer delay must be a finite number >= 0, got {delay}")
        average, count = self._delay.get(queue, (0.0, 0))
        count += 1
        self._delay[queue] = (average + max(ALPHA, 1.0 / count) * (delay - average), count)
        self._gave_up.setdefault(queue, _Share()).add(False)
        if waited is not None:
            self._patience.setdefault(queue, _Hazard()).add(waited, False)

    def abandoned(self, queue: str, waited: float | None = None) -> None:
        """A caller gave up after ``waited`` s in line (None: not known)."""
        self._gave_up.setdefault(queue, _Share()).add(True)
        if waited is not None:
            self._patience.setdefault(queue, _Hazard()).add(waited, True)

    def paused(self, reason: str, seconds: float) -> None:
        """An agent came back from a pause of ``reason`` that lasted ``seconds``."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"pause length must be a finite number >= 0, got {seconds}")
        self._pauses.setdefault(reason, _LogStats()).add(math.log(max(seconds, 1.0)))

    def pause_fit(self, reason: str) -> TalkFit | None:
        """How long pauses of ``reason`` last; None until PAUSES_KNOWN_AFTER were measured
        (an agent on a pause of unknown length is left out of estimates)."""
        stats = self._pauses.get(reason)
        if stats is None or stats.calls < PAUSES_KNOWN_AFTER:
            return None
        return TalkFit(stats.mean, max(math.sqrt(stats.var), MIN_SIGMA), stats.calls)

    def calls(self, queue: str) -> int:
        stats = self._queue.get(queue)
        return 0 if stats is None else stats.calls

    def fit(self, queue: str, expected: float = DEFAULT_EXPECTED_TALK, agent: str = "") -> TalkFit:
        """The queue's talk times (the prior blended with data), at the agent's own pace
        once they have PERSONAL_AFTER calls in this queue."""
        prior = TalkFit.prior(expected)
        stats = self._queue.get(queue)
        if stats is None:
            return prior
        n = stats.calls
        mu = (PRIOR_WEIGHT * prior.mu + n * stats.mean) / (PRIOR_WEIGHT + n)
        var = (PRIOR_WEIGHT * prior.sigma**2 + n * stats.var) / (PRIOR_WEIGHT + n)
        own = self._agent.get((agent, queue)) if agent else None
        if own is not None and own.calls >= PERSONAL_AFTER:
            mu = own.mean
        return TalkFit(mu, max(math.sqrt(var), MIN_SIGMA), n)

    def answer_delay(self, queue: str) -> float:
        average, count = self._delay.get(queue, (0.0, 0))
        blended = (PRIOR_WEIGHT * DEFAULT_ANSWER_DELAY + count * average) / (PRIOR_WEIGHT + count)
        return blended

    def abandon_share(self, queue: str) -> float:
        share = self._gave_up.get(queue)
        return 0.0 if share is None else share.share

    def abandon_rate(self, queue: str) -> float:
        """Callers giving up per second spent waiting in the queue (the hazard of an
        exponential patience): 0.0 until callers who waited were seen."""
        hazard = self._patience.get(queue)
        return 0.0 if hazard is None else hazard.rate


# -- the agents as they are now ---------------------------------------------------------
class Doing(StrEnum):
    FREE = "free"  # could take the caller now
    RINGING = "ringing"  # a call is being offered to them
    TALKING = "talking"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"  # on a pause whose usual length is known (WaitHistory.pause_fit)


@dataclass(frozen=True, slots=True)
class AgentNow:
    """One agent who may take the caller: what they do, for how long, at what pace."""

    doing: Doing
    elapsed: float  # seconds in that state
    talk: TalkFit
    wrapup: float = 0.0  # wrap-up after each call, seconds
    # Seconds until the agent may take this caller (a relax step of the queue lets them in).
    eligible_in: float = 0.0
    pause: TalkFit | None = None  # for PAUSED: how long pauses of this reason last
    # A pause asked for after this call (AgentStatus.pending_pause): how long such last.
    pause_after: TalkFit | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.elapsed) and self.elapsed >= 0):
            raise ValueError(f"elapsed must be a finite number >= 0, got {self.elapsed}")
        if not (math.isfinite(self.wrapup) and self.wrapup >= 0):
            raise ValueError(f"wrapup must be a finite number >= 0, got {self.wrapup}")
        if not (math.isfinite(self.eligible_in) and self.eligible_in >= 0):
            raise ValueError(f"eligible_in must be a finite number >= 0, got {self.eligible_in}")
        if self.doing is Doing.PAUSED and self.pause is None:
            raise ValueError("a paused agent counts only with how long such pauses last")


_DOING = {
    AgentState.RINGING: Doing.RINGING,
    AgentState.ON_CALL: Doing.TALKING,
    AgentState.WRAP_UP: Doing.WRAP_UP,
}


def agents_now(
    eligible: Iterable[tuple[str, float]],
    statuses: Mapping[str, AgentStatus],
    free: Callable[[str], bool],
    fit: Callable[[str], TalkFit],
    wrapup: float,
    now: float,
    pause_fit: Callable[[str], TalkFit | None] = lambda reason: None,
) -> list[AgentNow]:
    """The eligible agents as the estimate sees them. ``eligible``: (agent,
    seconds until they may take the caller), as Router.eligible_over_time gives
    them; ``free``: may the router offer them a call now; ``fit``: an agent's
    talk times in the caller's queue; ``pause_fit``: how long pauses of a
    reason last, None when not known (such paused agents are left out: nobody
    knows when they come back)."""
    found = []
    for agent, eligible_in in eligible:
        status = statuses.get(agent)
        if status is None or status.state is AgentState.LOGGED_OUT:
            continue
        elapsed = max(now - status.since, 0.0)
        if status.state is AgentState.PAUSED:
            pause = pause_fit(status.reason)
            if pause is not None:
                found.append(
                    AgentNow(Doing.PAUSED, elapsed, fit(agent), wrapup, eligible_in, pause)
                )
            continue
        # READY but not free: held for a call about to ring.
        doing = Doing.FREE if free(agent) else _DOING.get(status.state, Doing.RINGING)
        after = None
        if status.pending_pause is not None and doing is not Doing.FREE:
            after = pause_fit(status.pending_pause)
            if after is None:
                continue  # a pause of unknown length next: nobody knows when they are back
        found.append(AgentNow(doing, elapsed, fit(agent), wrapup, eligible_in, pause_after=after))
    return found


# -- the estimate and its confidence ---------------------------------------------------------
class Why(StrEnum):
    """Why a figure is not told to the caller (empty: it is)."""

    OK = ""
    NOBODY = "nobody staffed"
    FEW_CALLS = "too few calls measured"
    SPREAD = "too uncertain"


@dataclass(frozen=True, slots=True)
class Confidence:
    """When the product stands by a figure: enough calls measured, a narrow spread."""

    min_calls: int = 5
    max_expected_error: float = 0.5  # expected |estimate - actual| / actual
    # The 90th percentile of |estimate - actual| / actual over the draws: a figure one
    # caller in ten would find further off than this is not told.
    max_p90_error: float = math.inf


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    seconds: float | None  # None: nobody staffed can take the caller
    expected_error: float | None  # the draws' mean relative error of ``seconds``
    why_not: Why = Why.OK
    expected_p90: float | None = None  # the draws' 90th percentile relative error

    @property
    def reliable(self) -> bool:
        return self.why_not is Why.OK


def estimate(
    ahead: float,
    agents: Sequence[AgentNow],
    answer_delay: float = DEFAULT_ANSWER_DELAY,
    abandon_share: float = 0.0,
    confidence: Confidence = Confidence(),
    abandon_rate: float = 0.0,
    line: Line | Callable[[], Line | None] | None = None,
) -> WaitEstimate:
    """The wait of a caller with ``ahead`` calls in front of them, and whether to tell it.

    ``agents``: everyone staffed who may take this caller, as they are now
    (``agents_now``: paused agents only when pauses of their reason are known).
    ``ahead`` may be fractional (Router.expected_ahead). ``line``: the line as
    ``line_for`` gives it, or a function that makes it, called only when a draw
    needs it (not when a free agent takes the caller at once).
    """
    if not (math.isfinite(ahead) and ahead >= 0):
        raise ValueError(f"ahead must be a finite number >= 0, got {ahead}")
    if not (math.isfinite(answer_delay) and answer_delay >= 0):
        raise ValueError(f"answer delay must be a finite number >= 0, got {answer_delay}")
    if not 0 <= abandon_share < 1:
        raise ValueError(f"abandon share must be in [0, 1), got {abandon_share}")
    if not (math.isfinite(abandon_rate) and abandon_rate >= 0):
        raise ValueError(f"abandon rate must be a finite number >= 0, got {abandon_rate}")
    if not agents:
        return WaitEstimate(None, None, Why.NOBODY)
    calls = min(agent.talk.calls for agent in agents)
    free_now = sum(1 for a in agents if a.doing is Doing.FREE and a.eligible_in == 0)
    if ahead < free_now:  # someone takes this caller at once: no model needed
        return WaitEstimate(answer_delay, 0.0)
    if callable(line):
        line = line()
    if line is not None and line.mine:
        draws = _draws(len(line.agents) + len(line.rivals))
        if draws:
            waits = sorted(_draw_line(line, answer_delay, abandon_rate, draws))
            return _from_draws(waits, calls, confidence)
    draws = _draws(len(agents) + math.ceil(ahead))
    if draws == 0:
        seconds = _deterministic(ahead * (1.0 - abandon_share), agents, answer_delay)
        return WaitEstimate(seconds, None, _judge(calls, None, confidence))
    waits = sorted(_draw_waits(ahead, agents, answer_delay, abandon_share, draws, abandon_rate))
    return _from_draws(waits, calls, confidence)


def _from_draws(waits: list[float], calls: int, confidence: Confidence) -> WaitEstimate:
    """The figure from sorted draws of the wait, how far off the draws say it is, and
    whether to stand by it."""
    seconds = _best_relative(waits)
    errors = sorted(abs(seconds - w) / max(w, RELATIVE_FLOOR) for w in waits)
    error = sum(errors) / len(errors)
    p90 = quantile(errors, 0.9)
    return WaitEstimate(seconds, error, _judge(calls, error, confidence, p90), p90)


def _judge(
    calls: int, error: float | None, confidence: Confidence, p90: float | None = None
) -> Why:
    if calls < confidence.min_calls:
        return Why.FEW_CALLS
    if error is not None and error > confidence.max_expected_error:
        return Why.SPREAD
    if p90 is not None and p90 > confidence.max_p90_error:
        return Why.SPREAD
    return Why.OK


def _draws(steps: int) -> int:
    """Draws for this many steps a draw takes (agents + calls ahead); 0: too many to
    draw in the budget, use expected values."""
    draws = min(DRAWS, DRAW_BUDGET // steps)
    return draws if draws >= MIN_DRAWS else 0


_FIXED, _RINGING, _LEFT = 0, 1, 2  # how an agent frees up in a draw (_plan)
_NV_MAGIC = 4 * math.exp(-0.5) / math.sqrt(2.0)  # random.NV_MAGICCONST, as random.py makes it


def _draw_waits(
    ahead: float,
    agents: Sequence[AgentNow],
    answer_delay: float,
    abandon_share: float,
    draws: int,
    abandon_rate: float = 0.0,
) -> list[float]:
    """``draws`` waits: the hot loop of a caller's queue entry. Each agent's way of
    freeing up is worked out once (``_plan``) and Random.lognormvariate is written
    out, so the draws, and the figures, are exactly what drawing through
    ``TalkFit.draw_total`` per agent gives, at a fraction of the calls."""
    rng = random.Random(SEED)
    uniform = rng.random
    log, exp, expm1, inv_cdf = math.log, math.exp, math.expm1, _NORMAL.inv_cdf
    whole, part = int(ahead), ahead - int(ahead)
    plans = [_plan(agent, answer_delay) for agent in agents]
    afters = [agent.pause_after for agent in agents]
    lognorm = rng.lognormvariate
    # Once an agent frees up, each call ahead keeps them answer + talk + wrap-up.
    cycles = [(agent.talk.mu, agent.talk.sigma, agent.wrapup) for agent in agents]
    waits = []
    for _ in range(draws):
        free = []
        for index, (kind, fixed, mu, sigma, below, wrapup, eligible_in) in enumerate(plans):
            after = afters[index]
            if kind == _FIXED:
                if after is None:
                    free.append((fixed, index))
                else:  # then a pause they asked for (fixed is the wrap-up left)
                    done = fixed + lognorm(after.mu, after.sigma)
                    free.append((max(done, eligible_in), index))
                continue
            if below > 0.0:  # a talk (or pause) that has lasted: the rest of the lognormal
                u = below + uniform() * (1.0 - below)
                u = min(max(u, 1e-12), 1.0 - 1e-12)
                total = exp(mu + sigma * inv_cdf(u))
            else:  # Random.lognormvariate(mu, sigma), drawn as Random.normalvariate does
                while True:
                    u1 = uniform()
                    u2 = 1.0 - uniform()
                    z = _NV_MAGIC * (u1 - 0.5) / u2
                    if z * z / 4.0 <= -log(u2):
                        break
                total = exp(mu + z * sigma)
            # fixed: the ring left (_RINGING); how long the talk or pause has lasted (_LEFT)
            done = fixed + total + wrapup if kind == _RINGING else max(total - fixed, 0.0) + wrapup
            if after is not None:
                done += lognorm(after.mu, after.sigma)
            free.append((max(done, eligible_in), index))
        heapq.heapify(free)
        # A fractional call ahead (from an average) counts in that share of the draws.
        count = whole + (1 if uniform() < part else 0)
        for _ in range(count):
            if abandon_share and uniform() < abandon_share:
                continue  # this caller gives up before an agent frees up for them
            at, index = free[0]
            if abandon_rate and uniform() < -expm1(-abandon_rate * at):
                continue  # still waiting when an agent frees up for them? (patience)
            mu, sigma, wrapup = cycles[index]
            while True:
                u1 = uniform()
                u2 = 1.0 - uniform()
                z = _NV_MAGIC * (u1 - 0.5) / u2
                if z * z / 4.0 <= -log(u2):
                    break
            heapq.heapreplace(free, (at + (answer_delay + exp(mu + z * sigma) + wrapup), index))
        waits.append(free[0][0] + answer_delay)
    return waits


Plan = tuple[int, float, float, float, float, float, float]


def _plan(agent: AgentNow, answer_delay: float) -> Plan:
    """(kind, fixed, mu, sigma, below, wrap-up, eligible in) for ``_draw_waits``."""
    talk, wrapup, eligible_in = agent.talk, agent.wrapup, agent.eligible_in
    match agent.doing:
        case Doing.FREE:
            return (_FIXED, max(0.0, eligible_in), 0.0, 0.0, 0.0, 0.0, 0.0)
        case Doing.WRAP_UP:
            done = max(wrapup - agent.elapsed, 0.0)
            if agent.pause_after is not None:  # eligible_in applies after the pause
                return (_FIXED, done, 0.0, 0.0, 0.0, 0.0, eligible_in)
            return (_FIXED, max(done, eligible_in), 0.0, 0.0, 0.0, 0.0, 0.0)
        case Doing.RINGING:
            ring_left = max(answer_delay - agent.elapsed, 0.0)
            return (_RINGING, ring_left, talk.mu, talk.sigma, 0.0, wrapup, eligible_in)
        case Doing.TALKING:
            below = _survived(agent)
            return (_LEFT, agent.elapsed, talk.mu, talk.sigma, below, wrapup, eligible_in)
        case Doing.PAUSED:
            assert agent.pause is not None  # checked when made
            pause, below = agent.pause, _survived(agent)
            return (_LEFT, agent.elapsed, pause.mu, pause.sigma, below, 0.0, eligible_in)


def _survived(agent: AgentNow) -> float:
    """Where the agent's current call (or pause) sits in its distribution."""
    if agent.doing is Doing.TALKING:
        return agent.talk.survived(agent.elapsed)
    if agent.doing is Doing.PAUSED and agent.pause is not None:
        return agent.pause.survived(agent.elapsed)
    return 0.0


def _best_relative(waits: Sequence[float]) -> float:
    """The figure minimising the mean of |figure - w| / max(w, floor) over sorted ``waits``.

    That mean is piecewise linear in the figure, so its minimum is a weighted
    median: weights 1 / max(w, floor).
    """
    weights = [1.0 / max(w, RELATIVE_FLOOR) for w in waits]
    half = sum(weights) / 2
    running = 0.0
    for wait, weight in zip(waits, weights, strict=True):
        running += weight
        if running >= half:
            return wait
    return waits[-1]


def _deterministic(ahead: float, agents: Sequence[AgentNow], answer_delay: float) -> float:
    """Expected values instead of draws (many agents: the draws would cost too much)."""
    loads = []
    for agent in agents:
        cycle = answer_delay + agent.talk.mean + agent.wrapup
        match agent.doing:
            case Doing.FREE:
                free_in = 0.0
            case Doing.RINGING:
                free_in = cycle - min(agent.elapsed, answer_delay)
            case Doing.TALKING:
                free_in = _median_left(agent.talk, agent.elapsed) + agent.wrapup
            case Doing.WRAP_UP:
                free_in = max(agent.wrapup - agent.elapsed, 0.0)
            case Doing.PAUSED:
                assert agent.pause is not None  # checked when made
                free_in = _median_left(agent.pause, agent.elapsed)
        if agent.pause_after is not None:
            free_in += math.exp(agent.pause_after.mu)  # the median pause
        loads.append(AgentLoad(max(free_in, agent.eligible_in), cycle))
    wait = estimate_wait(round(ahead), loads)
    assert wait is not None  # agents is not empty
    return wait + answer_delay


def _median_left(talk: TalkFit, elapsed: float) -> float:
    """The median remaining talk of a call ``elapsed`` s old."""
    below = talk.survived(elapsed)
    u = below + (1.0 - below) / 2
    return max(math.exp(talk.mu + talk.sigma * _NORMAL.inv_cdf(u)) - elapsed, 0.0)


# -- every caller ahead, with the agents each may take ----------------------------------------
# Callers ahead and agents a line may hold: beyond, too few draws would fit in the
# budget (the count estimate instead), so the line is not even built.
MAX_LINE = DRAW_BUDGET // MIN_DRAWS


@dataclass(frozen=True, slots=True)
class Rival:
    """A caller more deserving than this one who may take some of the same agents."""

    agents: Mapping[int, float]  # index in the agents -> seconds until they may take the call
    talk: TalkFit  # talk times in that caller's queue
    wrapup: float = 0.0


@dataclass(frozen=True, slots=True)
class Line:
    """The line as this caller sees it: every agent who may take this caller or a
    caller ahead who competes with them (``agents``, with ``eligible_in`` 0.0), the
    ones who may take this caller and from when (``mine``), and the callers ahead
    in service order (``rivals``)."""

    agents: tuple[AgentNow, ...]
    mine: Mapping[int, float]
    rivals: tuple[Rival, ...]


class _Router(Protocol):
    def eligible_over_time(self, call_id: str, now: float) -> list[tuple[str, float]]: ...
    def rivals(self, call_id: str, now: float) -> list[tuple[str, str]]: ...


def line_for(
    router: _Router,
    call_id: str,
    statuses: Mapping[str, AgentStatus],
    free: Callable[[str], bool],
    work: Callable[[str], tuple[TalkFit, float]],
    queue_fit: Callable[[str], TalkFit],
    wrapup: Callable[[str], float],
    now: float,
    pause_fit: Callable[[str], TalkFit | None] = lambda reason: None,
) -> Line | None:
    """The line of ``call_id`` (``estimate(line=...)``), None when it is too long to
    draw caller by caller. ``work``: the talk times and wrap-up of the call an agent is
    on or being offered (its queue's, at the agent's pace; a free agent: this caller's
    queue); ``queue_fit``, ``wrapup``: a queue's, for the callers ahead."""
    ahead = router.rivals(call_id, now)
    mine_over_time = router.eligible_over_time(call_id, now)
    if len(ahead) + len(mine_over_time) > MAX_LINE:
        return None
    wanted = {agent for agent, _ in mine_over_time}
    theirs = []
    for rival, queue in ahead:
        eligible = router.eligible_over_time(rival, now)
        if any(agent in wanted for agent, _ in eligible):
            theirs.append((eligible, queue))
    names: list[str] = []
    index: dict[str, int] = {}
    agents: list[AgentNow] = []

    def indexed(pairs: list[tuple[str, float]]) -> dict[int, float]:
        found = {}
        for agent, eligible_in in pairs:
            if agent not in index:
                talk, after = work(agent)
                made = agents_now(
                    [(agent, 0.0)], statuses, free, _constant(talk), after, now, pause_fit
                )
                if not made:
                    continue  # logged out, or on a pause of unknown length
                index[agent] = len(names)
                names.append(agent)
                agents.append(made[0])
            found[index[agent]] = eligible_in
        return found

    mine = indexed(mine_over_time)
    rivals = []
    for eligible, queue in theirs:
        rivals.append(Rival(indexed(eligible), queue_fit(queue), wrapup(queue)))
    return Line(tuple(agents), mine, tuple(rivals))


def _constant(talk: TalkFit) -> Callable[[str], TalkFit]:
    return lambda _agent: talk


def _draw_line(line: Line, answer_delay: float, abandon_rate: float, draws: int) -> list[float]:
    """``draws`` waits of the caller at the end of ``line``: each agent frees up as
    in ``_draw_waits``; then, in time order, each agent who frees up takes the most
    deserving caller ahead still waiting who may have them, until one is this caller.
    Callers ahead give up at the queue's rate (an exponential patience)."""
    rng = random.Random(SEED)
    uniform, lognorm, log = rng.random, rng.lognormvariate, math.log
    plans = [_plan(agent, answer_delay) for agent in line.agents]
    afters = [agent.pause_after for agent in line.agents]
    rivals = line.rivals
    # agent -> [(rank, from)] of the callers who may take them, most deserving first
    takers: list[list[tuple[int, float]]] = [[] for _ in line.agents]
    for rank, rival in enumerate(rivals):
        for index, start in rival.agents.items():
            takers[index].append((rank, start))
    me = len(rivals)
    for index, start in line.mine.items():
        takers[index].append((me, start))
    cycles = [(r.talk.mu, r.talk.sigma, r.wrapup) for r in rivals]
    waits = []
    for _ in range(draws):
        free = [
            (plan[1] if plan[0] == _FIXED and afters[index] is None else
             _free_in(plan, uniform, lognorm, afters[index]), index)
            for index, plan in enumerate(plans)
        ]  # fmt: skip
        heapq.heapify(free)
        if abandon_rate:
            leave = [-log(1.0 - uniform()) / abandon_rate for _ in rivals]
        else:
            leave = [math.inf] * len(rivals)
        taken = [False] * len(rivals)
        while free:
            at, index = heapq.heappop(free)
            later = math.inf
            who = -1
            for rank, start in takers[index]:
                if rank < me and (taken[rank] or leave[rank] <= at):
                    continue
                if start <= at:
                    who = rank
                    break
                later = min(later, start)
            if who == me:
                waits.append(at + answer_delay)
                break
            if who < 0:
                if later < math.inf:
                    heapq.heappush(free, (later, index))
                continue
            taken[who] = True
            mu, sigma, rival_wrapup = cycles[who]
            heapq.heappush(free, (at + answer_delay + lognorm(mu, sigma) + rival_wrapup, index))
    return waits


def _free_in(
    plan: Plan,
    uniform: Callable[[], float],
    lognorm: Callable[[float, float], float],
    after: TalkFit | None,
) -> float:
    """Seconds until the agent of ``plan`` (``_plan``) frees up, drawn."""
    kind, fixed, mu, sigma, below, plan_wrapup, eligible_in = plan
    if kind == _FIXED:
        done = fixed
    else:
        if below > 0.0:
            u = below + uniform() * (1.0 - below)
            u = min(max(u, 1e-12), 1.0 - 1e-12)
            total = math.exp(mu + sigma * _NORMAL.inv_cdf(u))
        else:
            total = lognorm(mu, sigma)
        if kind == _RINGING:
            done = fixed + total + plan_wrapup
        else:
            done = max(total - fixed, 0.0) + plan_wrapup
    if after is not None:  # then a pause they asked for
        done += lognorm(after.mu, after.sigma)
    return max(done, eligible_in)


# -- how good the estimates were ------------------------------------------------------------
def relative_errors(pairs: Sequence[tuple[float, float]]) -> list[float]:
    """|estimate - actual| / actual for (estimate, actual) pairs, sorted.

    Waits shorter than RELATIVE_FLOOR count as that long: a caller cannot tell
    2 s from 6 s, and a ratio to a near-zero wait would say nothing.
    """
    for estimate_s, actual in pairs:
        if not (math.isfinite(estimate_s) and math.isfinite(actual) and actual >= 0):
            raise ValueError(f"not an (estimate, actual) pair: {(estimate_s, actual)}")
    return sorted(abs(e - a) / max(a, RELATIVE_FLOOR) for e, a in pairs)


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The q-quantile of sorted values, linearly interpolated; None for no values."""
    if not ordered:
        return None
    if not 0 <= q <= 1:
        raise ValueError(f"q must be in [0, 1], got {q}")
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class EstimateRecord:
    """One logged estimate and the wait that followed (wait_estimates)."""

    queue: str
    estimate: float
    actual: float
    reliable: bool | None  # None: logged before the confidence was


@dataclass(frozen=True, slots=True)
class ErrorSummary:
    count: int
    median: float | None  # of |estimate - actual| / actual
    p90: float | None


def summarize(pairs: Sequence[tuple[float, float]]) -> ErrorSummary:
    errors = relative_errors(pairs)
    return ErrorSummary(len(errors), quantile(errors, 0.5), quantile(errors, 0.9))
