"""A site definition file: skills, agents' skills, queues, business hours, IVR
flows and customers, validated as a whole (adapters/db/site_config.py writes it
in one transaction).

    callcenter site load site.toml

Every problem in the file is reported with where it is; nothing is written
unless everything is valid. Given the prompts that can be played
(core/prompts.py, listed by adapters/pbx/sounds.py), a flow or a queue naming
any other is refused too.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callcenter.core.acd.model import checked_levels
from callcenter.core.hours import ScheduleError, load_schedule
from callcenter.core.ivr.errors import FlowError
from callcenter.core.ivr.schema import load_flow
from callcenter.core.prompts import KnownPrompts, missing_prompts
from callcenter.core.queues import QueueSettings
from callcenter.core.users import password_problem

NAME = r"^[a-z][a-z0-9_-]{0,31}$"
# The port that says which prompts can be played now (the site's own may change).
PromptCatalog = Callable[[], KnownPrompts]


class SiteError(Exception):
    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


class AgentEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=NAME)
    name: str = Field(min_length=1, max_length=80)
    extension: str = Field(pattern=r"^[0-9]{2,8}$")
    password: str = Field("", pattern=r"^[A-Za-z0-9_.-]{0,64}$")
    skills: dict[str, int] = {}
    static_contact: str = Field("", pattern=r"^$|^sip:[A-Za-z0-9_.-]+@[0-9.]+(:[0-9]+)?$")

    @field_validator("password")
    @classmethod
    def _strong_enough(cls, password: str) -> str:
        problem = password_problem(password) if password else None
        if problem is not None:
            raise ValueError(f"SIP password: {problem} (leave it empty to have one generated)")
        return password

    @field_validator("name")
    @classmethod
    def _config_safe(cls, name: str) -> str:
        # The name goes into the agent's PJSIP endpoint (its caller ID): a line
        # break, ';' or '[' there would break the whole generated config.
        if re.search(r"[\x00-\x1f\x7f;\[\]]", name):
            raise ValueError("may not hold ; [ ] or control characters (line breaks, tabs)")
        return name

    @field_validator("skills")
    @classmethod
    def _levels(cls, skills: dict[str, int]) -> dict[str, int]:
        # The router refuses a level outside 1..5 when the site is reloaded;
        # refuse it here, where the file (or the admin's form) is still at hand.
        for skill in skills:
            if not re.fullmatch(NAME, skill):
                raise ValueError(f"bad skill name {skill!r} (lower-case letters, digits, _ -)")
        return dict(checked_levels("skills", skills))


class CustomerEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    account: str = Field("", pattern=r"^[A-Za-z0-9_-]{0,32}$")
    pin: str = Field("", pattern=r"^[0-9]{0,12}$")
    tier: str = Field("", max_length=16)
    numbers: list[str] = []
    notes: str = ""


class FlowEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str = ""
    numbers: list[str] = []
    document: dict[str, Any] = {}


@dataclass
class Site:
    agents: list[AgentEntry] = field(default_factory=list)
    queues: list[QueueSettings] = field(default_factory=list)
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)
    flows: dict[str, tuple[dict[str, Any], list[str]]] = field(default_factory=dict)
    customers: list[CustomerEntry] = field(default_factory=list)


def parse_site(
    data: dict[str, Any], base: Path, source: str, prompts: KnownPrompts | None = None
) -> Site:
    """Validate everything; raise SiteError listing every problem found.

    Prompts are checked only when ``prompts`` (those that can be played) is given.
    """
    problems: list[str] = []
    site = Site()

    def each(kind: str, items: Any, model: Any) -> list[Any]:
        out = []
        for index, item in enumerate(items or []):
            try:
                out.append(model.model_validate(item))
            except ValidationError as exc:
                for error in exc.errors():
                    where = ".".join(str(p) for p in error["loc"])
                    problems.append(f"{kind}[{index}].{where}: {error['msg']}")
        return out

    site.agents = each("agents", data.get("agents"), AgentEntry)
    site.queues = each("queues", data.get("queues"), QueueSettings)
    site.customers = each("customers", data.get("customers"), CustomerEntry)
    for name, document in (data.get("schedules") or {}).items():
        try:
            load_schedule(document, source=f"schedules.{name}", name=name)
            site.schedules[name] = document
        except (ScheduleError, ValueError) as exc:
            problems.append(str(exc))
    queue_names = {q.name for q in site.queues}
    for queue in site.queues:
        for target in queue.overflow_targets() - queue_names:
            problems.append(f"queue {queue.name}: overflows to unknown queue {target!r}")
        if queue.schedule and queue.schedule not in site.schedules:
            problems.append(f"queue {queue.name}: unknown schedule {queue.schedule!r}")
        if prompts is not None:
            for where, why in missing_prompts(queue.sounds(), prompts):
                problems.append(f"queue {queue.name}: {where}: {why}")
    for name, entry_data in (data.get("flows") or {}).items():
        try:
            entry = FlowEntry.model_validate(entry_data)
            document = entry.document or tomllib.loads((base / entry.file).read_text())
            load_flow(
                document,
                queues=queue_names,
                schedules=set(site.schedules),
                prompts=prompts,
                source=f"flows.{name}",
            )
            site.flows[name] = (document, entry.numbers)
        except (ValidationError, FlowError, OSError, tomllib.TOMLDecodeError) as exc:
            problems.append(str(exc))
    if problems:
        raise SiteError(source, problems)
    return site


def load_site_file(path: Path, prompts: KnownPrompts | None = None) -> Site:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SiteError(str(path), [str(exc)]) from None
    return parse_site(data, path.parent, str(path), prompts)
