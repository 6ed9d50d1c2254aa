"""Which controller of an active/standby pair this is: ``callcenter_controller_active``.

Read at scrape time: 1 while this controller holds the lock and may act, 0 while
it stands by (or lost the lock). The standby serves its metrics too, so a
dashboard scraping both controllers sees which one is active.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class ControllerRole(Collector):
    def __init__(self, node: str, active: Callable[[], bool]) -> None:
        self._node = node
        self._active = active

    def describe(self) -> Iterator[Any]:
        return iter([self._family(False)])

    def collect(self) -> Iterator[Any]:
        return iter([self._family(self._active())])

    def _family(self, active: bool) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "callcenter_controller_active",
            "1 while this controller is the active one (holds the lock), 0 on standby",
            labels=["node"],
        )
        family.add_metric([self._node], 1 if active else 0)
        return family
