"""The supervisor page offers the administrator's pause reasons (the same list an
agent's phone picks from with *2N), as they are now."""

from __future__ import annotations

import json
import re

from callcenter.core.pause_reasons import DEFAULT_PAUSE_REASONS
from callcenter.simulate.console import Console
from tests.adapter.console_support import login

REASONS = re.compile(r'<script type="application/json" id="sv-reasons">(.*?)</script>')


def page_reasons(console: Console) -> list[str]:
    client = console.app.test_client()
    login(client, "supervisor")
    found = REASONS.search(client.get("/supervisor").get_data(as_text=True))
    assert found is not None
    reasons: list[str] = json.loads(found.group(1))
    return reasons


def test_the_supervisor_page_offers_the_administrators_reasons(console: Console) -> None:
    assert page_reasons(console) == list(DEFAULT_PAUSE_REASONS)
    admin = console.app.test_client()
    csrf = login(admin, "admin")
    settings = admin.get("/api/desktop/settings").get_json()
    settings["pause_reasons"] = ["coffee", "coaching"]
    saved = admin.put("/api/desktop/settings", json=settings, headers={"X-CSRFToken": csrf})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert page_reasons(console) == ["coffee", "coaching"]
