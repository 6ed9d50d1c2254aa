"""Who may read what the call center writes: umasks and modes, in one place.

- The controller's processes run with umask 027 (``CONTROLLER_UMASK``): what they
  create is 0640 at most, never world-readable. Secrets and the SQLite database are
  created 0600 explicitly (``private_file``).
- Asterisk runs with umask 007 (``ASTERISK_UMASK``): its recordings, voicemail and
  logs land in folders that belong to the controller's group (set-group-id, see
  ``adapters/pbx/render.py``), so the controller may read them and retention may
  delete recordings; nobody else can.
- The state directory is 0711: its owner (the controller's user) lists it, Asterisk
  only passes through to ``pbx/``, others see nothing.
- `callcenter run` started as root on a state directory another user owns becomes
  that user (``drop_to_state_owner``), as its systemd unit would run it.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

CONTROLLER_UMASK = 0o027
ASTERISK_UMASK = 0o007
STATE_DIR_MODE = 0o711
PRIVATE_FILE_MODE = 0o600


def make_state_dir(path: Path) -> None:
    """The state directory, created (or tightened, when this user owns it) 0711."""
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_uid == os.geteuid():
        os.chmod(path, STATE_DIR_MODE)


def private_file(path: Path, mode: int = PRIVATE_FILE_MODE) -> None:
    """Create ``path`` empty with ``mode`` unless it exists; an existing file this user
    owns loses any permission beyond ``mode`` (a database made world-readable before)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        info = path.stat()
        if info.st_uid == os.geteuid() and info.st_mode & 0o777 & ~mode:
            os.chmod(path, info.st_mode & 0o777 & mode)
        return
    os.close(fd)


def drop_to_state_owner(state_dir: Path) -> str | None:
    """Started as root on a state directory another user owns (`service install`
    hands it to ``callcenter``): become that user, its group and no other, before
    anything is opened. Returns the user's name, or None when nothing changed."""
    if os.geteuid() != 0 or not state_dir.is_dir():
        return None
    owner = state_dir.stat()
    if owner.st_uid == 0:
        return None
    os.setgroups([])
    os.setgid(owner.st_gid)
    os.setuid(owner.st_uid)
    try:
        return pwd.getpwuid(owner.st_uid).pw_name
    except KeyError:
        return str(owner.st_uid)
