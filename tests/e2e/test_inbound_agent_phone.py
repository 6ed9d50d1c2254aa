"""Agents change their state from the softphone's keypad (*1 / *2N / *3 / *4)."""

from __future__ import annotations

import pytest

from callcenter.adapters.db.models import AgentStateLogRow
from callcenter.core.acd.model import AgentState
from callcenter.simulate.procs import wait_for
from tests.e2e.conftest import CallCenter
from tests.e2e.sites import one_queue_site

pytestmark = pytest.mark.e2e


def test_feature_codes_from_the_phone_change_the_agents_state(callcenter: CallCenter) -> None:
    callcenter.load_site(one_queue_site("agent1"))
    phone = callcenter.softphone(callcenter.account("agent1"))

    def state() -> tuple[AgentState, str]:
        status = callcenter.get(lambda c: c.agents.status("agent1"))
        return status.state, status.reason

    def dial(code: str, expected: tuple[AgentState, str]) -> None:
        seen = len(phone.events)
        phone.send("dial", code)
        # The dialplan answers, the controller acts and plays a prompt, then hangs up.
        phone.wait_event("CALL_ESTABLISHED", 10, after=seen)
        wait_for(lambda: state() == expected, 10, f"{code} -> {expected}")
        phone.wait_event("CALL_CLOSED", 10, after=seen)

    assert state() == (AgentState.LOGGED_OUT, "")
    dial("*1", (AgentState.READY, ""))
    callcenter.wait_available("agent1")
    dial("*21", (AgentState.PAUSED, "break"))
    assert not callcenter.get(lambda c: c.agents.available("agent1"))
    dial("*3", (AgentState.READY, ""))
    callcenter.wait_available("agent1")
    dial("*4", (AgentState.LOGGED_OUT, ""))
    assert not callcenter.get(lambda c: c.router.is_available("agent1"))

    log = [
        (row.state, row.reason)
        for row in callcenter.rows(AgentStateLogRow, AgentStateLogRow.agent == "agent1")
    ]
    assert log == [("ready", ""), ("paused", "break"), ("ready", ""), ("logged_out", "")]
    # The fallback queue follows: the agent is no longer a member.
    assert "PJSIP/agent1" not in callcenter.pbx.cli("queue show cc-fallback")
