"""/api/agents: agents, their states, and state changes (login, pause, ready, logout)."""

from __future__ import annotations

from typing import Any, Literal

from apiflask import APIBlueprint, abort
from pydantic import BaseModel, Field

from callcenter.adapters.web.auth import acting_for, requires
from callcenter.adapters.web.services import services
from callcenter.core.acd.agent_state import AgentStatus

api = APIBlueprint("agents_api", __name__, url_prefix="/api/agents", tag="Agents")


class AgentSeen(BaseModel):
    """What every view of an agent shows (this API, the supervisor's board)."""

    agent: str
    name: str
    state: str
    reason: str
    since: float
    phone_registered: bool


class AgentStateOut(AgentSeen):
    available: bool
    skills: dict[str, int]
    call_id: str | None


class AgentStateList(BaseModel):
    agents: list[AgentStateOut]


class StateChange(BaseModel):
    action: Literal["login", "logout", "ready", "pause"]
    reason: str = Field("", max_length=32, pattern=r"^[a-z0-9 _-]*$")


def seen(name: str, status: AgentStatus) -> dict[str, Any]:
    """An agent's AgentSeen fields (read on the controller's loop)."""
    console = services()
    account = console.directory.get(name)
    return {
        "agent": name,
        "name": account.display_name if account else name,
        "state": status.state.value,
        "reason": status.reason,
        "since": status.since,
        "phone_registered": console.phones.registered(name)
        or name in console.agents.static_contacts,
    }


def _snapshot() -> list[AgentStateOut]:
    agents = services().agents
    return [
        AgentStateOut(
            **seen(name, status),
            available=agents.available(name),
            skills=dict(agents.skills.get(name, {})),
            call_id=status.call_id,
        )
        for name, status in sorted(agents.statuses.items())
    ]


@api.get("")
@api.output(AgentStateList)
@api.doc(summary="Every agent with state, pause reason and time in state")
@requires("supervisor")
def list_agents() -> AgentStateList:
    return AgentStateList(agents=services().bridge.call(_snapshot))


@api.get("/<string:agent>")
@api.output(AgentStateOut)
@api.doc(summary="One agent (agents may read only themselves)")
@requires("agent")
def get_agent(agent: str) -> AgentStateOut:
    acting_for(agent, "agents may only see themselves")
    return _one(agent)


def _one(agent: str) -> AgentStateOut:
    for item in services().bridge.call(_snapshot):
        if item.agent == agent:
            return item
    abort(404, f"no agent {agent!r}")


@api.post("/<string:agent>/state")
@api.input(StateChange)
@api.output(AgentStateOut)
@api.doc(
    summary="Log in, pause (with a reason), make ready, or log out an agent",
    responses={409: "Not allowed from the agent's current state"},
)
@requires("agent")
def change_state(agent: str, json_data: StateChange) -> AgentStateOut:
    acting_for(agent, "agents may only change their own state")
    console = services()
    service = console.agents
    now = console.clock()
    actions = {
        "login": lambda: service.login(agent, now),
        "logout": lambda: service.logout(agent, now),
        "ready": lambda: service.ready(agent, now),
        "pause": lambda: service.pause(agent, json_data.reason or "break", now),
    }
    console.bridge.run(actions[json_data.action]())
    return _one(agent)
