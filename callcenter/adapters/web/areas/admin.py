"""The console's admin area: agents, skills, queues, business hours, IVR flows
and console users, as a page and as /api/admin routes (admins only).

Each change is validated by the admin service (services/console/admin.py) and written
in one transaction, or refused with every problem named and nothing written.
Its audit row is written in the same transaction (console users: right after,
as their store keeps its own). Then the controller reloads: new agents' PJSIP
endpoints are published and queues, flows and skills re-read, with no restart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apiflask import APIBlueprint
from flask import render_template

from callcenter.adapters.web.areas import admin_apply as change
from callcenter.adapters.web.areas.admin_schemas import (
    SCHEDULE_NAME,
    USERNAME,
    ActiveIn,
    AgentIn,
    AgentList,
    AgentOut,
    AgentSaved,
    FlowIn,
    FlowList,
    FlowOut,
    FlowSaved,
    PasswordIn,
    PreviewDay,
    PreviewQuery,
    QueueList,
    QueueSaved,
    ScheduleIn,
    ScheduleList,
    ScheduleOut,
    SchedulePreview,
    ScheduleSaved,
    SkillIn,
    SkillList,
    SkillOut,
    SkillSaved,
    UserList,
    UserOut,
    UserSaved,
)
from callcenter.adapters.web.auth import requires
from callcenter.adapters.web.services import services
from callcenter.core import hours_preview
from callcenter.core.hours import ScheduleError, load_schedule
from callcenter.core.queues import QueueSettings
from callcenter.core.users import User
from callcenter.services.console.admin import (
    Admin,
    AdminError,
    AgentInfo,
    SkillEntry,
    SkillInfo,
    UserEntry,
)
from callcenter.services.site import NAME

# What a refused change answers (besides the shared 400/401/403), for the OpenAPI document.
REFUSED = "The change does not fit the site; every problem is listed (nothing saved)"
CHECK: dict[int, str] = {422: REFUSED}
FIND: dict[int, str] = {404: "No such item", 422: "Not a valid name"}
FIND_CHECK: dict[int, str] = {**FIND, 422: "Not a valid name, or a weak password"}
FIND_CONFLICT: dict[int, str] = {**FIND, 409: "The last active admin cannot be disabled"}
SAVE_NEW: dict[int, str] = {409: "The name (or extension) is taken", 422: REFUSED}
SAVE: dict[int, str] = {**SAVE_NEW, 404: "No such item"}

api = APIBlueprint("admin_api", __name__, url_prefix="/api/admin", tag="Admin")
pages = APIBlueprint("admin", __name__, enable_openapi=False)


def _admin() -> Admin:
    return services().admin


@pages.get("/admin")
@requires("admin", page=True)
def page() -> Any:
    return render_template("admin.html")


# -- agents ----------------------------------------------------------------------------
def _agent_out(info: AgentInfo) -> AgentOut:
    return AgentOut.model_validate(info, from_attributes=True)


def _agent(username: str) -> AgentOut:
    found = next((info for info in _admin().agents() if info.username == username), None)
    assert found is not None, f"agent {username} was just saved"
    return _agent_out(found)


@api.get("/agents")
@requires("admin")
@api.output(AgentList)
@api.doc(summary="Every agent, active or not, with skills (no passwords)")
def agents() -> AgentList:
    return AgentList(agents=[_agent_out(info) for info in _admin().agents()])


def _save_agent(entry: AgentIn, create: bool) -> AgentSaved:
    audit = change.note(
        "agent.created" if create else "agent.updated", f"agent:{entry.username}",
        name=entry.name, extension=entry.extension, skills=entry.skills,
        static_contact=entry.static_contact, password_set=create or bool(entry.password),
    )  # fmt: skip
    password = _admin().save_agent(entry, create, audit)
    agent = _agent(entry.username)
    return AgentSaved(agent=agent, password=password, **change.reload().model_dump())


@api.post("/agents")
@requires("admin")
@api.input(AgentIn, arg_name="entry")
@api.output(AgentSaved, status_code=201)
@api.doc(
    summary="Add an agent: SIP account and skills (password generated if empty)", responses=SAVE_NEW
)
def add_agent(entry: AgentIn) -> AgentSaved:
    return _save_agent(entry, create=True)


@api.put("/agents/<username>")
@requires("admin")
@api.input(AgentIn, arg_name="entry")
@api.output(AgentSaved)
@api.doc(summary="Change an agent (an empty password keeps the current one)", responses=SAVE)
def update_agent(username: str, entry: AgentIn) -> AgentSaved:
    change.same_name(NAME, username, entry.username, "username")
    return _save_agent(entry, create=False)


@api.put("/agents/<username>/active")
@requires("admin")
@api.input(ActiveIn, arg_name="body")
@api.output(AgentSaved)
@api.doc(
    summary="Enable or disable an agent (a disabled agent's phone cannot register)", responses=FIND
)
def set_agent_active(username: str, body: ActiveIn) -> AgentSaved:
    _admin().set_agent_active(
        change.checked(NAME, username, "username"), body.active,
        change.note("agent.enabled" if body.active else "agent.disabled", f"agent:{username}"),
    )  # fmt: skip
    return AgentSaved(agent=_agent(username), password="", **change.reload().model_dump())


@api.post("/agents/<username>/password")
@requires("admin")
@api.output(AgentSaved)
@api.doc(summary="Give an agent a new generated SIP password (shown once)", responses=FIND)
def reset_agent_password(username: str) -> AgentSaved:
    password = _admin().reset_agent_password(
        change.checked(NAME, username, "username"),
        change.note("agent.password-reset", f"agent:{username}"),
    )
    return AgentSaved(agent=_agent(username), password=password, **change.reload().model_dump())


# -- skills ----------------------------------------------------------------------------
def _skill_out(info: SkillInfo) -> SkillOut:
    return SkillOut.model_validate(info, from_attributes=True)


def _skill(name: str) -> SkillOut:
    return _skill_out(next(s for s in _admin().skills() if s.name == name))


@api.get("/skills")
@requires("admin")
@api.output(SkillList)
@api.doc(summary="Every skill, how many agents have it and which queues ask for it")
def skills() -> SkillList:
    return SkillList(skills=[_skill_out(info) for info in _admin().skills()])


@api.put("/skills/<name>")
@requires("admin")
@api.input(SkillIn, arg_name="body")
@api.output(SkillSaved)
@api.doc(summary="Add a skill or change its description", responses=CHECK)
def save_skill(name: str, body: SkillIn) -> SkillSaved:
    entry = SkillEntry(name=change.checked(NAME, name, "name"), description=body.description)
    _admin().save_skill(
        entry, change.note("skill.saved", f"skill:{name}", description=body.description)
    )
    return SkillSaved(skill=_skill(name), **change.reload().model_dump())


# -- queues ----------------------------------------------------------------------------
@api.get("/queues")
@requires("admin")
@api.output(QueueList)
@api.doc(summary="Every queue's settings document")
def queues() -> QueueList:
    documents = _admin().documents().queues
    return QueueList(queues=[documents[name] for name in sorted(documents)])


def _save_queue(settings: QueueSettings, create: bool) -> QueueSaved:
    document = settings.model_dump(mode="json")
    audit = change.note("queue.created" if create else "queue.updated", f"queue:{settings.name}",
                        settings=document)  # fmt: skip
    _admin().save_queue(settings, create, audit)
    return QueueSaved(queue=document, **change.reload().model_dump())


@api.post("/queues")
@requires("admin")
@api.input(QueueSettings, arg_name="settings")
@api.output(QueueSaved, status_code=201)
@api.doc(
    summary="Add a queue: requirements, relaxation steps, SL target, weight, overflow",
    responses=SAVE_NEW,
)
def add_queue(settings: QueueSettings) -> QueueSaved:
    return _save_queue(settings, create=True)


@api.put("/queues/<name>")
@requires("admin")
@api.input(QueueSettings, arg_name="settings")
@api.output(QueueSaved)
@api.doc(
    summary="Replace a queue's settings (checked against the whole site first)", responses=SAVE
)
def update_queue(name: str, settings: QueueSettings) -> QueueSaved:
    change.same_name(NAME, name, settings.name, "name")
    return _save_queue(settings, create=False)


# -- business hours --------------------------------------------------------------------
@api.get("/schedules")
@requires("admin")
@api.output(ScheduleList)
@api.doc(summary="Business hours and holidays, one document per schedule")
def schedules() -> ScheduleList:
    documents = _admin().documents().schedules
    return ScheduleList(
        schedules=[ScheduleOut(name=n, document=documents[n]) for n in sorted(documents)]
    )


@api.put("/schedules/<name>")
@requires("admin")
@api.input(ScheduleIn, arg_name="body")
@api.output(ScheduleSaved)
@api.doc(
    summary="Add or replace a schedule: weekly windows, holidays, closed and special days",
    responses=CHECK,
)
def save_schedule(name: str, body: ScheduleIn) -> ScheduleSaved:
    _admin().save_schedule(
        change.checked(SCHEDULE_NAME, name, "name"), body.document,
        change.note("schedule.saved", f"schedule:{name}", document=body.document),
    )  # fmt: skip
    saved = ScheduleOut(name=name, document=_admin().documents().schedules[name])
    return ScheduleSaved(schedule=saved, **change.reload().model_dump())


@api.get("/schedules/<name>/preview")
@requires("admin")
@api.input(PreviewQuery, location="query", arg_name="query")
@api.output(SchedulePreview)
@api.doc(summary="A schedule day by day: open now?, next change, holidays", responses=FIND)
def preview_schedule(name: str, query: PreviewQuery) -> SchedulePreview:
    document = _admin().documents().schedules.get(change.checked(SCHEDULE_NAME, name, "name"))
    if document is None:
        raise AdminError("unknown", [f"no schedule {name!r}"])
    try:
        schedule = load_schedule(document, source=f"schedule {name}", name=name)
    except ScheduleError as exc:  # stored before today's checks: say what to fix
        raise AdminError("invalid", [str(exc)]) from None
    seen = hours_preview.preview(
        schedule, datetime.fromtimestamp(services().clock(), UTC), query.days
    )
    return SchedulePreview(
        name=name, timezone=schedule.timezone, open_now=seen.open_now,
        next_change=(
            seen.next_change.astimezone(schedule.zone).isoformat(timespec="minutes")
            if seen.next_change else None
        ),
        days=[
            PreviewDay(day=d.day.isoformat(), windows=list(d.windows), holiday=d.holiday,
                       special=d.special)
            for d in seen.days
        ],
    )  # fmt: skip


# -- IVR flows -------------------------------------------------------------------------
@api.get("/flows")
@requires("admin")
@api.output(FlowList)
@api.doc(summary="IVR flows: their documents and the dialled numbers that start them")
def flows() -> FlowList:
    documents = _admin().documents().flows
    return FlowList(
        flows=[
            FlowOut(name=name, document=documents[name][0], numbers=documents[name][1])
            for name in sorted(documents)
        ]
    )


@api.put("/flows/<name>")
@requires("admin")
@api.input(FlowIn, arg_name="body")
@api.output(FlowSaved)
@api.doc(
    summary="Add or replace an IVR flow (the whole graph is checked before saving)", responses=CHECK
)
def save_flow(name: str, body: FlowIn) -> FlowSaved:
    _admin().save_flow(
        change.checked(NAME, name, "name"), body.document, body.numbers,
        change.note("flow.saved", f"flow:{name}", document=body.document,
                    numbers=body.numbers),
    )  # fmt: skip
    saved = FlowOut(name=name, document=body.document, numbers=body.numbers)
    return FlowSaved(flow=saved, **change.reload().model_dump())


# -- console users ---------------------------------------------------------------------
def _user_out(user: User) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


def _user(username: str) -> UserOut:
    found = services().users.find(username)
    assert found is not None
    return _user_out(found)


@api.get("/users")
@requires("admin")
@api.output(UserList)
@api.doc(summary="Console users and their roles (no passwords)")
def users() -> UserList:
    return UserList(users=[_user_out(u) for u in _admin().users()])


@api.post("/users")
@requires("admin")
@api.input(UserEntry, arg_name="entry")
@api.output(UserSaved, status_code=201)
@api.doc(summary="Add a console user (agent users name the agent they work as)", responses=SAVE_NEW)
def add_user(entry: UserEntry) -> UserSaved:
    password = _admin().add_user(entry)
    change.audit("user.created", f"user:{entry.username}", role=entry.role, agent=entry.agent)
    return UserSaved(user=_user(entry.username), password=password)


@api.post("/users/<username>/password")
@requires("admin")
@api.input(PasswordIn, arg_name="body")
@api.output(UserSaved)
@api.doc(
    summary="Set a user's password (empty: a new one is generated and shown once)",
    responses=FIND_CHECK,
)
def reset_user_password(username: str, body: PasswordIn) -> UserSaved:
    password = _admin().reset_user_password(
        change.checked(USERNAME, username, "username"), body.password
    )
    change.audit("user.password-reset", f"user:{username}")
    return UserSaved(user=_user(username), password=password)


@api.put("/users/<username>/active")
@requires("admin")
@api.input(ActiveIn, arg_name="body")
@api.output(UserSaved)
@api.doc(
    summary="Enable or disable a console user (the last admin stays enabled)",
    responses=FIND_CONFLICT,
)
def set_user_active(username: str, body: ActiveIn) -> UserSaved:
    _admin().set_user_active(change.checked(USERNAME, username, "username"), body.active)
    change.audit("user.enabled" if body.active else "user.disabled", f"user:{username}")
    return UserSaved(user=_user(username))
