"""Console users, API tokens and the audit log."""

from __future__ import annotations

import hashlib
import secrets
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from callcenter.adapters.db.models import ApiTokenRow, AuditRow, UserRow
from callcenter.core.users import ROLES, ApiToken, User, UserError, check_password


def _user(row: UserRow) -> User:
    stamp = hashlib.sha256(row.password_hash.encode()).hexdigest()[:16]
    return User(row.id, row.username, row.role, row.agent, row.active, stamp)


def _token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(row.name, row.role, row.created_at, row.expires_at, row.last_used_at)


TOKEN_DAYS = 90
# Checked against when the user is unknown, so a miss costs what a hit does (one hash).
_DUMMY_HASH = generate_password_hash("no such user, same work")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(self, username: str, password: str, role: str, agent: str = "") -> User:
        if role not in ROLES:
            raise UserError("bad-role", f"role must be one of {', '.join(ROLES)}")
        check_password(password, username)
        if role == "agent" and not agent:
            raise UserError("no-agent", "an agent user needs the agent it works as")
        row = UserRow(
            username=username,
            password_hash=generate_password_hash(password),
            role=role,
            agent=agent,
            active=True,
            created_at=time.time(),
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise UserError("exists", f"user {username!r} exists") from None
        return _user(row)

    def set_password(self, username: str, password: str) -> None:
        check_password(password, username)
        with self._sessions.begin() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            if row is None:
                raise UserError("unknown", f"no user {username!r}")
            row.password_hash = generate_password_hash(password)

    def set_active(self, username: str, active: bool) -> User:
        """(De)activate a user; the last active admin cannot be deactivated (no lock-out)."""
        with self._sessions.begin() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            if row is None:
                raise UserError("unknown", f"no user {username!r}")
            if not active and row.role == "admin" and row.active:
                admins = session.scalars(
                    select(UserRow.id).where(UserRow.role == "admin", UserRow.active)
                ).all()
                if len(admins) <= 1:
                    raise UserError("last-admin", "the last active admin cannot be deactivated")
            row.active = active
            return _user(row)

    def find(self, username: str) -> User | None:
        """A user by name, active or not (administration)."""
        with self._sessions() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            return _user(row) if row is not None else None

    def authenticate(self, username: str, password: str) -> User | None:
        with self._sessions() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            if row is None or not row.active:
                # Same work either way, so timing does not tell which usernames exist.
                check_password_hash(_DUMMY_HASH, password)
                return None
            return _user(row) if check_password_hash(row.password_hash, password) else None

    def get(self, user_id: int) -> User | None:
        with self._sessions() as session:
            row = session.get(UserRow, user_id)
            return _user(row) if row is not None and row.active else None

    def all(self) -> list[User]:
        with self._sessions() as session:
            return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]

    def count(self) -> int:
        with self._sessions() as session:
            return len(list(session.scalars(select(UserRow.id))))

    # -- tokens ---------------------------------------------------------------------
    def create_token(self, name: str, role: str, expires_at: float | None = None) -> str:
        """A new token (shown once: only its hash is kept); by default it lasts 90 days."""
        if role not in ROLES:
            raise UserError("bad-role", f"role must be one of {', '.join(ROLES)}")
        if expires_at is None:
            expires_at = time.time() + TOKEN_DAYS * 86400
        if expires_at <= time.time():
            raise UserError("expired", "a token's expiry must be in the future")
        token = secrets.token_urlsafe(32)
        row = ApiTokenRow(
            name=name,
            token_hash=_digest(token),
            role=role,
            created_at=time.time(),
            expires_at=expires_at,
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise UserError("exists", f"token {name!r} exists") from None
        return token

    def tokens(self) -> list[ApiToken]:
        with self._sessions() as session:
            rows = session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.name))
            return [_token(r) for r in rows]

    def revoke_token(self, name: str) -> bool:
        """Delete the token called ``name``: it is refused from the next request on."""
        with self._sessions.begin() as session:
            row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.name == name)).first()
            if row is None:
                return False
            session.delete(row)
            return True

    def token_role(self, token: str, now: float | None = None) -> tuple[str, str] | None:
        """(name, role) for a valid token that has not expired."""
        now = time.time() if now is None else now
        with self._sessions.begin() as session:
            row = session.scalars(
                select(ApiTokenRow).where(ApiTokenRow.token_hash == _digest(token))
            ).first()
            if row is None or _token(row).expired(now):
                return None
            row.last_used_at = now
            return row.name, row.role

    # -- audit ------------------------------------------------------------------------
    def audit(self, actor: str, action: str, target: str, **detail: object) -> None:
        with self._sessions.begin() as session:
            session.add(
                AuditRow(at=time.time(), actor=actor, action=action, target=target, detail=detail)
            )

    def audit_once(
        self, actor: str, action: str, target: str, window: float, **detail: object
    ) -> bool:
        """Audit, unless ``actor`` did ``action`` on ``target`` in the last ``window``
        seconds (one playback is many range requests). True if a row was written."""
        now = time.time()
        with self._sessions.begin() as session:
            seen = session.scalars(
                select(AuditRow.id)
                .where(
                    AuditRow.actor == actor,
                    AuditRow.action == action,
                    AuditRow.target == target,
                    AuditRow.at > now - window,
                )
                .limit(1)
            ).first()
            if seen is not None:
                return False
            session.add(AuditRow(at=now, actor=actor, action=action, target=target, detail=detail))
            return True

    def audit_entries(self, limit: int = 200) -> list[AuditRow]:
        with self._sessions() as session:
            rows = list(session.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)))
            for row in rows:
                session.expunge(row)
            return rows
