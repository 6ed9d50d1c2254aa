"""Erlang C (M/M/n) and Erlang A (M/M/n+M, callers who give up) for staffing (pure).

Units: ``rate`` is calls per second, ``aht`` (average handle time) and every
time in seconds, ``patience`` the callers' mean patience in seconds.
Traffic (Erlangs) is ``rate * aht``.

Erlang C: the standard formulas, computed from the Erlang B recursion
(B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1))), which never forms A^n / n! and
so stays stable for hundreds of agents:
  P(wait) = n B / (n - A (1 - B))                          (n > A, else 1)
  P(wait > t) = P(wait) exp(-(n - A) t / aht)
  ASA = P(wait) aht / (n - A)

Erlang A (Palm; Mandelbaum and Zeltyn, "Service engineering in action: the
Palm/Erlang-A queue", 2007): with mu = 1/aht, theta = 1/patience, a = n mu / theta,
x = rate / theta and R = sum_j x^j / ((a+1)...(a+j)) (= A(a, x) in their notation):
  P(wait) = R B / (1 + (R - 1) B)
  P(abandon | wait) = 1 / (rho R) + 1 - 1 / rho,   rho = rate / (n mu)
  average wait (all offered calls) = P(abandon) / theta   (Little's law)
and the waiting callers' *offered* wait V (the time they would wait if they never
gave up) has the density, given a wait,
  g(v) = a theta exp(x (1 - exp(-theta v)) - n mu v) / R
(the Laplace transform of the stationary queue, summed over the callers ahead),
so the service level (answered within t / offered) is
  1 - P(wait) + P(wait) * integral_0^t exp(-theta v) g(v) dv
(a caller is answered within t if the offered wait is at most t and the
caller's patience outlasts it). The integral is taken by Simpson's rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

SIMPSON_STEPS = 200  # even; the integrand is smooth and bounded on [0, t]
MAX_AGENTS = 10_000


class ErlangInputError(ValueError):
    """Inputs no queueing model can take (negative rates, an impossible target...)."""


def _check(rate: float, aht: float) -> None:
    if rate < 0 or not math.isfinite(rate):
        raise ErlangInputError(f"the call rate must be 0 or more, not {rate}")
    if aht <= 0 or not math.isfinite(aht):
        raise ErlangInputError(f"the handle time must be more than 0, not {aht}")


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of an Erlang loss system (the stable recursion)."""
    if agents < 0:
        raise ErlangInputError(f"agents must be 0 or more, not {agents}")
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


@dataclass(frozen=True, slots=True)
class Performance:
    """What a queue staffed with ``agents`` should see (steady state)."""

    agents: int
    wait_probability: float  # a caller waits at all
    service_level: float  # answered within the target / offered
    average_wait: float | None  # seconds, all offered calls (None: the queue grows without end)
    abandon_probability: float  # 0 in Erlang C
    occupancy: float  # agents' busy share


# -- Erlang C ---------------------------------------------------------------------
def erlang_c(agents: int, traffic: float) -> float:
    """The probability an arriving caller waits (1 when the agents cannot keep up)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1 - b))


def erlang_c_performance(agents: int, rate: float, aht: float, target: float) -> Performance:
    _check(rate, aht)
    traffic = rate * aht
    wait = erlang_c(agents, traffic)
    if traffic > 0 and agents <= traffic:
        return Performance(agents, 1.0, 0.0, None, 0.0, 1.0)
    spare = agents - traffic
    level = 1.0 - wait * math.exp(-spare * target / aht) if agents else 1.0
    asa = wait * aht / spare if agents else 0.0
    busy = traffic / agents if agents else 0.0
    return Performance(agents, wait, level, asa, 0.0, busy)


# -- Erlang A ---------------------------------------------------------------------
def _log_r(a: float, x: float) -> float:
    """log R, R = sum_j x^j / ((a+1)...(a+j)) = a e^x x^-a lower_gamma(a, x).

    The series (in logs) where its terms fall from the start (x < a + 1), else the
    regularized incomplete gamma by its continued fraction, as in Numerical Recipes
    (the series would need about x - a terms: millions for a long patience)."""
    if x >= a + 1:
        return math.log(a) + x - a * math.log(x) + math.lgamma(a) + math.log1p(-_gamma_q(a, x))
    total, log_term, j = 1.0, 0.0, 0
    while True:
        j += 1
        log_term += math.log(x) - math.log(a + j)
        total += math.exp(log_term)
        if log_term < -40:
            return math.log(total)


def _gamma_q(a: float, x: float) -> float:
    """The regularized upper incomplete gamma Q(a, x) for x >= a + 1 (modified Lentz)."""
    tiny = 1e-300
    b = x + 1.0 - a
    c, d = 1.0 / tiny, 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        step = d * c
        h *= step
        if abs(step - 1.0) < 1e-15:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def erlang_a_performance(
    agents: int, rate: float, aht: float, target: float, patience: float
) -> Performance:
    _check(rate, aht)
    if patience <= 0 or math.isnan(patience):
        raise ErlangInputError(f"the patience must be more than 0, not {patience}")
    if math.isinf(patience):
        return erlang_c_performance(agents, rate, aht, target)
    if rate == 0:
        return Performance(agents, 0.0, 1.0, 0.0, 0.0, 0.0)
    mu, theta = 1.0 / aht, 1.0 / patience
    if agents == 0:  # everyone waits and everyone gives up
        return Performance(0, 1.0, 0.0, patience, 1.0, 0.0)
    a, x = agents * mu / theta, rate / theta
    log_r = _log_r(a, x)
    b = erlang_b(agents, rate * aht)
    # P(wait) = R B / (1 - B + R B), written to survive a huge R.
    wait = 1.0 / (1.0 + (1.0 - b) * math.exp(-(math.log(b) + log_r))) if b > 0 else 0.0
    rho = rate / (agents * mu)
    abandon_if_wait = min(1.0, max(0.0, math.exp(-log_r) / rho + 1.0 - 1.0 / rho))
    abandon = wait * abandon_if_wait

    def integrand(v: float) -> float:  # exp(-theta v) g(v)
        return a * theta * math.exp(x * -math.expm1(-theta * v) - (agents * mu + theta) * v - log_r)

    answered_in_time = _simpson(integrand, 0.0, target) if target > 0 else 0.0
    level = min(1.0, max(0.0, 1.0 - wait + wait * answered_in_time))
    busy = min(1.0, rate * (1.0 - abandon) * aht / agents)
    return Performance(agents, wait, level, abandon / theta, abandon, busy)


def _simpson(f: Callable[[float], float], low: float, high: float) -> float:
    h = (high - low) / SIMPSON_STEPS
    total = f(low) + f(high)
    for i in range(1, SIMPSON_STEPS):
        total += (4 if i % 2 else 2) * f(low + i * h)
    return float(total * h / 3)


# -- staffing ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Goal:
    """A service-level goal: ``level`` of calls answered within ``target`` seconds,
    with agents busy at most ``max_occupancy`` of their time."""

    level: float = 0.8
    target: float = 20.0
    max_occupancy: float = 0.85

    def __post_init__(self) -> None:
        if not 0 < self.level < 1:
            raise ErlangInputError(f"the service level must be between 0 and 1, not {self.level}")
        if self.target <= 0:
            raise ErlangInputError(f"the target must be more than 0 s, not {self.target}")
        if not 0 < self.max_occupancy <= 1:
            raise ErlangInputError(
                f"the maximum occupancy must be above 0 and at most 1, not {self.max_occupancy}"
            )


def agents_needed(
    rate: float, aht: float, goal: Goal, patience: float | None = None
) -> Performance:
    """The fewest agents that meet the goal: Erlang C, or Erlang A with a patience."""
    _check(rate, aht)
    if rate == 0:
        return Performance(0, 0.0, 1.0, 0.0, 0.0, 0.0)

    def perform(n: int) -> Performance:
        if patience is None:
            return erlang_c_performance(n, rate, aht, goal.target)
        return erlang_a_performance(n, rate, aht, goal.target, patience)

    def enough(p: Performance) -> bool:
        return p.service_level >= goal.level and p.occupancy <= goal.max_occupancy

    # Erlang C needs more agents than the traffic. Abandonment only helps, so
    # Erlang A starts from Erlang C's answer and steps down.
    # Erlang C's occupancy is traffic / agents: the cap alone sets a floor.
    traffic = rate * aht
    floor = max(math.floor(traffic) + 1, math.ceil(traffic / goal.max_occupancy - 1e-9))
    if floor > MAX_AGENTS:
        raise ErlangInputError(f"more than {MAX_AGENTS} agents: check the inputs")
    n = floor if patience is None else agents_needed(rate, aht, goal).agents
    found = perform(n)
    while n > 1 and enough(found):  # Erlang A's start may already be enough: step down
        lower = perform(n - 1)
        if not enough(lower):
            return found
        n, found = n - 1, lower
    while not enough(found):
        n += 1
        if n > MAX_AGENTS:
            raise ErlangInputError(f"more than {MAX_AGENTS} agents: check the inputs")
        found = perform(n)
    return found
