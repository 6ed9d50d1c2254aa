"""What the services need from storage, as protocols (services/ports.py is the PBX's side).

Each protocol lists only the methods the services call. The SQLAlchemy classes
in adapters/db implement them structurally and bear the same names (the
adapter's ``DialerStore`` is a ``DialerStore``); ``CallRecords`` and ``Auditor``
are roles that a wider adapter class plays. Tests hand in the in-memory fakes
of tests/fakes/repositories.py.

Every method is blocking (one short transaction): services on the event loop
call them through ``asyncio.to_thread``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from callcenter.core.acd.waits import EstimateRecord
from callcenter.core.callbacks.records import Attempt, Callback, NewCallback
from callcenter.core.calls.record import CallRecord
from callcenter.core.dial_policy import DialRefusal
from callcenter.core.model import AgentRecord, SipAccount
from callcenter.core.outbound.leads_csv import LeadIn
from callcenter.core.outbound.records import (
    Campaign,
    DialSample,
    Figures,
    LeadImport,
    LeadRecord,
    NewDialAttempt,
)
from callcenter.core.outbound.retry import LeadState
from callcenter.core.quality import Candidate, Evaluation, Form, NewEvaluation
from callcenter.core.queues import QueueSettings
from callcenter.core.recordings import Recording
from callcenter.core.records_backlog import RecordsBacklog
from callcenter.core.repeat_contacts import Contact
from callcenter.core.site import SiteDocuments
from callcenter.core.stats import CallEventRecord
from callcenter.core.survey import SurveyResult
from callcenter.core.users import User
from callcenter.core.voicemail import LeftMessage, Voicemail

if TYPE_CHECKING:  # the desktop's own types; desktop_pop imports its settings, which import this
    from callcenter.services.console.desktop_pop import CallFacts, CustomerCard, CustomerLookups


# -- calls ------------------------------------------------------------------------------------
class CallRecords(Protocol):
    """Stored call records, as recovery reads them after a restart."""

    def call(self, call_id: str) -> CallRecord | None: ...

    def open_calls(self, since: float) -> list[tuple[str, str]]:
        """(call id, unique id) of the calls entered since then whose record is not closed."""
        ...

    def by_unique_ids(self, unique_ids: list[str]) -> dict[str, CallRecord]:
        """The records of these Asterisk channels (callers' unique ids), where there is one."""
        ...

    def last_event_at(self) -> float | None:
        """When the records last heard of anything (the latest call event), if ever."""
        ...

    def recent_talks(self, per_queue: int) -> list[tuple[str, str, float]]:
        """(queue, agent, talk seconds) of the last ``per_queue`` calls each queue's
        agents talked on, oldest first: what wait estimates start from after a restart."""
        ...


class RecordsLag(Protocol):
    """How far the call records' writer is behind (any thread; never blocks on the database)."""

    def backlog(self) -> RecordsBacklog: ...


# -- callbacks --------------------------------------------------------------------------------
class CallbackRepository(Protocol):
    def add(self, new: NewCallback) -> Callback: ...

    def get(self, callback_id: int) -> Callback | None: ...

    def update(self, callback_id: int, **values: Any) -> None: ...

    def pending(self) -> list[Callback]: ...

    def close_unobserved(self) -> list[int]:
        """Callbacks left ``dialing`` whose attempt was dialled and never ended (the
        controller that placed it died): the attempt closed ``unobserved``, the
        callback ``failed`` (never dialled twice); their ids."""
        ...

    def recent(
        self, status: str = "", limit: int = 100, mine: tuple[str, list[str]] | None = None
    ) -> list[Callback]:
        """Newest first; ``mine``: (booked by, queues): only those booked by them or in
        those queues."""
        ...

    def attempt(self, attempt: Attempt) -> int:
        """The attempt's audit row; its id."""
        ...

    def attempt_result(self, attempt_id: int, **values: Any) -> None: ...


# -- outbound ---------------------------------------------------------------------------------
class CampaignRepository(Protocol):
    """Campaigns as administration and lead imports change them."""

    def create(self, name: str, settings: dict[str, Any], now: float) -> Campaign:
        """Raises CampaignExists if the name is taken."""
        ...

    def all(self) -> list[Campaign]: ...

    def get(self, campaign_id: int) -> Campaign | None: ...

    def update(self, campaign_id: int, **values: Any) -> bool: ...

    def figures(self, campaign_id: int, since: float) -> Figures: ...

    def leads(self, campaign_id: int) -> Iterator[LeadRecord]:
        """Every lead of the campaign, by id (an export)."""
        ...

    def lead_numbers(self, campaign_id: int) -> set[str]: ...

    def add_leads(self, campaign_id: int, leads: Sequence[LeadIn], now: float) -> list[LeadIn]:
        """Returns the leads refused as duplicates."""
        ...

    def add_dnc(self, scope: str, numbers: Iterable[str], source: str, now: float) -> int: ...

    def remove_dnc(self, scope: str, number: str) -> bool: ...

    def dnc(self, scope: str, offset: int, limit: int) -> tuple[list[tuple[str, float, str]], int]:
        """One page of a DNC list: (number, added at, source) by number; and the total."""
        ...

    def start_import(self, campaign_id: int, filename: str, size: int, now: float) -> int: ...

    def update_import(self, import_id: int, **values: Any) -> None: ...

    def get_import(self, import_id: int) -> LeadImport | None: ...

    def imports(self, campaign_id: int, limit: int = 20) -> list[LeadImport]: ...

    def running_imports(self) -> list[LeadImport]: ...


class DialerStore(Protocol):
    """What the dialer reads and writes while it dials."""

    def campaigns(self) -> list[Campaign]:
        """The running campaigns."""
        ...

    def due_leads(self, campaign_id: int, now: float, limit: int) -> list[LeadRecord]: ...

    def claim(self, lead_id: int) -> bool:
        """Take a due lead (status ``dialing``); False if someone else did."""
        ...

    def release_stale(self, now: float) -> int: ...

    def hold_unobserved(self, now: float, hold: float) -> int:
        """Leads left ``dialing`` whose attempt was dialled and never ended (the
        controller that placed it died): the attempt closed ``unobserved``, the lead
        scheduled ``hold`` seconds on rather than redialled now; how many."""
        ...

    def save_lead(self, lead_id: int, state: LeadState) -> None: ...

    def dnc_scopes(self, number: str, campaign: str) -> list[str]: ...

    def add_dnc(self, scope: str, number: str, now: float) -> None: ...

    def add_attempt(self, attempt: NewDialAttempt, call: CallRecord | None) -> int:
        """The audit row (and the call's record, when it is dialled), written together."""
        ...

    def finish_attempt(
        self, attempt_id: int, call_id: str, end: dict[str, Any], ended_at: float
    ) -> None: ...

    def sample(
        self, campaign_id: int, name: str, since: float, handle_since: float | None = None
    ) -> DialSample: ...


# -- agents, users, the site's configuration --------------------------------------------------
class AgentRepository(Protocol):
    def accounts(self) -> list[SipAccount]:
        """The active agents' accounts."""
        ...

    def add(self, username: str, display_name: str, extension: str, password: str) -> SipAccount:
        """Raises DuplicateAgent if the username or the extension is taken."""
        ...


class UserRepository(Protocol):
    def all(self) -> list[User]: ...

    def add(self, username: str, password: str, role: str, agent: str = "") -> User:
        """Raises UserError (core/users.py)."""
        ...

    def set_password(self, username: str, password: str) -> None: ...

    def set_active(self, username: str, active: bool) -> User: ...


class Auditor(Protocol):
    def audit(self, actor: str, action: str, target: str, **detail: object) -> None: ...


class SiteConfig(Protocol):
    """The site's configuration inside one transaction (administration)."""

    def agents(self) -> list[AgentRecord]:
        """Every agent, active or not."""
        ...

    def agent(self, username: str) -> AgentRecord | None: ...

    def agent_with_extension(self, extension: str) -> AgentRecord | None: ...

    def upsert_agent(
        self,
        username: str,
        display_name: str,
        extension: str,
        password: str,
        static_contact: str = "",
    ) -> None:
        """Create or update; an empty password keeps the agent's (a new one gets one)."""
        ...

    def set_agent_active(self, username: str, active: bool) -> bool:
        """False if there is no such agent."""
        ...

    def set_agent_password(self, username: str, password: str) -> bool:
        """False if there is no such agent."""
        ...

    def agent_skills(self) -> dict[str, dict[str, int]]:
        """Skill levels of every agent, active or not."""
        ...

    def set_agent_skills(self, username: str, levels: Mapping[str, int]) -> None: ...

    def skill_names(self) -> set[str]: ...

    def skill_descriptions(self) -> dict[str, str]: ...

    def upsert_skill(self, name: str, description: str) -> None: ...

    def site_documents(self) -> SiteDocuments: ...

    def upsert_queue(self, settings: QueueSettings) -> None: ...

    def upsert_schedule(self, name: str, document: Mapping[str, Any]) -> None: ...

    def upsert_flow(self, name: str, document: Mapping[str, Any], numbers: list[str]) -> None: ...

    def audit(self, actor: str, action: str, target: str, detail: dict[str, Any]) -> None: ...


class SiteConfigStore(Protocol):
    def reading(self) -> AbstractContextManager[SiteConfig]:
        """The configuration for reading (nothing written)."""
        ...

    def writing(self) -> AbstractContextManager[SiteConfig]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        ...


class SiteSettings(Protocol):
    """Site-wide settings as JSON documents by key; each owner validates its own."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def set(self, key: str, value: dict[str, Any]) -> None: ...

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The stored documents among ``keys``, as stored, read together."""
        ...

    def set_many(self, values: Mapping[str, dict[str, Any]]) -> None:
        """Every document in one transaction."""
        ...


# -- recordings, reports, the desktop ---------------------------------------------------------
class RecordingArchive(Protocol):
    """The recordings table as the retention job reads and prunes it."""

    def started_before(self, cutoff: float, limit: int) -> list[Recording]: ...

    def delete(self, ids: Iterable[int]) -> int: ...

    def referenced(self, paths: Iterable[str]) -> set[str]:
        """Which of these relative paths a recording still points to."""
        ...


class ReportQueries(Protocol):
    def call_events(
        self, since: float, until: float, kinds: tuple[str, ...]
    ) -> list[CallEventRecord]:
        """Every event of the calls that had an event of ``kinds`` in [since, until)."""
        ...

    def state_rows(self, since: float, until: float) -> list[tuple[str, str, float]]:
        """Each agent's state changes in [since, until), led by its state at ``since``."""
        ...

    def wait_estimates(self, since: float, until: float) -> list[EstimateRecord]:
        """Estimates made in [since, until) whose caller then reached an agent."""
        ...

    def contacts(self, since: float, until: float) -> list[Contact]:
        """Calls that entered a queue in [since, until) (first-contact resolution)."""
        ...


class DesktopRecords(Protocol):
    """What the agent desktop reads: calls, customers, earlier calls."""

    lookups: CustomerLookups

    def call(self, call_id: str) -> CallFacts | None: ...

    def earlier_calls(
        self, facts: CallFacts, customer: CustomerCard | None, limit: int = ...
    ) -> list[CallRecord]: ...

    def last_unwrapped(self, agent: str, since: float) -> CallFacts | None: ...


class DialRefusals(Protocol):
    """The audit of numbers the dial policy refused (core/dial_policy.py)."""

    def add(self, refusal: DialRefusal) -> int: ...

    def recent(self, since: float, offset: int, limit: int) -> tuple[list[DialRefusal], int]:
        """One page of the refusals at or after ``since``, newest first; and their total."""
        ...

    def counts(self, since: float, until: float) -> dict[str, int]:
        """How many refusals of each reason in [since, until)."""
        ...


class Voicemails(Protocol):
    """Messages callers left in the queues' boxes (core/voicemail.py)."""

    def known(self, msg_ids: Iterable[str]) -> set[str]:
        """Which of these Asterisk message ids are stored already."""
        ...

    def add(self, message: LeftMessage, queue: str, path: str) -> int:
        """Store a new message (its queue: its call's if the call is known, else ``queue``)."""
        ...

    def search(
        self, queues: list[str] | None, queue: str = "", status: str = "", limit: int = 200
    ) -> list[Voicemail]:
        """Newest first; ``queues`` limits to those queues (None: all)."""
        ...

    def get(self, voicemail_id: int) -> Voicemail | None: ...

    def take(self, voicemail_id: int, who: str) -> bool:
        """Make it ``who``'s unless someone else took it or it is handled."""
        ...

    def handled(self, voicemail_id: int, who: str, at: float) -> None: ...

    def called_back(self, voicemail_id: int, callback_id: int) -> None: ...

    def left_between(self, since: float, until: float, limit: int = 100_000) -> list[Voicemail]: ...

    def left_before(self, cutoff: float, limit: int) -> list[Voicemail]: ...

    def delete(self, ids: Iterable[int]) -> int: ...


class SurveyResults(Protocol):
    """Post-call surveys offered (core/survey.py), one per call. The controller writes
    them through the call records (SurveyFinished); ``add`` writes the same row directly."""

    def add(self, result: SurveyResult) -> int: ...

    def between(self, since: float, until: float, queue: str = "") -> list[SurveyResult]:
        """Surveys offered in [since, until), oldest first; ``queue``: only that queue's.
        Each carries its call's disposition where the call's record has one."""
        ...


class QualityStore(Protocol):
    """QA forms (versions), evaluations of recorded calls, and the calls to review
    (core/quality.py)."""

    def forms(self, retired: bool = False) -> list[Form]:
        """The latest version of each form, by name."""
        ...

    def form(self, form_id: int) -> Form | None: ...

    def versions(self, name: str) -> list[Form]: ...

    def save_form(self, name: str, definition: Mapping[str, Any], who: str, at: float) -> Form:
        """Change the latest version in place if no evaluation used it (and it is not
        retired), else save the next version."""
        ...

    def retire_form(self, name: str) -> bool: ...

    def add_evaluation(self, new: NewEvaluation) -> Evaluation:
        """QualityError("evaluated") if the recording has one already."""
        ...

    def evaluation(self, evaluation_id: int) -> Evaluation | None: ...

    def evaluations(
        self,
        agent: str = "",
        queue: str = "",
        since: float | None = None,
        until: float | None = None,
        limit: int = 200,
    ) -> list[Evaluation]:
        """Newest call first; ``since``/``until`` bound the call's time."""
        ...

    def acknowledge(self, evaluation_id: int, agent: str, at: float, comment: str) -> bool:
        """Once, by the evaluated agent only."""
        ...

    def recorded_call(self, recording_id: int) -> Candidate | None:
        """A finished recording of an answered call with an agent, else None."""
        ...

    def candidates(self, since: float, until: float, queue: str = "") -> list[Candidate]:
        """Recorded, answered calls started in [since, until) with no evaluation yet."""
        ...

    def evaluated_counts(self, since: float, until: float, queue: str = "") -> dict[str, int]: ...
