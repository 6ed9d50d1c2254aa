"""Who is asking: console users (session cookie + CSRF) or machine clients
(Bearer token, no cookies, so no CSRF). Roles: agent < supervisor < admin.

A session ends after ``SESSION_IDLE_SECONDS`` without a request, ``SESSION_MAX_SECONDS``
after the login, and when the user's password changes (the session carries the
user's stamp, which a new password changes). Tokens end at their expiry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from apiflask import abort
from flask import current_app, g, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from callcenter.adapters.db.users import UserRepository
from callcenter.core.users import User

RANK = {"agent": 1, "supervisor": 2, "admin": 3}
CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
F = TypeVar("F", bound=Callable[..., Any])
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "pages.login"
login_manager.session_protection = "strong"


class SessionUser(UserMixin):
    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}.{self.user.stamp}"


SEEN_EVERY = 30.0  # seconds: how often the idle clock is moved on (each move rewrites the cookie)


def start_session(user: User) -> None:
    """Log ``user`` in (a fresh session: nothing from before the login is kept)."""
    session.clear()
    login_user(SessionUser(user))
    now = time.time()
    session["login_at"] = now
    session["seen_at"] = now


def end_session() -> None:
    logout_user()
    session.clear()


def _session_expired(now: float) -> bool:
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    if not isinstance(login_at, int | float) or not isinstance(seen_at, int | float):
        return True  # a session from before expiry existed: log in again
    config = current_app.config
    longest: float = config["SESSION_MAX_SECONDS"]
    idle: float = config["SESSION_IDLE_SECONDS"]
    return now - login_at > longest or now - seen_at > idle


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str
    agent: str  # the agent a user of role "agent" works as
    via: str  # "session" | "token"

    def at_least(self, role: str) -> bool:
        return RANK.get(self.role, 0) >= RANK[role]

    def may_act_for(self, agent: str) -> bool:
        """Agents act for themselves only; supervisors and admins for anyone."""
        return self.at_least("supervisor") or (self.role == "agent" and self.agent == agent)


def install(app: Any, users: UserRepository) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    login_manager.init_app(app)

    app.config.setdefault("SESSION_IDLE_SECONDS", 30 * 60.0)
    app.config.setdefault("SESSION_MAX_SECONDS", 12 * 3600.0)

    @login_manager.user_loader
    def load_user(session_id: str) -> SessionUser | None:
        user_id, _, stamp = session_id.partition(".")
        user = users.get(int(user_id)) if user_id.isdigit() else None
        if user is None or not stamp or stamp != user.stamp:
            return None  # gone, deactivated, or the password changed since the login
        return SessionUser(user)

    @app.before_request
    def identify() -> None:
        g.principal = None
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            found = users.token_role(header[7:].strip())
            if found is None:
                abort(401, "invalid token")
            name, role = found
            g.principal = Principal(f"token:{name}", role, "", "token")
            return
        if "_user_id" not in session:
            return
        now = time.time()
        if _session_expired(now) or not current_user.is_authenticated:
            end_session()
            return
        if now - session["seen_at"] > SEEN_EVERY:
            session["seen_at"] = now
        user = current_user.user
        g.principal = Principal(user.username, user.role, user.agent, "session")

    @app.before_request
    def check_access() -> Any:
        # The role check runs before anything reads the request (input validation
        # included): a stranger learns nothing from a route but 401/403.
        access = access_of(app.view_functions.get(request.endpoint or ""))
        refused = _refusal(access) if access is not None else None
        if refused is not None:
            return refused
        who = principal()
        if who is not None and who.via == "session" and request.method in CHANGES:
            csrf.protect()  # cookie-authenticated changes need the CSRF token
        return None

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> Any:
        return {"message": "CSRF token missing or invalid", "detail": error.description}, 400


def principal() -> Principal | None:
    found: Principal | None = g.get("principal")
    return found


def requester() -> Principal:
    """Who is asking, in a view guarded by ``requires`` (so someone is)."""
    who = principal()
    assert who is not None, "requires() lets nobody unidentified through"
    return who


def acting_for(agent: str, refusal: str) -> Principal:
    """The requester, if they may act for ``agent`` (agents for themselves only); else 403."""
    who = requester()
    if not who.may_act_for(agent):
        abort(403, refusal)
    return who


@dataclass(frozen=True, slots=True)
class Access:
    """What a view needs, as recorded on it by ``requires``."""

    role: str
    page: bool  # anonymous visitors are sent to the login page instead of a 401


def access_of(view: object) -> Access | None:
    """The ``requires`` of a view (decorators above it copy it along with __dict__)."""
    found = getattr(view, "access", None)
    return found if isinstance(found, Access) else None


def _refusal(access: Access) -> Any:
    who = principal()
    if who is None:
        if access.page:
            return redirect(url_for("pages.login", next=request.path))
        abort(401, "log in or send a Bearer token")
    if not who.at_least(access.role):
        message = f"needs the {access.role} role; you are logged in as {who.role}"
        if access.page:  # a person in a browser: a page, not a JSON error
            return render_template("forbidden.html", message=message), 403
        abort(403, message)
    return None


def requires(role: str, page: bool = False) -> Callable[[F], F]:
    """Refuse anyone below ``role``: 401 (or the login page) if unknown, 403 if too low.

    Checked before the request is read (``check_access``), and again by the view itself.
    """
    access = Access(role, page)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            refused = _refusal(access)
            return refused if refused is not None else view(*args, **kwargs)

        wrapper.access = access  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
