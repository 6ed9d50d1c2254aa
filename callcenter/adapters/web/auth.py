"""Who is asking: console users (session cookie + CSRF) or machine clients
(Bearer token, no cookies, so no CSRF). Roles: agent < supervisor < admin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from apiflask import abort
from flask import g, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from callcenter.adapters.db.users import User, UserRepository

RANK = {"agent": 1, "supervisor": 2, "admin": 3}
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
            if request.method in ("POST", "PUT", "PATCH", "DELETE"):
                csrf.protect()  # cookie-authenticated changes need the CSRF token

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> Any:
        return {"message": "CSRF token missing or invalid", "detail": error.description}, 400


def principal() -> Principal | None:
    found: Principal | None = g.get("principal")
    return found


def requires(role: str, page: bool = False) -> Callable[[F], F]:
    """Refuse anyone below ``role``: 401 (or the login page) if unknown, 403 if too low."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = principal()
            if who is None:
                if page:
                    return redirect(url_for("pages.login", next=request.path))
                abort(401, "log in or send a Bearer token")
            if not who.at_least(role):
                abort(403, f"needs the {role} role")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
