"""Parallel test workers get port bases whose port spans never overlap."""

import pytest

from tests.support.workers import SPAN_ABOVE, SPAN_BELOW, fits, worker_port_base


def test_no_xdist_keeps_the_base() -> None:
    assert worker_port_base(15000, "") == 15000


@pytest.mark.parametrize("base", [15000, 35000, 49000])
def test_workers_spans_are_apart(base: int) -> None:
    bases = [worker_port_base(base, f"gw{index}") for index in range(2)]
    assert bases[0] == base
    spans = sorted((b - SPAN_BELOW, b + SPAN_ABOVE) for b in bases)
    assert all(fits(b) for b in bases)
    assert spans[0][1] < spans[1][0]


def test_too_many_workers_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="no port base left"):
        worker_port_base(49000, "gw5")
