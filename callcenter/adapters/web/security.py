"""What every answer of the console carries, and what keeps a login flood cheap.

- Headers: a Content-Security-Policy with no inline script (the pages load their
  own files only; the API docs page gets the hashes of its own inline script),
  HSTS over HTTPS, no framing, no sniffing.
- Cookies: HttpOnly, SameSite=Strict, Secure over HTTPS.
- Logins: Flask-Limiter throttles ``POST /login`` per address and per user name
  before the view runs, so a refused attempt never reaches the password hash
  (scrypt, 32 MiB each); the attempts let through take one of a few hashing
  slots, so even a spread-out flood holds at most that many cores' worth.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from typing import Any

from apiflask import APIFlask
from flask import Response, current_app, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from callcenter.config import WebSettings

HASHING_SLOTS = 2
HASH_WAIT = 10.0  # seconds a login waits for a hashing slot before "busy, try again"
HSTS = "max-age=31536000"
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "media-src": "'self'",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
INLINE = re.compile(rb"<script>(.*?)</script>", re.S)
DOCS_PATH = "/api/docs"

hashing = threading.BoundedSemaphore(HASHING_SLOTS)


def policy(extra: dict[str, str] | None = None) -> str:
    merged = dict(POLICY)
    for key, value in (extra or {}).items():
        merged[key] = f"{merged[key]} {value}"
    return "; ".join(f"{key} {value}" for key, value in merged.items())


def _docs_policy(body: bytes) -> str:
    """The API docs page (APIFlask's template): its own inline script, by hash.

    Swagger UI builds parts of its config with Function() and its widgets set inline
    styles (a style hash would turn 'unsafe-inline' off, so styles get no hash)."""
    hashes = []
    for text in INLINE.findall(body):
        digest = base64.b64encode(hashlib.sha256(text).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return policy(
        {"script-src": " ".join([*hashes, "'unsafe-eval'"]), "style-src": "'unsafe-inline'"}
    )


def install(app: APIFlask, web: WebSettings) -> Limiter:
    secure = web.tls
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Strict",
        REMEMBER_COOKIE_SECURE=secure,
        WTF_CSRF_SSL_STRICT=secure,
        SESSION_IDLE_SECONDS=web.session_idle_minutes * 60,
        SESSION_MAX_SECONDS=web.session_hours * 3600,
        LOGIN_PER_ADDRESS=web.login_per_address,
        LOGIN_PER_USER=web.login_per_user,
    )
    # One limiter (and its counters) per app: tests build many apps in one process.
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", headers_enabled=True)
    app.extensions["callcenter.limiter"] = limiter

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path == DOCS_PATH and response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = _docs_policy(response.get_data())
        else:
            response.headers.setdefault("Content-Security-Policy", policy())
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    @app.errorhandler(RateLimitExceeded)
    def throttled(error: RateLimitExceeded) -> Any:
        message = f"Too many login attempts ({error.description}); wait a minute, then try again."
        if request.path == "/login":
            from callcenter.adapters.web.areas.login import LoginForm

            page = render_template("login.html", form=LoginForm(), error=message)
            return page, 429
        return {"message": message}, 429

    return limiter


def throttle_logins(app: APIFlask, limiter: Limiter, endpoint: str) -> None:
    """Per address and per user name, POSTs only (showing the form is free)."""

    def per_user() -> str:
        return "user:" + (request.form.get("username") or "").strip().lower()[:64]

    view: Any = app.view_functions[endpoint]
    view = limiter.limit(lambda: current_app.config["LOGIN_PER_USER"], key_func=per_user,
                         methods=["POST"], per_method=True)(view)  # fmt: skip
    view = limiter.limit(lambda: current_app.config["LOGIN_PER_ADDRESS"], methods=["POST"],
                         per_method=True)(view)  # fmt: skip
    app.view_functions[endpoint] = view
