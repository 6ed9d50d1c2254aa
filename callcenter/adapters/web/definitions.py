"""The standard definitions the wallboard and reports pages show, read from the
docstrings that state them (core/stats.py, services/console/reports.py), so they
are written in one place."""

from __future__ import annotations

import re

from callcenter.core import stats
from callcenter.services.console import reports


def bullets(text: str) -> list[str]:
    """The first list of "- " points in ``text``, one string each (indented lines continue one)."""
    items: list[str] = []
    for line in text.splitlines():
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif items and line.startswith("  ") and line.strip():
            items[-1] += " " + line.strip()
        elif items and not line.strip():
            break
    return [re.sub(r"\s+", " ", item) for item in items]


def definitions() -> list[str]:
    """The standard definitions, word for word from core/stats.py's docstring."""
    return bullets((stats.__doc__ or "").split("Definitions", 1)[-1])


def report_definitions() -> list[str]:
    """The standard definitions, and where a figure lands, word for word from
    core/stats.py's and services/console/reports.py's docstrings."""
    landing = (reports.__doc__ or "").split("Where a figure lands:", 1)[-1]
    return definitions() + bullets(landing)
