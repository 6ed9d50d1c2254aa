"""Administration input: each refusal says what is wrong and where (pure, no database)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from callcenter.adapters.web.areas.admin_schemas import AgentIn, FlowIn, ScheduleIn
from callcenter.core.queues import QueueSettings
from callcenter.core.site import SiteDocuments
from callcenter.services.console.admin import SkillEntry, UserEntry, site_problems
from tests.e2e.sites import menu_flow, queue_node


def refusal(model: Any, data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return str(caught.value)


AGENT = {"username": "alice", "name": "Alice", "extension": "1001", "skills": {"support": 3}}


def test_a_good_agent_passes_and_an_empty_password_means_generate_or_keep() -> None:
    entry = AgentIn.model_validate(AGENT)
    assert entry.password == "" and entry.skills == {"support": 3}
    assert AgentIn.model_validate({**AGENT, "password": "a-long-secret"}).password


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"password": "short"}, "at least 12 characters"),
        ({"password": "has spaces in it"}, "password"),
        ({"skills": {"support": 6}}, "level of 'support' must be 1..5, got 6"),
        ({"skills": {"support": 0}}, "must be 1..5, got 0"),
        ({"skills": {"Bad Skill": 2}}, "bad skill name 'Bad Skill'"),
        ({"username": "Alice;x"}, "username"),
        ({"extension": "12a"}, "extension"),
        ({"name": ""}, "name"),
        ({"name": "Ann\n[evil]\ntype=endpoint"}, "may not hold ; [ ] or control characters"),
        ({"name": "Ann; x"}, "may not hold ; [ ]"),
        ({"static_contact": "sip:x@evil.example;transport=tcp"}, "static_contact"),
        ({"role": "admin"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_agents_are_refused_naming_the_field(change: dict[str, Any], said: str) -> None:
    assert said in refusal(AgentIn, {**AGENT, **change})


def test_flow_numbers_are_plain_and_listed_once() -> None:
    assert FlowIn.model_validate({"document": {}, "numbers": ["100", "+4420"]}).numbers
    assert "bad number '1 00; x'" in refusal(FlowIn, {"document": {}, "numbers": ["1 00; x"]})
    assert "listed twice" in refusal(FlowIn, {"document": {}, "numbers": ["100", "100"]})
    assert "document" in refusal(ScheduleIn, {"document": ["not", "a", "table"]})


def test_skills_and_users_refuse_bad_names_and_roles() -> None:
    assert "name" in refusal(SkillEntry, {"name": "Support!"})
    assert "role" in refusal(UserEntry, {"username": "bob", "role": "root"})
    assert "username" in refusal(UserEntry, {"username": "bob smith", "role": "admin"})


def test_queue_documents_are_checked_as_a_whole() -> None:
    tighter = {
        "name": "q",
        "requirements": {"s": 1},
        "relax": [{"after": 10, "requirements": {"s": 3}}],
    }
    assert "relax steps may only loosen" in refusal(QueueSettings, tighter)
    assert "between 1 and 5" in refusal(QueueSettings, {"name": "q", "requirements": {"s": 9}})
    assert "cannot overflow into itself" in refusal(
        QueueSettings, {"name": "q", "on_max_wait": {"action": "queue", "target": "q"}}
    )
    assert "needs a target" in refusal(
        QueueSettings, {"name": "q", "on_max_wait": {"action": "queue"}}
    )
    assert "greater than 0" in refusal(QueueSettings, {"name": "q", "service_level_target": 0})
    assert "Extra inputs" in refusal(QueueSettings, {"name": "q", "sl": 80})


def queue(name: str, **settings: Any) -> dict[str, Any]:
    return QueueSettings.model_validate({"name": name, **settings}).model_dump(mode="json")


def site(**parts: Any) -> SiteDocuments:
    return SiteDocuments(
        queues=parts.get("queues", {}),
        schedules=parts.get("schedules", {}),
        flows=parts.get("flows", {}),
    )


FLOW = menu_flow({"1": "support"}, {"support": queue_node("support")})


def test_a_consistent_site_has_no_problems() -> None:
    docs = site(
        queues={"support": queue("support", requirements={"support": 1}, schedule="office")},
        schedules={"office": {"timezone": "Europe/Paris", "weekly": {"mon": ["08:00-18:00"]}}},
        flows={"main": (FLOW, ["100"])},
    )
    assert site_problems(docs, {"support"}) == []


def test_site_problems_name_what_is_missing_and_where() -> None:
    docs = site(
        queues={
            "support": queue("support", requirements={"billing": 1}, schedule="office"),
            "sales": queue("sales", on_max_wait={"action": "queue", "target": "nowhere"}),
        },
        schedules={
            "bad": {"timezone": "Mars/Olympus", "weekly": {"mon": ["08:00-07:00", "06:00-09:00"]}}
        },
        flows={
            "main": (FLOW, ["100"]),
            "other": (
                menu_flow({"1": "q"}, {"q": queue_node("ghost", skills={"magic": 2})}),
                ["100"],
            ),
        },
    )
    problems = "\n".join(site_problems(docs, {"support"}))
    assert "unknown time zone 'Mars/Olympus'" in problems
    assert "queue sales: overflows to unknown queue 'nowhere'" in problems
    assert "queue support: unknown schedule 'office'" in problems
    assert "no queue named 'ghost'" in problems
    assert (
        "queue support: unknown skill 'billing' (known: support; add it under Skills first)"
        in problems
    )
    assert "flow other: number 100 is already flow main's" in problems


def test_a_flow_that_is_not_a_flow_says_so() -> None:
    typo = {"name": "main", "start": "a", "nodes": {"a": {"type": "hangup", "extra": 1}}}
    problems = site_problems(site(flows={"main": (typo, [])}), set())
    assert problems == ["flows.main: node 'a', field 'extra': unknown field (a typo?)"]
    lost = {"name": "main", "start": "nowhere", "nodes": {"a": {"type": "hangup"}}}
    assert "nowhere" in "\n".join(site_problems(site(flows={"main": (lost, [])}), set()))
