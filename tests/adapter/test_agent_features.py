"""An agent's feature codes over FastAGI (adapters/agi/agent_features.py): the test
plays Asterisk as tests/adapter/test_fastagi.py does; *2N picks from the
administrator's current pause reasons."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from callcenter.adapters.agi.agent_features import AgentFeatureRoute
from callcenter.adapters.agi.server import FastAgiServer
from callcenter.config import AgiSettings
from callcenter.core.dialplan import Route
from tests.adapter.test_fastagi import HOST, free_port
from tests.adapter.trace_replay import Step, Trace, replay


@dataclass
class Agents:
    """Records what the route asks of the agent service."""

    done: list[tuple[str, ...]] = field(default_factory=list)

    async def login(self, agent: str, now: float) -> None:
        self.done.append(("login", agent))

    async def pause(self, agent: str, reason: str, now: float) -> None:
        self.done.append(("pause", agent, reason))

    async def ready(self, agent: str, now: float) -> None:
        self.done.append(("ready", agent))

    async def logout(self, agent: str, now: float) -> None:
        self.done.append(("logout", agent))


@dataclass
class Phone:
    agents: Agents
    reasons: list[str]  # the administrator's list, as the desktop settings hold it now
    port: int

    async def dial(self, code: str, prompt: str) -> None:
        """The agent dials ``code``; the route must play ``prompt`` and end the call."""
        await replay(feature_call(code, prompt), HOST, self.port)


def feature_call(code: str, prompt: str) -> Trace:
    headers = [
        "agi_network: yes",
        "agi_network_script: agent-feature",
        "agi_channel: PJSIP/agent1-00000007",
        "agi_uniqueid: 1732443340.7",
        "agi_context: cc-agents",
        f"agi_extension: {code}",
        f"agi_arg_1: {code}",
        "",
    ]
    steps = [Step("send", f"{line}\n".encode(), 0) for line in headers]
    steps += [
        Step("expect", f'STREAM FILE "{prompt}" ""', 0),
        Step("send", b"200 result=0 endpos=8000\n", 0),
        Step("expect", 'SET VARIABLE CC_STATUS "HANGUP"', 0),
        Step("send", b"200 result=1\n", 0),
        Step("closed", "", 0),
    ]
    return Trace(f"agent dials {code}", steps=steps)


@pytest.fixture
async def phone() -> AsyncIterator[Phone]:
    agents = Agents()
    reasons = ["coffee", "training", "one to one"]
    route = AgentFeatureRoute(agents, lambda: 1000.0, lambda: reasons)  # type: ignore[arg-type]
    server = FastAgiServer(AgiSettings(port=free_port()))
    server.add_route(Route.AGENT_FEATURE, route.handle)
    await server.start()
    try:
        yield Phone(agents, reasons, server.settings.port)
    finally:
        await server.stop()


@pytest.mark.parametrize(
    ("code", "reason"), [("*2", "coffee"), ("*21", "coffee"), ("*23", "one to one")]
)
async def test_star_2n_pauses_with_the_nth_reason(phone: Phone, code: str, reason: str) -> None:
    await phone.dial(code, "beep")
    assert phone.agents.done == [("pause", "agent1", reason)]


@pytest.mark.parametrize("code", ["*24", "*29", "*20"])
async def test_a_reason_past_the_list_is_refused(phone: Phone, code: str) -> None:
    await phone.dial(code, "pbx-invalid")
    assert phone.agents.done == []


async def test_the_administrators_new_list_counts_at_once(phone: Phone) -> None:
    phone.reasons[:] = ["lunch", "coaching", "training", "admin"]
    await phone.dial("*22", "beep")
    await phone.dial("*24", "beep")
    assert phone.agents.done == [("pause", "agent1", "coaching"), ("pause", "agent1", "admin")]


async def test_the_other_codes_are_unchanged(phone: Phone) -> None:
    await phone.dial("*1", "agent-loginok")
    await phone.dial("*3", "agent-loginok")
    await phone.dial("*4", "agent-loggedoff")
    await phone.dial("*5", "pbx-invalid")
    assert phone.agents.done == [("login", "agent1"), ("ready", "agent1"), ("logout", "agent1")]
