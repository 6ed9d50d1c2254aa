"""IVR flows by name, and which dialled number starts which flow."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

from callcenter.core.ivr.errors import FlowError
from callcenter.core.ivr.first import FirstMenu, first_menu
from callcenter.core.ivr.flow import Flow
from callcenter.core.ivr.schema import load_flow

log = logging.getLogger(__name__)

DEFAULT_FLOW = "main"


class FlowDirectory:
    def __init__(self) -> None:
        self.flows: dict[str, Flow] = {}
        self._by_number: dict[str, str] = {}
        self.errors: dict[str, str] = {}

    def load(
        self,
        documents: Mapping[str, tuple[Mapping[str, Any], list[str]]],
        *,
        queues: Collection[str],
        schedules: Collection[str],
    ) -> None:
        """Validate every flow; a broken one is reported and left out, never half-used."""
        flows: dict[str, Flow] = {}
        numbers: dict[str, str] = {}
        errors: dict[str, str] = {}
        for name, (document, dialled) in documents.items():
            try:
                flows[name] = load_flow(
                    document, queues=queues, schedules=schedules, source=f"flow {name}"
                )
            except FlowError as exc:
                errors[name] = str(exc)
                log.error("IVR flow %s refused: %s", name, exc)
                continue
            for number in dialled:
                numbers[number] = name
        self.flows, self._by_number, self.errors = flows, numbers, errors

    def first_menus(self) -> tuple[FirstMenu | None, dict[str, FirstMenu | None]]:
        """What the dialplan may run before asking the controller (core/ivr/first.py):
        the default flow's first menu, and each dialled number's (None: that flow
        starts from the controller). A number whose flow was refused takes the
        default, as ``for_number`` does."""
        default = self.flows.get(DEFAULT_FLOW)
        menus = {name: first_menu(flow) for name, flow in self.flows.items()}
        by_number = {
            number: menus[name] if name in menus else menus.get(DEFAULT_FLOW)
            for number, name in self._by_number.items()
        }
        return (first_menu(default) if default else None), by_number

    def for_number(self, dialled: str) -> Flow | None:
        name = self._by_number.get(dialled, DEFAULT_FLOW)
        return self.flows.get(name) or self.flows.get(DEFAULT_FLOW)
