"""Administration end to end: changes made over the admin API are live in the
real Asterisk and the controller at once, with nothing restarted.

An admin adds a skill and an agent (SIP password and skill) over HTTP; the
controller reloads; a baresip softphone registers with exactly those
credentials; the agent logs in to the console as the user the admin made for
them, goes ready, and takes a SIPp caller's call. A bad queue
document is then refused with a message naming the problem, and the old
queue still routes the next call to the same agent; the reports API counts
both calls. Disabling the agent takes the endpoint out of Asterisk at once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from callcenter.core.model import SipAccount
from callcenter.simulate.sipp import caller_scenario
from callcenter.simulate.softphone import Softphone
from tests.e2e.conftest import CallCenter
from tests.e2e.sites import one_queue_site
from tests.support.console import login

pytestmark = pytest.mark.e2e

SECRET = "newbie-sip-secret-1"
NEWBIE = {
    "username": "newbie",
    "name": "New Agent",
    "extension": "1101",
    "password": SECRET,
    "skills": {"support": 2},
}


class Http:
    """The console over real HTTP, as a machine client with an admin token."""

    def __init__(self, callcenter: CallCenter) -> None:
        self.base = callcenter.base_url
        self.token = callcenter.controller.users.create_token("e2e-admin", "admin")

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


def uptime(callcenter: CallCenter) -> int:
    found = re.search(r"System uptime:\s*(\d+)", callcenter.pbx.cli("core show uptime seconds"))
    assert found, "no uptime from Asterisk"
    return int(found.group(1))


def take_a_call(callcenter: CallCenter, phone: Softphone, number: str) -> None:
    """A SIPp caller presses 1 for support; the agent's phone rings and answers."""
    try:
        callcenter.wait_available("newbie", timeout=15)
    except AssertionError as exc:  # say what the controller and Asterisk saw
        found = callcenter.get(
            lambda c: (c.agents.status("newbie"), c.view.table.registered("newbie"))
        )
        aor = callcenter.pbx.cli("pjsip show aor newbie")
        raise AssertionError(f"{exc}: {found}\n{aor}") from None
    caller = callcenter.caller()
    sipp = caller.start(caller_scenario([1000, "1", 3000]), [("Caller", number)])
    seen = len(phone.events)
    incoming = phone.wait_event("CALL_INCOMING", 20, after=seen)
    assert incoming["peeruri"].startswith(f"sip:{number}@"), incoming
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", 10, after=seen)
    phone.wait_event("CALL_CLOSED", 30, after=seen)
    result = caller.finish(sipp)
    assert (result.successful, result.failed) == (1, 0), result.log


@pytest.mark.parametrize("e2e_database", ["sqlite", "postgresql"], indirect=True)
def test_an_agent_added_over_the_api_registers_and_takes_calls_without_a_restart(
    callcenter: CallCenter,
) -> None:
    callcenter.load_site(one_queue_site())  # a queue and a menu, no agents yet
    api = Http(callcenter)
    asterisk_up = uptime(callcenter)
    controller = callcenter.controller
    assert "newbie" not in callcenter.pbx.cli("pjsip show endpoints")

    status, body = api("POST", "/api/admin/agents", NEWBIE)
    assert status == 422, body  # the skill must exist first: said so, nothing saved
    assert body["problems"] == [
        "skills: unknown skill 'support' (known: none yet; add it under Skills first)"
    ]
    assert api("PUT", "/api/admin/skills/support", {"description": "Support line"})[0] == 200
    status, body = api("POST", "/api/admin/agents", NEWBIE)
    assert status == 201, body
    assert body["applied"] is True and body["password"] == SECRET

    # Live at once: Asterisk has the endpoint, the controller knows the agent's skill.
    assert "newbie" in callcenter.pbx.cli("pjsip show endpoints")
    assert callcenter.get(lambda c: c.directory.get("newbie")) is not None
    phone = callcenter.softphone(SipAccount("newbie", SECRET, "New Agent", "1101"))
    assert phone.registered()

    # The agent's console user, made by the admin; the agent logs in and goes ready.
    user = {
        "username": "newbie",
        "role": "agent",
        "agent": "newbie",
        "password": "a strong desk password",
    }
    assert api("POST", "/api/admin/users", user)[0] == 201
    web = callcenter.controller.web
    assert web is not None
    desk = web.app.test_client()
    csrf = login(desk, "newbie", "a strong desk password", page="/desktop")
    ready = desk.post("/api/agents/newbie/state", json={"action": "login"},
                      headers={"X-CSRFToken": csrf})  # fmt: skip
    assert ready.status_code == 200 and ready.get_json()["state"] == "ready", ready.get_json()
    take_a_call(callcenter, phone, "+15550001111")

    # A bad queue document: refused, with the reason; the old queue keeps routing.
    before = callcenter.get(lambda c: c.queues.get("support"))
    for bad, said in [
        ({"name": "support", "requirements": {"billing": 1}},
         "queue support: unknown skill 'billing' (known: support; add it under Skills first)"),
        ({"name": "support", "requirements": {"support": 1},
          "relax": [{"after": 10, "requirements": {"support": 4}}]},
         "relax steps may only loosen"),
    ]:  # fmt: skip
        status, body = api("PUT", "/api/admin/queues/support", bad)
        assert status == 422, body
        assert said in json.dumps(body), body
    assert callcenter.get(lambda c: c.queues.get("support")) == before
    take_a_call(callcenter, phone, "+15550002222")

    # The reports count both calls: offered, answered, handled by the new agent.
    assert callcenter.controller.records.flush(10)
    today = callcenter.controller.reports.zone.local(time.time()).date()
    query = f"from={today - dt.timedelta(days=1)}&to={today}&interval=60"
    status, queues = api("GET", f"/api/reports/queues?{query}&queue=support")
    assert status == 200, queues
    totals = queues["totals"]
    assert (totals["offered"], totals["answered"], totals["abandoned"]) == (2, 2, 0), totals
    status, agents = api("GET", f"/api/reports/agents?{query}&agent=newbie")
    assert agents["totals"]["answered"] == 2 and agents["totals"]["offered"] >= 2, agents

    # Disabled: the endpoint leaves Asterisk, the agent leaves the router.
    status, body = api("PUT", "/api/admin/agents/newbie/active", {"active": False})
    assert status == 200 and body["applied"] is True, body
    assert "newbie" not in callcenter.pbx.cli("pjsip show endpoints")
    assert not callcenter.get(lambda c: c.agents.available("newbie"))

    assert uptime(callcenter) >= asterisk_up  # Asterisk was never restarted
    assert callcenter.thread.controller is controller
    actions = [e.action for e in callcenter.controller.users.audit_entries()]
    assert {"admin.agent.created", "admin.skill.saved", "admin.user.created"} <= set(actions)
    assert "admin.queue.updated" not in actions
