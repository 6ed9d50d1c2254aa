"""How many calls to place now: preview, progressive and predictive pacing.

- preview: none by itself; an agent asks for the next lead and dials it.
- progressive: one call per free agent (calls already ringing count against
  them), so a person who answers always finds an agent: no abandons by design.
- predictive: more calls than free agents. Of ``M`` calls ringing, each
  needs an agent with probability ``p`` (the measured connect rate, read
  pessimistically from its sample: the upper end of a Wilson interval), so
  the connects are ``X ~ Binomial(M, p)``. A call already ringing for a while
  is read against the campaign's recent dials still unanswered at that age (of
  those, the share a person answered, read the same pessimistic way): a call
  ringing past the time people answer is mostly one that will ring out; with
  too few such dials it counts with ``p`` like a new one. The agents there to take them are
  the free ones plus the busy ones that finish within the time a call takes to
  be answered. Each busy agent's chance of that reads how long they have been
  on their call against the campaign's recent handle times (of the handles
  that lasted longer than that, the share that ended within the window, read
  pessimistically: the lower end of a Wilson interval), so an agent near the
  end of a typical call counts as nearly free and one who just began as
  nearly busy; with too few such handles it falls back to handle times taken
  as exponential (the same chance for every busy agent). A connect beyond
  the agents is an abandon; we place the most calls whose
  expected abandons ``E[(X - A)+]`` stay within ``target x E[X]``.
- The governor: the target is a share of the campaign's cap (``SAFETY``)
  while the abandon rate measured over the rule's window (30 days, 24 h) is
  well below the cap, falls linearly to zero as it nears the cap, and at zero
  pacing is progressive. Until the sample is big enough to trust, pacing is
  progressive too.

Pure and deterministic; the bench (bench/dialer_simulation.py) drives it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from callcenter.core.outbound.settings import Mode

SAFETY = 0.85  # aim at this share of the cap while far from it
BAND = 0.25  # start backing off when the measured rate is within this share of the cap
MIN_SAMPLE = 30  # dials before the connect rate is trusted
CONFIDENCE_Z = 1.645  # one-sided 95 %
MIN_RESOLVED = 30  # dials still unanswered at a call's age before they are read
MIN_HANDLES = 10  # handles longer than an agent's time on call before they are read
MAX_CALLS = 500  # never more calls in flight than this, whatever the figures say
GRID = 200  # rates are used in steps of 0.005

Used = Literal["preview", "progressive", "predictive", "hold"]


@dataclass(frozen=True, slots=True)
class AbandonStats:
    """Over the campaign's rule window: calls answered by a person, and of those abandoned."""

    live_answered: int
    abandoned: int

    @property
    def rate_pct(self) -> float:
        return 100.0 * self.abandoned / self.live_answered if self.live_answered else 0.0


@dataclass(frozen=True, slots=True)
class PacingInput:
    mode: Mode
    free_agents: int  # ready and idle, waiting for a call of this campaign
    busy_agents: int  # on a campaign call or in its wrap-up
    in_flight: int  # calls placed and not yet answered or failed
    dials: int  # recent sample: calls placed...
    connects: int  # ...and of those, the answers that needed an agent
    mean_handle_seconds: float  # talk + wrap-up
    mean_answer_seconds: float  # from dialling to a connect ready for an agent (ring, AMD)
    abandons: AbandonStats
    cap_pct: float = 3.0
    max_dial_ratio: float = 3.0  # calls per agent expected available
    grace_seconds: float = 2.0  # a connect may wait this long for an agent (not an abandon)
    # Seconds each busy agent has been on their call (or wrap-up), when known; the
    # busy agents beyond this list are counted with the exponential chance.
    busy_elapsed: tuple[float, ...] = ()
    handle_times: tuple[float, ...] = ()  # recent handles (talk + wrap-up), seconds
    # Seconds each call in flight has been ringing, when known (the rest count with p).
    in_flight_ages: tuple[float, ...] = ()
    # Recent dials that are over: (seconds until answered or ended, needed an agent).
    resolved: tuple[tuple[float, bool], ...] = ()


@dataclass(frozen=True, slots=True)
class PacingDecision:
    dial: int  # calls to place now
    used: Used
    reason: str
    connect_rate: float  # the pessimistic rate the decision used
    target_abandon_pct: float  # expected abandons per connect this decision allows
    expected_connects: float
    expected_abandons: float


def pace(state: PacingInput) -> PacingDecision:
    if state.mode == "preview":
        return _flat(state, 0, "preview", "preview: the agent asks for the next lead")
    if state.free_agents <= 0 and (state.mode == "progressive" or state.busy_agents <= 0):
        return _flat(state, 0, "hold", "no agent free")
    progressive = max(0, state.free_agents - state.in_flight)
    if state.mode == "progressive":
        return _flat(state, progressive, "progressive", "one call per free agent")
    target = target_abandon_pct(state.abandons, state.cap_pct)
    if state.dials < MIN_SAMPLE:
        reason = f"warming up: {state.dials} of {MIN_SAMPLE} dials measured"
        return _flat(state, progressive, "progressive", reason)
    if target <= 0:
        reason = f"abandon rate {state.abandons.rate_pct:.2f} % at the {state.cap_pct} % cap"
        return _flat(state, progressive, "progressive", reason)
    return _predictive(state, progressive, target)


def target_abandon_pct(abandons: AbandonStats, cap_pct: float) -> float:
    """The governor: SAFETY x cap, falling to 0 as the measured rate nears the cap."""
    if cap_pct <= 0:
        return 0.0
    headroom = (cap_pct - abandons.rate_pct) / (cap_pct * BAND)
    return cap_pct * SAFETY * min(1.0, max(0.0, headroom))


def connect_rate(dials: int, connects: int) -> float:
    """Upper end of the Wilson score interval: a small sample never makes us bolder."""
    if dials <= 0:
        return 1.0
    z2 = CONFIDENCE_Z**2
    share = min(connects, dials) / dials
    centre = share + z2 / (2 * dials)
    spread = CONFIDENCE_Z * math.sqrt(share * (1 - share) / dials + z2 / (4 * dials * dials))
    return min(1.0, (centre + spread) / (1 + z2 / dials))


def finishing_share(mean_answer_seconds: float, mean_handle_seconds: float) -> float:
    """Chance a busy agent is free by the time a call placed now is answered."""
    if mean_handle_seconds <= 0:
        return 1.0
    return 1.0 - math.exp(-max(0.0, mean_answer_seconds) / mean_handle_seconds)


def finishing_after(elapsed: float, window: float, handle_times: Sequence[float]) -> float | None:
    """Chance an agent ``elapsed`` seconds into a handle is free within ``window``:
    of the recent handles longer than ``elapsed``, the share that ended within
    ``elapsed + window``, read pessimistically (the lower end of a Wilson interval).
    None with fewer than MIN_HANDLES such handles. ``handle_times`` sorted."""
    start = bisect.bisect_right(handle_times, elapsed)
    longer = len(handle_times) - start
    if longer < MIN_HANDLES:
        return None
    ended = bisect.bisect_right(handle_times, elapsed + window) - start
    return _wilson_lower(longer, ended)


def finishing_shares(state: PacingInput) -> tuple[float, ...]:
    """Each busy agent's chance of being free when a call placed now is answered,
    in steps of 1/GRID rounded down, sorted (so decisions repeat and are cached)."""
    window = max(0.0, state.mean_answer_seconds) + state.grace_seconds
    flat = finishing_share(window, state.mean_handle_seconds)
    handles = sorted(state.handle_times)
    shares = []
    for index in range(max(0, state.busy_agents)):
        share = None
        if index < len(state.busy_elapsed):
            share = finishing_after(state.busy_elapsed[index], window, handles)
        shares.append(math.floor((flat if share is None else share) * GRID) / GRID)
    return tuple(sorted(shares))


def ringing_connect_rates(state: PacingInput, p: float) -> tuple[float, ...]:
    """Each call in flight's chance of needing an agent: of the recent dials still
    unanswered at its age, the share that did (upper end of a Wilson interval, in
    steps of 1/GRID rounded up); ``p`` for a call of unknown age or too few such dials."""
    over = sorted(state.resolved)
    needed_after = [0] * (len(over) + 1)  # [i]: of over[i:], the dials that needed an agent
    for i in range(len(over) - 1, -1, -1):
        needed_after[i] = needed_after[i + 1] + over[i][1]
    rates = []
    for index in range(max(0, state.in_flight)):
        rate = p
        if index < len(state.in_flight_ages):
            start = bisect.bisect_right(over, (state.in_flight_ages[index], True))
            later = len(over) - start  # still unanswered at this call's age
            if later >= MIN_RESOLVED:
                rate = math.ceil(connect_rate(later, needed_after[start]) * GRID) / GRID
        rates.append(rate)
    return tuple(sorted(rates))


def _wilson_lower(trials: int, hits: int) -> float:
    z2 = CONFIDENCE_Z**2
    share = min(hits, trials) / trials
    centre = share + z2 / (2 * trials)
    spread = CONFIDENCE_Z * math.sqrt(share * (1 - share) / trials + z2 / (4 * trials * trials))
    return max(0.0, (centre - spread) / (1 + z2 / trials))


def _predictive(state: PacingInput, progressive: int, target_pct: float) -> PacingDecision:
    # Coarse steps, each rounded the cautious way, so decisions repeat and are cached.
    p = math.ceil(connect_rate(state.dials, state.connects) * GRID) / GRID
    shares = finishing_shares(state)
    ringing = ringing_connect_rates(state, p)
    expected_agents = state.free_agents + sum(shares)
    ceiling = min(MAX_CALLS, math.floor(state.max_dial_ratio * expected_agents))
    limit = max(0, ceiling - state.in_flight)
    dial, connects, abandons = _most_calls(
        state.free_agents,
        shares,
        ringing,
        p,
        round(target_pct / 100.0, 5),
        progressive,
        max(limit, progressive),
    )
    reason = (
        f"{dial} calls for {state.free_agents} free and {state.busy_agents} busy agents; "
        f"connect rate <= {p:.3f}; abandons {state.abandons.rate_pct:.2f} % of {state.cap_pct} %"
    )
    return PacingDecision(dial, "predictive", reason, p, target_pct, connects, abandons)


@lru_cache(maxsize=65536)
def _most_calls(
    free: int,
    shares: tuple[float, ...],
    ringing: tuple[float, ...],
    p: float,
    target: float,
    floor: int,
    limit: int,
) -> tuple[int, float, float]:
    """Largest n in [floor, limit] with E[(X - A)+] <= target x E[X]; X the connects of
    the calls in flight (one chance each in ``ringing``) and of n new ones (``p`` each),
    A the free agents plus the busy ones freed (one chance each in ``shares``)."""
    agents = _freed(shares)
    x: Sequence[float] = _freed(ringing)
    in_flight = sum(ringing)
    best = (floor, 0.0, 0.0)
    for n in range(limit + 1):
        if n > 0:
            x = _add_call(x, p)
        if n < floor:
            continue
        expected, excess = _excess(x, agents, free, in_flight + p * n)
        if n > floor and excess > target * expected:
            break
        best = (n, expected, excess)
    return best


def _excess(
    x: Sequence[float], agents: Sequence[float], free: int, expected: float
) -> tuple[float, float]:
    # E[(X - k)+] = sum over j > k of P(X >= j): one pass of tail sums serves every k.
    tails = [0.0] * (len(x) + 1)
    for j in range(len(x) - 1, -1, -1):
        tails[j] = tails[j + 1] + x[j]
    over = [0.0] * (len(x) + 1)
    for k in range(len(x) - 1, -1, -1):
        over[k] = over[k + 1] + tails[k + 1]
    excess = sum(py * over[free + y] for y, py in enumerate(agents) if free + y < len(over))
    return expected, excess


@lru_cache(maxsize=4096)
def _freed(shares: tuple[float, ...]) -> tuple[float, ...]:
    """How many of the busy agents are freed (or calls connect): one Bernoulli each."""
    pmf: Sequence[float] = (1.0,)
    for share in shares:
        pmf = _add_call(pmf, share)
    return tuple(pmf)


@lru_cache(maxsize=4096)
def _binomial(n: int, p: float) -> tuple[float, ...]:
    pmf: Sequence[float] = (1.0,)
    for _ in range(n):
        pmf = _add_call(pmf, p)
    return tuple(pmf)


def _add_call(pmf: Sequence[float], p: float) -> list[float]:
    grown = [v * (1 - p) for v in pmf] + [0.0]
    for i, v in enumerate(pmf):
        grown[i + 1] += v * p
    return grown


def _flat(state: PacingInput, dial: int, used: Used, reason: str) -> PacingDecision:
    p = connect_rate(state.dials, state.connects) if state.dials else 0.0
    return PacingDecision(dial, used, reason, p, 0.0, dial * p, 0.0)
