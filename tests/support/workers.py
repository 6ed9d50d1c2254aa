"""Port bases for parallel test workers (pytest-xdist).

A test run uses ports from ``base - 9930`` (SIPp callers, softphones, customers) to
``base + 9499`` (RTP of a second Asterisk); workers' bases are 20000 apart so their
spans never overlap, all inside the ports a listener may take.
"""

from __future__ import annotations

SPAN_BELOW = 9930
SPAN_ABOVE = 9499
STEP = 20_000
LOWEST_PORT = 1024
HIGHEST_PORT = 65_535


def fits(base: int) -> bool:
    return base - SPAN_BELOW >= LOWEST_PORT and base + SPAN_ABOVE <= HIGHEST_PORT


def worker_port_base(base: int, worker: str) -> int:
    """The port base of xdist worker ``gwN`` (``worker`` empty: no xdist, ``base``)."""
    if not worker.startswith("gw"):
        return base
    index = int(worker[2:])
    candidates = [base]
    for distance in range(STEP, HIGHEST_PORT, STEP):
        candidates += [base - distance, base + distance]
    usable = [candidate for candidate in candidates if fits(candidate)]
    if index >= len(usable):
        raise RuntimeError(
            f"no port base left for test worker {worker} from CALLCENTER_TEST_PORT_BASE="
            f"{base}: run fewer workers (-n) or pick a base near 35000"
        )
    return usable[index]
