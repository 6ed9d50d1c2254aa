"""What every admin change carries and does: its audit row (by whoever makes
it), and, once saved, a controller reload so the change is live at once.

A refused change (AdminError, or a path name that is not a name) is answered
by errors.py with every problem it names; nothing was written.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from callcenter.adapters.web.areas.admin_schemas import Applied
from callcenter.adapters.web.auth import requester
from callcenter.adapters.web.services import services
from callcenter.services.console.admin import AdminError, Audit

log = logging.getLogger(__name__)


def checked(pattern: str, value: str, what: str) -> str:
    """A name taken from the URL, held to the same pattern as in a document."""
    if not re.fullmatch(pattern, value):
        raise AdminError("invalid", [f"{what}: {value[:40]!r} is not a valid name"])
    return value


def note(action: str, target: str, **detail: Any) -> Audit:
    """The audit row of a change, by whoever makes it (never a password in ``detail``)."""
    return Audit(requester().name, f"admin.{action}", target, detail)


def same_name(pattern: str, in_path: str, in_body: str, field: str) -> None:
    """An update names its item in the URL and in the body: the same, or refused."""
    if in_body != checked(pattern, in_path, field):
        problem = f"{field}: {in_body!r} is not {in_path!r}; renaming is not supported"
        raise AdminError("invalid", [problem])


def audit(action: str, target: str, **detail: Any) -> None:
    """Write the audit row now (console users: their store keeps its own transactions)."""
    row = note(action, target, **detail)
    services().users.audit(row.actor, row.action, row.target, **row.detail)


def reload() -> Applied:
    """Agents' endpoints re-rendered and PJSIP reloaded, queues/flows/skills re-read."""
    console = services()
    try:
        console.bridge.run(console.reload())
    except Exception as exc:  # the change is saved; say why it is not live yet
        log.exception("reload after an admin change failed")
        reason = str(exc) or type(exc).__name__
        return Applied(applied=False, warning=f"saved, but not live yet: {reason}")
    return Applied(applied=True)
