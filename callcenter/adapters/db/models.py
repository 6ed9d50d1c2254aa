"""SQLAlchemy 2 models: the tables of the call center.

Schema changes go through Alembic migrations (``migrations/versions``);
``callcenter db upgrade`` applies them. Instants are stored as epoch seconds
(float): arithmetic and interval bucketing read the same on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Json = dict[str, Any]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {Json: JSON, list[Any]: JSON}


class AgentRow(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The PJSIP endpoint, auth and aor name; also the login on the softphone.
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    extension: Mapped[str] = mapped_column(String(16), unique=True)
    # MD5(username:realm:password), PJSIP's md5_cred (core/sip_auth.py): no plain text.
    sip_ha1: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # A fixed contact (sip:user@host:port) for phones that do not register.
    static_contact: Mapped[str] = mapped_column(String(128), default="")


class SkillRow(Base):
    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    description: Mapped[str] = mapped_column(String(120), default="")


class AgentSkillRow(Base):
    __tablename__ = "agent_skills"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[int] = mapped_column(Integer)


class QueueRow(Base):
    """A queue's settings; `settings` holds the validated QueueSettings document."""

    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    settings: Mapped[Json] = mapped_column(JSON)
    updated_at: Mapped[float] = mapped_column(Float)


class ScheduleRow(Base):
    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    document: Mapped[Json] = mapped_column(JSON)
    updated_at: Mapped[float] = mapped_column(Float)


class IvrFlowRow(Base):
    __tablename__ = "ivr_flows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    document: Mapped[Json] = mapped_column(JSON)
    # Dialled numbers routed to this flow; the flow named "main" takes the rest.
    numbers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[float] = mapped_column(Float)


class CustomerRow(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    account: Mapped[str | None] = mapped_column(String(32), unique=True)
    # PBKDF2 hash of the phone PIN; never the PIN itself.
    pin_hash: Mapped[str] = mapped_column(String(200), default="")
    tier: Mapped[str] = mapped_column(String(16), default="")
    notes: Mapped[str] = mapped_column(Text, default="")


class CustomerNumberRow(Base):
    __tablename__ = "customer_numbers"

    number: Mapped[str] = mapped_column(String(24), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))


class CallRow(Base):
    """One call's life, summarised; call_events holds every step."""

    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    unique_id: Mapped[str] = mapped_column(String(64), index=True)
    direction: Mapped[str] = mapped_column(String(12), default="inbound")
    caller_number: Mapped[str] = mapped_column(String(24), default="")
    caller_name: Mapped[str] = mapped_column(String(40), default="")
    dialled: Mapped[str] = mapped_column(String(24), default="")
    flow: Mapped[str] = mapped_column(String(32), default="")
    # Several nodes ([[pbx.nodes]]): the caller's node and the agent's phone's; '' on one box.
    node: Mapped[str] = mapped_column(String(32), default="", server_default="")
    agent_node: Mapped[str] = mapped_column(String(32), default="", server_default="")
    ivr_path: Mapped[list[Any]] = mapped_column(JSON, default=list)
    data: Mapped[Json] = mapped_column(JSON, default=dict)
    customer_id: Mapped[int | None] = mapped_column(Integer)
    queue: Mapped[str] = mapped_column(String(32), default="", index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    requirements: Mapped[Json] = mapped_column(JSON, default=dict)
    entered_at: Mapped[float] = mapped_column(Float, index=True)
    enqueued_at: Mapped[float | None] = mapped_column(Float)
    answered_at: Mapped[float | None] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float)
    agent: Mapped[str] = mapped_column(String(32), default="", index=True)
    outcome: Mapped[str] = mapped_column(String(24), default="")
    offers: Mapped[int] = mapped_column(Integer, default=0)
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    wrapup_seconds: Mapped[float | None] = mapped_column(Float)
    disposition: Mapped[str] = mapped_column(String(32), default="")
    notes: Mapped[str] = mapped_column(Text, default="")


class CallEventRow(Base):
    __tablename__ = "call_events"
    __table_args__ = (Index("ix_call_events_call_at", "call_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(24))
    agent: Mapped[str] = mapped_column(String(32), default="")
    detail: Mapped[Json] = mapped_column(JSON, default=dict)


class WaitEstimateRow(Base):
    """Every wait estimate given to a caller, and later what the wait really was."""

    __tablename__ = "wait_estimates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(32), index=True)
    queue: Mapped[str] = mapped_column(String(32))
    at: Mapped[float] = mapped_column(Float, index=True)
    position: Mapped[int] = mapped_column(Integer)
    estimate_seconds: Mapped[float | None] = mapped_column(Float)
    # Seconds from this estimate until an agent answered; None if never answered.
    actual_seconds: Mapped[float | None] = mapped_column(Float)
    # Whether the product stood by the estimate (core/acd/waits.py); None: logged before.
    reliable: Mapped[bool | None] = mapped_column(Boolean)


class RecordsProgressRow(Base):
    """How far each records writer got: the last event it wrote, in the same transaction.

    A batch whose commit was answered by an error may have been written all the
    same; before retrying, the writer skips the events up to ``seq`` (rows of
    call_events and the state log are keyed by an autoincrement id, so writing
    them twice would double them). One row per writer (per controller run).
    """

    __tablename__ = "records_progress"

    writer: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[float] = mapped_column(Float)


class RecordingRow(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(32), index=True)
    agent: Mapped[str] = mapped_column(String(32), default="")
    queue: Mapped[str] = mapped_column(String(32), default="")
    caller_number: Mapped[str] = mapped_column(String(24), default="")
    # The node whose recordings folder holds it ([[pbx.nodes]]); '' on one box.
    node: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # Relative to the recordings folder; generated by the controller, never by a caller.
    path: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[float] = mapped_column(Float, index=True)
    ended_at: Mapped[float | None] = mapped_column(Float)
    # Muted (paused) intervals in seconds from the start: [[from, to], ...].
    mutes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    size_bytes: Mapped[int | None] = mapped_column(Integer)


class AgentStatusRow(Base):
    """Each agent's current state, kept so a restarted controller resumes it."""

    __tablename__ = "agent_status"

    agent: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32), default="")
    since: Mapped[float] = mapped_column(Float)
    pending_pause: Mapped[str | None] = mapped_column(String(32))
    call_id: Mapped[str | None] = mapped_column(String(32))


class AgentStateLogRow(Base):
    __tablename__ = "agent_state_log"
    __table_args__ = (Index("ix_agent_state_log_agent_at", "agent", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32), default="")
    at: Mapped[float] = mapped_column(Float)
    call_id: Mapped[str | None] = mapped_column(String(32))


class UserRow(Base):
    """A console user: agent, supervisor or admin. Passwords are salted hashes."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # For role agent: the agent (PJSIP endpoint) this user works as.
    agent: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)


class ApiTokenRow(Base):
    """A token for machine clients (a TV wallboard, a CRM); only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float)
    # Refused from then on (epoch seconds); NULL only for tokens made before expiry existed.
    expires_at: Mapped[float | None] = mapped_column(Float)


class AuditRow(Base):
    """Who played or downloaded which recording, and other sensitive acts."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[Json] = mapped_column(JSON, default=dict)


class SiteSettingRow(Base):
    """Site-wide settings edited from the console (dispositions, CRM hooks, retention...).

    Each value is a JSON document validated by the service that owns its key.
    """

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Json] = mapped_column(JSON)
    updated_at: Mapped[float] = mapped_column(Float)


class CampaignRow(Base):
    """An outbound campaign; `settings` holds its validated CampaignSettings document."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    settings: Mapped[Json] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="paused")  # running | paused | done
    created_at: Mapped[float] = mapped_column(Float)


class LeadRow(Base):
    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_campaign_due", "campaign_id", "status", "next_attempt_at"),
        Index("ix_leads_campaign_phone", "campaign_id", "phone", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(24))  # E.164
    first_name: Mapped[str] = mapped_column(String(64), default="")
    last_name: Mapped[str] = mapped_column(String(64), default="")
    account: Mapped[str] = mapped_column(String(32), default="")
    timezone: Mapped[str] = mapped_column(String(48), default="")
    data: Mapped[Json] = mapped_column(JSON, default=dict)
    # new | scheduled | dialing | done | dnc | invalid | exhausted
    status: Mapped[str] = mapped_column(String(16), default="new")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(Float, default=0.0)
    last_attempt_at: Mapped[float | None] = mapped_column(Float)
    last_outcome: Mapped[str] = mapped_column(String(24), default="")
    last_abandoned_at: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)


class DncRow(Base):
    """Do-not-call numbers: scope "site" or "campaign:<name>"."""

    __tablename__ = "dnc"
    __table_args__ = (Index("ix_dnc_scope_number", "scope", "number", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(48))
    number: Mapped[str] = mapped_column(String(24))
    added_at: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(64), default="")


class DialAttemptRow(Base):
    """One row per dial attempt: the proof that every rule was checked."""

    __tablename__ = "dial_attempts"
    __table_args__ = (Index("ix_dial_attempts_campaign_at", "campaign_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    lead_id: Mapped[int | None] = mapped_column(Integer)
    callback_id: Mapped[int | None] = mapped_column(Integer)
    call_id: Mapped[str] = mapped_column(String(32), default="")
    number: Mapped[str] = mapped_column(String(24))
    at: Mapped[float] = mapped_column(Float)
    lead_local_time: Mapped[str] = mapped_column(String(40), default="")
    dnc_check: Mapped[str] = mapped_column(String(24), default="")
    hours_check: Mapped[str] = mapped_column(String(24), default="")
    dialled: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[float | None] = mapped_column(Float)
    amd_result: Mapped[str] = mapped_column(String(16), default="")
    amd_cause: Mapped[str] = mapped_column(String(48), default="")
    agent_connected_at: Mapped[float | None] = mapped_column(Float)
    answer_to_agent_seconds: Mapped[float | None] = mapped_column(Float)
    agent: Mapped[str] = mapped_column(String(32), default="")
    outcome: Mapped[str] = mapped_column(String(24), default="")
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)


class CallbackRow(Base):
    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # keep-place | scheduled
    origin_call_id: Mapped[str] = mapped_column(String(32), default="")
    queue: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(24))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    extra: Mapped[Json] = mapped_column(JSON, default=dict)
    data: Mapped[Json] = mapped_column(JSON, default=dict)
    requested_at: Mapped[float] = mapped_column(Float)
    # The original place in line (keep-place) or the booked time (scheduled).
    enqueued_at: Mapped[float] = mapped_column(Float)
    due_at: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    # pending | dialing | done | failed | cancelled
    status: Mapped[str] = mapped_column(String(16), default="pending")
    booked_by: Mapped[str] = mapped_column(String(32), default="")
    last_outcome: Mapped[str] = mapped_column(String(24), default="")
    notes: Mapped[str] = mapped_column(Text, default="")


class LeadImportRow(Base):
    """A CSV import's progress and its bad rows (line numbers and reasons)."""

    __tablename__ = "lead_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    good: Mapped[int] = mapped_column(Integer, default=0)
    bad: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="running")
    # Progress bar: bytes of the uploaded file read so far, of its size.
    size_bytes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    read_bytes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    encoding: Mapped[str] = mapped_column(String(16), default="", server_default="")
    warning: Mapped[str] = mapped_column(Text, default="", server_default="")


class DialRefusalRow(Base):
    """A number the dial policy refused (core/dial_policy.py): who gave it, where, why."""

    __tablename__ = "dial_refusals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    origin_kind: Mapped[str] = mapped_column(String(16))  # caller, agent, user, campaign...
    origin_id: Mapped[str] = mapped_column(String(64), default="")
    number: Mapped[str] = mapped_column(String(40))  # as given, control characters as ?
    reason: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str] = mapped_column(String(200), default="")
    place: Mapped[str] = mapped_column(String(32))  # keep-place, api, lead-import, dialer...


class VoicemailRow(Base):
    """A message a caller left in a queue's box (core/voicemail.py), as the console works it."""

    __tablename__ = "voicemails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(64), unique=True)
    box: Mapped[str] = mapped_column(String(32))
    queue: Mapped[str] = mapped_column(String(32), default="", index=True)
    call_id: Mapped[str] = mapped_column(String(32), default="", index=True)
    caller_number: Mapped[str] = mapped_column(String(24), default="")
    caller_name: Mapped[str] = mapped_column(String(40), default="")
    left_at: Mapped[float] = mapped_column(Float, index=True)
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    # Relative to the spool's voicemail/callcenter folder, without the audio's extension.
    path: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="new", index=True)
    owner: Mapped[str] = mapped_column(String(64), default="")
    handled_by: Mapped[str] = mapped_column(String(64), default="")
    handled_at: Mapped[float | None] = mapped_column(Float)
    callback_id: Mapped[int | None] = mapped_column(Integer)


class SurveyResultRow(Base):
    """A post-call survey offered after a call (core/survey.py): its ratings, if any."""

    __tablename__ = "survey_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    queue: Mapped[str] = mapped_column(String(32), default="", index=True)
    agent: Mapped[str] = mapped_column(String(32), default="", index=True)
    scores: Mapped[list[Any]] = mapped_column(JSON, default=list)  # 1-5 or null, per question
    responded: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(String(200), default="", server_default="")


class QaFormRow(Base):
    """One version of a QA evaluation form (core/quality.py); a version an evaluation
    used is never changed: a change saves the next version."""

    __tablename__ = "qa_forms"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_qa_forms_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[Json] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class QaEvaluationRow(Base):
    """A supervisor's evaluation of one recorded call, and the agent's acknowledgement."""

    __tablename__ = "qa_evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("qa_forms.id"), index=True)
    recording_id: Mapped[int] = mapped_column(Integer, unique=True)  # one evaluation a call
    call_id: Mapped[str] = mapped_column(String(32), default="")
    agent: Mapped[str] = mapped_column(String(32), index=True)
    queue: Mapped[str] = mapped_column(String(32), default="")
    call_at: Mapped[float] = mapped_column(Float, index=True)
    evaluator: Mapped[str] = mapped_column(String(64))
    evaluated_at: Mapped[float] = mapped_column(Float)
    answers: Mapped[Json] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)
    critical_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    acknowledged_at: Mapped[float | None] = mapped_column(Float)
    agent_comment: Mapped[str] = mapped_column(Text, default="")
