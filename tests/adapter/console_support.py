"""The console app on a real controller without Asterisk, its users and routes.

Routes are read from the app's own url_map, so a route added later is covered
by every test that walks them; what each one needs comes from ``requires``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flask.testing import FlaskClient

from callcenter.adapters.web.auth import Access, access_of
from callcenter.simulate.console import Console

# Routes anyone may call. Every other route must say who may use it (@requires).
PUBLIC = {
    "static",  # the pages' own CSS and JS
    "phone.jssip",  # the browser phone's SIP library, as installed from the npm registry
    "pages.login",
    "pages.logout",
    "health.health",
    "openapi.spec",
    "openapi.docs",
    "openapi.swagger_ui_oauth_redirect",
    "docs_assets.asset",  # the API docs page's own script and style (no CDN)
}
CHANGES = ("POST", "PUT", "PATCH", "DELETE")
ROLES = ("agent", "supervisor", "admin")
USERNAMES = {"agent": "agent-user", "supervisor": "super-user", "admin": "admin-user"}
PASSWORD = "correct horse battery"
AGENT = "agent1"  # the agent the "agent" user works as
SITE = {
    "agents": [
        {"username": name, "name": name.title(), "extension": str(ext), "skills": {"support": 3}}
        for name, ext in ((AGENT, 1001), ("agent2", 1002), ("boss", 1003))
    ],
    "queues": [{"name": "support", "requirements": {"support": 1}}],
}
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    url: str
    access: Access | None

    def __str__(self) -> str:
        return f"{self.method} {self.url} ({self.endpoint})"


def _sample(converter: str | None, name: str, access: Access | None) -> str:
    # Ids and names that exist nowhere, so walking every route changes nothing,
    # except the agent's own name where an agent may act for themselves.
    if name == "agent" and access is not None and access.role == "agent":
        return AGENT
    if name == "filename":
        return "app.css"
    return "999999" if converter == "int" else "nothing-here"


def _fill(rule: str, access: Access | None) -> str:
    return ARGUMENT.sub(lambda m: _sample(m.group(1), m.group(2), access), rule)


def routes(console: Console) -> list[Route]:
    """Every (route, method) of the app, with sample arguments filled in."""
    app = console.app
    found = []
    for rule in app.url_map.iter_rules():
        access = access_of(app.view_functions[rule.endpoint])
        url = _fill(rule.rule, access)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append(Route(rule.endpoint, method, url, access))
    return found


def protected(console: Console) -> list[Route]:
    return [r for r in routes(console) if r.endpoint not in PUBLIC]


def start_console(root: Path) -> Console:
    console = Console(root)
    console.load_site(SITE)
    users = console.controller.users
    users.add(USERNAMES["agent"], PASSWORD, "agent", agent=AGENT)
    users.add(USERNAMES["supervisor"], PASSWORD, "supervisor", agent="boss")
    users.add(USERNAMES["admin"], PASSWORD, "admin")
    return console


def login(client: FlaskClient, role: str) -> str:
    """Log in through the real form; the page's CSRF token for later changes."""
    form = CSRF_FIELD.search(client.get("/login").get_data(as_text=True))
    assert form is not None
    answer = client.post(
        "/login",
        data={"username": USERNAMES[role], "password": PASSWORD, "csrf_token": form.group(1)},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    page = "/desktop" if role == "agent" else "/wallboard"
    meta = CSRF_META.search(client.get(page).get_data(as_text=True))
    assert meta is not None
    return meta.group(1)


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    location: str


def call(client: FlaskClient, route: Route, headers: dict[str, str] | None = None) -> Answer:
    """One request (changes carry an empty JSON object); event streams are not read."""
    body = {"json": {}} if route.method in CHANGES else {}
    response = client.open(
        route.url, method=route.method, headers=headers or {}, buffered=False, **body
    )
    try:
        text = "" if response.mimetype == "text/event-stream" else response.get_data(as_text=True)
        return Answer(response.status_code, text, response.headers.get("Location", ""))
    finally:
        response.close()
