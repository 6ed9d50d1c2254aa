"""Secrets generated at install time, kept in the state directory (mode 0600).

Nothing here ships a default: a missing secret is generated once, then reused.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def secret_file(state_dir: Path, name: str) -> Path:
    return state_dir / "secrets" / f"{name}.secret"


def ensure_secret(state_dir: Path, name: str) -> str:
    path = secret_file(state_dir, name)
    if path.exists():
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value


def read_secret(state_dir: Path, name: str) -> str | None:
    path = secret_file(state_dir, name)
    if not path.exists():
        return None
    return path.read_text(encoding="ascii").strip() or None
