"""Who is asking: console users (session cookie + CSRF) or machine clients
(Bearer token, no cookies, so no CSRF). Roles: agent < supervisor < admin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from apiflask import abort
from flask import g, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user
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
        return str(self.user.id)


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

    @login_manager.user_loader
    def load_user(user_id: str) -> SessionUser | None:
        user = users.get(int(user_id)) if user_id.isdigit() else None
        return SessionUser(user) if user else None

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
        if current_user.is_authenticated:
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
