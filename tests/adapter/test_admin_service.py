"""The admin service on SQLite and PostgreSQL: a refused change writes nothing,
an accepted one is read back whole."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.site_config import SiteConfigStore
from callcenter.adapters.db.users import UserRepository
from callcenter.core.queues import QueueSettings
from callcenter.services.console.admin import Admin, AdminError, Audit, SkillEntry
from callcenter.services.site import AgentEntry
from tests.e2e.sites import menu_flow, queue_node
from tests.fakes.prompts import known_prompts


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    try:
        yield make_sessions(engine)
    finally:
        engine.dispose()


@pytest.fixture
def admin(sessions: sessionmaker[Session]) -> Admin:
    service = Admin(SiteConfigStore(sessions), UserRepository(sessions), known_prompts)
    service.save_skill(SkillEntry(name="support", description="Support"))
    service.save_agent(
        AgentEntry(username="alice", name="Alice", extension="1001", skills={"support": 3}), True
    )
    service.save_queue(QueueSettings(name="support", requirements={"support": 1}), True)
    return service


def test_a_refused_agent_change_leaves_the_agent_whole(admin: Admin) -> None:
    before = admin.agents()
    bad = AgentEntry(username="alice", name="Changed", extension="1002", skills={"ghost": 1})
    with pytest.raises(AdminError) as refused:
        admin.save_agent(bad, create=False)
    assert refused.value.code == "invalid"
    assert admin.agents() == before


def test_a_refused_queue_or_flow_leaves_the_site_as_it_was(admin: Admin) -> None:
    before = admin.documents()
    with pytest.raises(AdminError) as refused:
        admin.save_queue(QueueSettings(name="support", requirements={"billing": 1}), create=False)
    assert "unknown skill 'billing'" in refused.value.problems[0]
    ghost = menu_flow({"1": "q"}, {"q": queue_node("ghost")})
    with pytest.raises(AdminError):
        admin.save_flow("main", ghost, ["100"])
    with pytest.raises(AdminError):
        admin.save_schedule("office", {"timezone": "Nowhere/Atlantis"})
    assert admin.documents() == before


def test_the_audit_row_is_written_with_the_change_or_not_at_all(
    admin: Admin, sessions: sessionmaker[Session]
) -> None:
    users = UserRepository(sessions)
    before = len(users.audit_entries())
    note = Audit("boss", "admin.queue.updated", "queue:support", {"why": "test"})
    with pytest.raises(AdminError):
        admin.save_queue(QueueSettings(name="support", requirements={"x": 1}), False, note)
    assert len(users.audit_entries()) == before
    admin.save_queue(QueueSettings(name="support", wrapup=5), False, note)
    row = users.audit_entries(1)[0]
    assert (row.actor, row.action, row.target, row.detail) == (
        "boss", "admin.queue.updated", "queue:support", {"why": "test"},
    )  # fmt: skip


def test_accepted_changes_are_read_back(admin: Admin) -> None:
    admin.save_queue(
        QueueSettings(name="support", requirements={"support": 2}, wrapup=10, weight=3), False
    )
    admin.save_schedule("office", {"timezone": "Europe/Paris", "weekly": {"mon": ["08:00-18:00"]}})
    flow = menu_flow({"1": "support"}, {"support": queue_node("support")})
    admin.save_flow("main", flow, ["100"])
    docs = admin.documents()
    assert docs.queues["support"]["requirements"] == {"support": 2}
    assert docs.queues["support"]["wrapup"] == 10 and docs.queues["support"]["weight"] == 3
    assert docs.schedules["office"]["timezone"] == "Europe/Paris"
    assert docs.flows["main"] == (flow, ["100"])
    assert [(s.name, s.agents, s.queues) for s in admin.skills()] == [("support", 1, ["support"])]


def test_a_flow_or_queue_naming_a_prompt_nobody_can_play_is_refused_naming_it(
    admin: Admin,
) -> None:
    before = admin.documents()
    flow = menu_flow({"1": "support"}, {"support": queue_node("support")})
    flow["nodes"]["welcome"]["invalid_prompt"] = "option-is-invalid"
    with pytest.raises(AdminError) as refused:
        admin.save_flow("main", flow, ["100"])
    assert refused.value.code == "invalid"
    assert (
        "flows.main: node 'welcome', field 'invalid_prompt': no prompt 'option-is-invalid'"
        in refused.value.problems[0]
    )
    closed = QueueSettings.model_validate(
        {"name": "support", "on_closed": {"action": "hangup", "prompt": "custom/closed"}}
    )
    with pytest.raises(AdminError) as refused:
        admin.save_queue(closed, create=False)
    assert refused.value.problems == [
        "queue support: on_closed.prompt: no prompt 'custom/closed': the site has no prompt "
        "'closed'; record closed.wav into the site's sounds folder, or make it with "
        "`callcenter prompt say closed TEXT`"
    ]
    assert admin.documents() == before


def test_a_prompt_gone_since_a_save_does_not_block_unrelated_saves(
    admin: Admin, sessions: sessionmaker[Session]
) -> None:
    closed = QueueSettings.model_validate(
        {"name": "support", "on_closed": {"action": "hangup", "prompt": "custom/closed"}}
    )
    recorded = Admin(
        SiteConfigStore(sessions), UserRepository(sessions), lambda: known_prompts("closed")
    )
    recorded.save_queue(closed, create=False)  # then custom/closed is deleted: like a
    # skill gone, it blocks neither unrelated saves nor the queue's own other changes
    admin.save_schedule("office", {"timezone": "Europe/Paris", "weekly": {"mon": ["08:00-18:00"]}})
    admin.save_queue(closed.model_copy(update={"wrapup": 5.0}), create=False)
    flow = menu_flow({"1": "support"}, {"support": queue_node("support")})
    flow["nodes"]["welcome"]["prompts"] = ["custom/closed"]
    with pytest.raises(AdminError):  # but naming it anew is refused
        admin.save_flow("main", flow, ["100"])
