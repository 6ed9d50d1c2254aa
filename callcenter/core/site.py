"""The site's configuration documents as stored: queues, business hours, IVR flows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class SiteDocuments:
    queues: dict[str, dict[str, Any]]
    schedules: dict[str, dict[str, Any]]
    flows: dict[str, tuple[dict[str, Any], list[str]]]
