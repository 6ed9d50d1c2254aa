"""What the console's views reach: the services, through the loop bridge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.web.bridge import LoopBridge
from callcenter.adapters.web.hub import Hub

if TYPE_CHECKING:
    from callcenter.runtime import Controller


@dataclass
class WebContext:
    controller: Controller
    bridge: LoopBridge
    hub: Hub
    sessions: sessionmaker[Session]
    clock: Callable[[], float]


def web() -> WebContext:
    context: WebContext = current_app.extensions["callcenter"]
    return context
