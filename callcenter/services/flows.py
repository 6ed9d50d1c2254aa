"""IVR flows by name, and which dialled number starts which flow."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

from callcenter.core.ivr.errors import FlowError
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

    def for_number(self, dialled: str) -> Flow | None:
        name = self._by_number.get(dialled, DEFAULT_FLOW)
        return self.flows.get(name) or self.flows.get(DEFAULT_FLOW)
