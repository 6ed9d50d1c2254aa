"""The dialer simulation (bench/dialer_simulation.py) on a small team: the pure core
run end to end: progressive never abandons, predictive keeps under the cap and
keeps agents busier, and the same seed gives the same figures."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from callcenter.core.outbound.settings import load_settings

BENCH = Path(__file__).resolve().parents[3] / "bench" / "dialer_simulation.py"


def _bench() -> ModuleType:
    # Its first import, bench/_checkout.py, is found beside it when it runs as a script.
    if str(BENCH.parent) not in sys.path:
        sys.path.append(str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("dialer_simulation", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dialer_simulation"] = module
    spec.loader.exec_module(module)
    return module


def test_small_team_one_day() -> None:
    bench = _bench()
    rules = load_settings({"mode": "predictive"})
    progressive = bench.Simulation("progressive", 12, 1, 5, rules).run()
    predictive = bench.Simulation("predictive", 12, 1, 5, rules).run()
    again = bench.Simulation("predictive", 12, 1, 5, rules).run()
    assert progressive.abandoned == 0 and progressive.connects > 100
    assert predictive.abandoned < 0.03 * predictive.live_answered
    assert predictive.busy_seconds > progressive.busy_seconds
    assert predictive.overdial_decisions > 0
    assert again == predictive
