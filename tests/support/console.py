"""The console's Flask app over a real database, without Asterisk.

``ConsoleRig`` gives the console only what the admin and reports areas reach:
the real admin, user and report services over a migrated database, a real
event loop behind the bridge, and a ``reload`` that counts its calls (with
Asterisk, it re-renders PJSIP endpoints and re-reads queues;
tests/e2e/test_admin.py checks that part for real). Every other service is
absent: a view that reaches one fails the test at once.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.agents import AgentRepository
from callcenter.adapters.db.config import ConfigRepository
from callcenter.adapters.db.dial_refusals import DialRefusalRepository
from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.report_queries import ReportQueries
from callcenter.adapters.db.site_config import SiteConfigStore
from callcenter.adapters.db.survey_results import SurveyRepository
from callcenter.adapters.db.users import UserRepository
from callcenter.adapters.web.app import create_app
from callcenter.adapters.web.bridge import LoopBridge
from callcenter.adapters.web.hub import Hub
from callcenter.adapters.web.services import ConsoleServices
from callcenter.services.console.admin import Admin
from callcenter.services.console.reports import Reports, SiteZone
from callcenter.simulate.loop_thread import LoopThread
from tests.fakes.prompts import known_prompts


@dataclass
class ConsoleRig:
    sessions: sessionmaker[Session]
    users: UserRepository
    admin: Admin
    reports: Reports
    clock_at: float = field(default_factory=time.time)
    reloads: int = 0
    reload_error: Exception | None = None
    app: Any = None

    async def reload(self) -> None:
        self.reloads += 1
        if self.reload_error is not None:
            raise self.reload_error

    def token(self, role: str) -> dict[str, str]:
        """Authorization headers of a fresh API token with ``role``."""
        token = self.users.create_token(f"{role}-{secrets.token_hex(4)}", role)
        return {"Authorization": f"Bearer {token}"}

    def client(self) -> FlaskClient:
        client: FlaskClient = self.app.test_client()
        return client


def login(client: FlaskClient, username: str, password: str, page: str | None = "/admin") -> str:
    """Log in through the form (with its CSRF token); returns ``page``'s CSRF token."""
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token, form
    sent = {"username": username, "password": password, "csrf_token": token.group(1)}
    response = client.post("/login", data=sent)
    assert response.status_code == 302, response.get_data(as_text=True)
    if page is None:
        return ""
    html = client.get(page).get_data(as_text=True)
    meta = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert meta, html
    return meta.group(1)


class Absent:
    """A service the rig does not have."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        raise AssertionError(f"the console rig has no {self._name} (asked for .{attribute})")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"the console rig has no {self._name}")


def _services(rig: ConsoleRig, loop: LoopThread, timezone: str) -> ConsoleServices:
    config, agents = ConfigRepository(rig.sessions), AgentRepository(rig.sessions)
    given: dict[str, Any] = {
        "bridge": LoopBridge(loop.loop),
        "hub": Hub(),
        "clock": lambda: rig.clock_at,
        "timezone": timezone,
        "users": rig.users,
        "admin": rig.admin,
        "reload": rig.reload,
        "reports": rig.reports,
        "dial_refusals": DialRefusalRepository(rig.sessions),
        "queue_names": lambda: list(config.queues()),
        "agent_names": lambda: [a.username for a in agents.accounts()],
    }
    absent: dict[str, Any] = {name: Absent(name) for name in ConsoleServices.__dataclass_fields__}
    return ConsoleServices(**{**absent, **given})


@contextmanager
def console(database_url: str, timezone: str = "") -> Iterator[ConsoleRig]:
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    loop = LoopThread("console-loop")
    loop.start()
    users = UserRepository(sessions)
    config = ConfigRepository(sessions)
    rig = ConsoleRig(
        sessions=sessions,
        users=users,
        admin=Admin(SiteConfigStore(sessions), users, known_prompts),
        reports=Reports(
            ReportQueries(sessions),
            lambda: {n: q.service_level_target for n, q in config.queues().items()},
            SiteZone.from_setting(timezone),
            lambda: rig.clock_at,
            lambda: {n: q.repeat_window_hours for n, q in config.queues().items()},
            SurveyRepository(sessions),
        ),
    )
    rig.app = create_app(_services(rig, loop, timezone), secrets.token_hex(16))
    rig.app.config["TESTING"] = True
    try:
        yield rig
    finally:
        loop.stop(5)
        engine.dispose()
