"""Administration: agents, skills, queues, business hours, IVR flows, console users.

Validation is the site file's own (services/site.py): AgentEntry and
QueueSettings check one item; parse_site (load_schedule, load_flow and its
cross-checks) checks the whole site as it would be after the change. A save
runs in one transaction that reads the site, validates, and writes: a refused
change raises AdminError listing every problem, and nothing is written.

A problem already in the stored site (a flow loaded from an older file that
names a skill nobody has, or a prompt since deleted, say) does not block
unrelated saves: only problems the change would add are refused. Prompts are
checked against those the ``prompts`` port says can be played at the save.

Each change may carry an ``Audit`` note: its row is written in the same
transaction, so the log holds every change made and none refused. The caller
(the console) reloads the controller after a successful save.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from callcenter.core.ivr.nodes import QueueNode
from callcenter.core.ivr.schema import load_flow
from callcenter.core.prompts import KnownPrompts
from callcenter.core.queues import QueueSettings
from callcenter.core.site import SiteDocuments
from callcenter.core.users import User, UserError
from callcenter.services.repositories import SiteConfig, SiteConfigStore, UserRepository
from callcenter.services.site import NAME, AgentEntry, PromptCatalog, SiteError, parse_site

log = logging.getLogger(__name__)


class AdminError(Exception):
    """A refused change; ``code`` is stable (invalid, exists, conflict, unknown)."""

    def __init__(self, code: str, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.code = code
        self.problems = problems


@dataclass(frozen=True)
class Audit:
    """Who changed what; written in the change's own transaction."""

    actor: str
    action: str
    target: str
    detail: dict[str, Any] = field(default_factory=dict)


class SkillEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=NAME)
    description: str = Field("", max_length=120)


class UserEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,32}$")
    role: Literal["agent", "supervisor", "admin"]
    agent: str = Field("", pattern=r"^$|^" + NAME[1:], description="the agent a user works as")
    password: str = Field("", max_length=200, description="empty: one is generated")


@dataclass(frozen=True)
class AgentInfo:
    username: str
    name: str
    extension: str
    active: bool
    static_contact: str
    skills: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SkillInfo:
    name: str
    description: str
    agents: int
    queues: list[str]


def new_password() -> str:
    return secrets.token_urlsafe(12)


class Admin:
    def __init__(
        self, config: SiteConfigStore, users: UserRepository, prompts: PromptCatalog
    ) -> None:
        self._config = config
        self._users = users
        self._prompts = prompts

    @contextmanager
    def _saving(self, audit: Audit | None) -> Iterator[SiteConfig]:
        # One transaction: an AdminError (or anything else) inside rolls it all back,
        # and the audit row is written with the change or not at all.
        with self._config.writing() as config:
            yield config
            if audit is not None:
                config.audit(audit.actor, audit.action, audit.target, audit.detail)

    # -- agents ------------------------------------------------------------------------
    def agents(self) -> list[AgentInfo]:
        with self._config.reading() as config:
            skills = config.agent_skills()
            return [
                AgentInfo(r.username, r.display_name, r.extension, r.active, r.static_contact,
                          skills.get(r.username, {}))
                for r in config.agents()
            ]  # fmt: skip

    def save_agent(self, entry: AgentEntry, create: bool, audit: Audit | None = None) -> str:
        """Create or update an agent; returns the SIP password if it was set (shown once)."""
        password = entry.password or (new_password() if create else "")
        with self._saving(audit) as config:
            found = config.agent(entry.username)
            if create and found is not None:
                raise AdminError("exists", [f"username: agent {entry.username!r} exists"])
            if not create and found is None:
                raise AdminError("unknown", [f"no agent {entry.username!r}"])
            other = config.agent_with_extension(entry.extension)
            if other is not None and other.username != entry.username:
                raise AdminError(
                    "conflict",
                    [f"extension: {entry.extension} is taken by agent {other.username!r}"],
                )
            self._known_skills(config, "skills", entry.skills)
            config.upsert_agent(
                entry.username, entry.name, entry.extension, password, entry.static_contact
            )
            config.set_agent_skills(entry.username, entry.skills)
        return password

    def set_agent_active(self, username: str, active: bool, audit: Audit | None = None) -> None:
        with self._saving(audit) as config:
            if not config.set_agent_active(username, active):
                raise _no_agent(username)

    def reset_agent_password(self, username: str, audit: Audit | None = None) -> str:
        password = new_password()
        with self._saving(audit) as config:
            if not config.set_agent_password(username, password):
                raise _no_agent(username)
        return password

    def _known_skills(self, config: SiteConfig, where: str, levels: dict[str, int]) -> None:
        known = config.skill_names()
        unknown = sorted(set(levels) - known)
        if unknown:
            raise AdminError("invalid", [_unknown_skills(where, unknown, known)])

    # -- skills ------------------------------------------------------------------------
    def skills(self) -> list[SkillInfo]:
        with self._config.reading() as config:
            descriptions = config.skill_descriptions()
            holders: dict[str, int] = {}
            for levels in config.agent_skills().values():
                for skill in levels:
                    holders[skill] = holders.get(skill, 0) + 1
            queues = config.site_documents().queues
        return [
            SkillInfo(name, text, holders.get(name, 0),
                      sorted(q for q, doc in queues.items() if name in _queue_skills(doc)))
            for name, text in descriptions.items()
        ]  # fmt: skip

    def save_skill(self, entry: SkillEntry, audit: Audit | None = None) -> None:
        with self._saving(audit) as config:
            config.upsert_skill(entry.name, entry.description)

    # -- queues, business hours, flows: validated against the whole site ------------------
    def documents(self) -> SiteDocuments:
        with self._config.reading() as config:
            return config.site_documents()

    def save_queue(self, settings: QueueSettings, create: bool, audit: Audit | None = None) -> None:
        with self._saving(audit) as config:
            docs = config.site_documents()
            _check_presence("queue", settings.name, settings.name in docs.queues, create)
            queues = {**docs.queues, settings.name: settings.model_dump(mode="json")}
            self._refuse_new_problems(config, docs, replace(docs, queues=queues))
            config.upsert_queue(settings)

    def save_schedule(
        self, name: str, document: dict[str, Any], audit: Audit | None = None
    ) -> None:
        document = {k: v for k, v in document.items() if k != "name"}  # the key names it
        with self._saving(audit) as config:
            docs = config.site_documents()
            schedules = {**docs.schedules, name: document}
            self._refuse_new_problems(config, docs, replace(docs, schedules=schedules))
            config.upsert_schedule(name, document)

    def save_flow(
        self, name: str, document: dict[str, Any], numbers: list[str], audit: Audit | None = None
    ) -> None:
        with self._saving(audit) as config:
            docs = config.site_documents()
            flows = {**docs.flows, name: (document, numbers)}
            self._refuse_new_problems(config, docs, replace(docs, flows=flows))
            config.upsert_flow(name, document, numbers)

    def _refuse_new_problems(
        self, config: SiteConfig, now: SiteDocuments, then: SiteDocuments
    ) -> None:
        known = config.skill_names()
        prompts = self._prompts()
        if prompts.sounds is None:
            log.warning(
                "no Asterisk sounds at %s: only the site's own prompts (custom/...) are checked",
                prompts.searched,
            )
        before = set(site_problems(now, known, prompts))
        added = [p for p in site_problems(then, known, prompts) if p not in before]
        if added:
            raise AdminError("invalid", added)

    # -- console users ---------------------------------------------------------------------
    def users(self) -> list[User]:
        return self._users.all()

    def add_user(self, entry: UserEntry) -> str:
        if entry.agent:
            with self._config.reading() as config:
                found = config.agent(entry.agent)
                if found is None or not found.active:
                    raise AdminError("invalid", [f"agent: no active agent {entry.agent!r}"])
        password = entry.password or new_password()
        try:
            self._users.add(entry.username, password, entry.role, entry.agent)
        except UserError as exc:
            raise _user_error(exc) from None
        return password

    def reset_user_password(self, username: str, password: str) -> str:
        password = password or new_password()
        try:
            self._users.set_password(username, password)
        except UserError as exc:
            raise _user_error(exc) from None
        return password

    def set_user_active(self, username: str, active: bool) -> User:
        try:
            return self._users.set_active(username, active)
        except UserError as exc:
            raise _user_error(exc) from None


# -- the whole-site check ---------------------------------------------------------------
def site_problems(
    docs: SiteDocuments, skills: set[str], prompts: KnownPrompts | None = None
) -> list[str]:
    """Everything wrong with the site: parse_site's findings (prompts too, when the
    known ones are given), unknown skills, numbers twice."""
    data = {
        "queues": [docs.queues[name] for name in sorted(docs.queues)],
        "schedules": docs.schedules,
        "flows": {n: {"document": d, "numbers": nums} for n, (d, nums) in docs.flows.items()},
    }
    problems: list[str] = []
    try:
        parse_site(data, Path("."), "site", prompts)
    except SiteError as exc:
        problems += exc.problems
    for name, document in sorted(docs.queues.items()):
        unknown = sorted(_queue_skills(document) - skills)
        if unknown:
            problems.append(_unknown_skills(f"queue {name}", unknown, skills))
    for name, (document, _) in sorted(docs.flows.items()):
        unknown = sorted(_flow_skills(document) - skills)
        if unknown:
            problems.append(_unknown_skills(f"flow {name}", unknown, skills))
    routed: dict[str, str] = {}
    for name, (_, numbers) in sorted(docs.flows.items()):
        for number in numbers:
            if number in routed:
                problems.append(f"flow {name}: number {number} is already flow {routed[number]}'s")
            routed.setdefault(number, name)
    return problems


def _queue_skills(document: dict[str, Any]) -> set[str]:
    found = set(document.get("requirements") or {})
    for step in document.get("relax") or []:
        found |= set(step.get("requirements") or {}) if isinstance(step, dict) else set()
    return found


def _flow_skills(document: dict[str, Any]) -> set[str]:
    try:
        flow = load_flow(document)
    except ValueError:
        return set()  # parse_site has reported what is wrong with it
    return {s for node in flow.nodes.values() if isinstance(node, QueueNode) for s in node.skills}


def _unknown_skills(where: str, unknown: list[str], known: set[str]) -> str:
    listed = ", ".join(sorted(known)) or "none yet"
    names = ", ".join(map(repr, unknown))
    return f"{where}: unknown skill {names} (known: {listed}; add it under Skills first)"


def _no_agent(username: str) -> AdminError:
    return AdminError("unknown", [f"no agent {username!r}"])


def _check_presence(kind: str, name: str, exists: bool, create: bool) -> None:
    if create and exists:
        raise AdminError("exists", [f"name: {kind} {name!r} exists"])
    if not create and not exists:
        raise AdminError("unknown", [f"no {kind} {name!r}"])


USER_ERRORS = {  # UserError code -> (AdminError code, the field at fault)
    "exists": ("exists", "username"),
    "unknown": ("unknown", "username"),
    "last-admin": ("conflict", "active"),
    "weak-password": ("invalid", "password"),
    "bad-role": ("invalid", "role"),
    "no-agent": ("invalid", "agent"),
}


def _user_error(exc: UserError) -> AdminError:
    code, where = USER_ERRORS.get(exc.code, ("invalid", "user"))
    return AdminError(code, [f"{where}: {exc}"])
