"""Render the project's Asterisk configuration into the PBX state directory.

Sources: ``asterisk/*.conf`` (with ``@@NAME@@`` placeholders), ``dialplan/*.conf``
(copied as is), the site's own additions from ``<site_dir>/asterisk/*.conf``
(copied into ``etc/site/``), and files generated from the database and the
configuration (``etc/generated/``). Files are only rewritten when their
content changes, so the caller knows whether Asterisk needs a reload.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import posixpath
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from callcenter.adapters.pbx.prompts import prompt_files
from callcenter.config import NAME_PATTERN, Settings, TrunkSettings
from callcenter.core.acd.fallback import fallback_queue, wrapup_seconds
from callcenter.core.dialplan import Global, Var
from callcenter.core.model import SipAccount
from callcenter.paths import ASTERISK_TEMPLATES, DIALPLAN_DIR

_PLACEHOLDER = re.compile(r"@@([A-Z_]+)@@")
_NAME = re.compile(NAME_PATTERN)
_SAFE_VALUE = re.compile(r"^[^\r\n;\[\]]*$")


class RenderError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class PbxLayout:
    """Where the PBX lives, seen from the host and from Asterisk itself."""

    host_dir: Path  # the state directory's pbx/ folder, on the host
    inner_dir: str  # the same folder as Asterisk sees it (inside a chroot, or not)
    mod_dir: str
    data_dir: str
    run_user: str
    uid: int
    gid: int

    def host_path(self, inner: str) -> Path:
        """Translate a path Asterisk reports into one the controller can open."""
        path = PurePosixPath(posixpath.normpath(inner))
        try:
            relative = path.relative_to(posixpath.normpath(self.inner_dir))
        except ValueError:
            raise ValueError(f"{inner} is outside the PBX directory") from None
        if ".." in relative.parts or not path.is_absolute():
            raise ValueError(f"{inner} is outside the PBX directory")
        return self.host_dir / relative


def fill(template: str, values: Mapping[str, str], source: str) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise RenderError(f"{source}: unknown placeholder @@{key}@@")
        return values[key]

    return _PLACEHOLDER.sub(replace, template)


def _check(value: str, what: str) -> str:
    if not _SAFE_VALUE.fullmatch(value):
        raise RenderError(f"{what} contains characters not allowed in an Asterisk config")
    return value


def agents_conf(accounts: Iterable[SipAccount]) -> str:
    lines = ["; generated from the database: one endpoint/auth/aor per agent softphone", ""]
    for account in sorted(accounts, key=lambda a: a.username):
        name = account.username
        if not _NAME.fullmatch(name):
            raise RenderError(f"agent SIP username {name!r} must match {NAME_PATTERN}")
        display = _check(account.display_name.replace('"', ""), f"agent {name} display name")
        lines += [
            f"[{name}](agent-endpoint)",
            f"auth = {name}",
            f"aors = {name}",
            f'callerid = "{display}" <{_check(account.extension, "extension")}>',
            "",
            f"[{name}](agent-auth)",
            f"username = {name}",
            f"password = {_check(account.password, f'agent {name} password')}",
            "",
            f"[{name}](agent-aor)",
            *(
                [f"contact = {_check(account.static_contact, 'contact')}"]
                if account.static_contact
                else []
            ),
            "",
        ]
    return "\n".join(lines)


_BOX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


def voicemail_conf(boxes: Iterable[str], secret: str) -> str:
    """The queues' voicemail boxes (context ``callcenter``).

    Messages are read from the spool by the controller, never with
    VoiceMailMain; each box still gets a PIN of its own, derived from an
    install secret so the file only changes when the boxes do.
    """
    lines = ["; generated from the queues' overflow settings: one box per target", ""]
    for box in sorted(set(boxes)):
        if not _BOX.fullmatch(box):
            raise RenderError(f"voicemail box {box!r} must match {_BOX.pattern}")
        digest = hmac.new(secret.encode(), box.encode(), hashlib.sha256).hexdigest()
        pin = str(int(digest[:15], 16))[-8:].rjust(8, "0")
        lines.append(f"{box} => {pin},{box}")
    return "\n".join(lines) + "\n"


def fallback_queues_conf(wrapups: Mapping[str, float]) -> str:
    """Each queue's plain twin (core/acd/fallback.py), with the queue's wrap-up time."""
    lines = ["; generated from the queues: each one's plain twin for when the controller is silent"]
    for queue, wrapup in sorted(wrapups.items()):
        if not _BOX.fullmatch(queue):
            raise RenderError(f"queue {queue!r} must match {_BOX.pattern}")
        lines += ["", f"[{fallback_queue(queue)}](cc-fallback-template)"]
        lines.append(f"wrapuptime = {wrapup_seconds(wrapup)}")
        lines.append("weight = 1")  # served before cc-fallback's callers (weight 0)
    return "\n".join(lines) + "\n"


def trunks_conf(trunks: Iterable[TrunkSettings]) -> str:
    lines = ["; generated from the configuration's [[trunks]]", ""]
    for trunk in trunks:
        name = trunk.name
        lines += [f"[{name}](trunk-endpoint)", f"aors = {name}"]
        if trunk.username:
            lines.append(f"outbound_auth = {name}")
        lines += ["", f"[{name}](trunk-aor)"]
        if trunk.contact:
            lines.append(f"contact = sip:{_check(trunk.contact, f'trunk {name} contact')}")
        lines += ["", f"[{name}](trunk-identify)", f"endpoint = {name}"]
        lines += [f"match = {network}" for network in trunk.match]
        if trunk.username:
            lines += [
                "",
                f"[{name}](trunk-auth)",
                f"username = {_check(trunk.username, f'trunk {name} username')}",
                f"password = {_check(trunk.password, f'trunk {name} password')}",
            ]
        lines.append("")
    return "\n".join(lines)


def globals_conf(settings: Settings) -> str:
    values = {
        Global.AGI_URL: f"agi://{settings.agi.host}:{settings.agi.port}",
        Global.FALLBACK_QUEUE: "cc-fallback",
        Global.HEARTBEAT_GRACE: "4",
        # Defaults for channel variables the controller normally sets per call.
        Var.RING_TIMEOUT: "20",
        Var.MOH: "default",
    }
    return "".join(f"{key} = {value}\n" for key, value in values.items())


def placeholders(settings: Settings, layout: PbxLayout, ami_secret: str) -> dict[str, str]:
    external = settings.sip.external_address
    return {
        "PBX_DIR": layout.inner_dir,
        "MOD_DIR": layout.mod_dir,
        "DATA_DIR": layout.data_dir,
        "RUN_USER": layout.run_user,
        "RUN_GROUP": layout.run_user,
        "AMI_HOST": settings.ami.host,
        "AMI_PORT": str(settings.ami.port),
        "AMI_USER": settings.ami.username,
        "AMI_SECRET": ami_secret,
        "SIP_BIND": settings.sip.bind,
        "SIP_PORT": str(settings.sip.port),
        "SIP_EXTERNAL": (
            f"external_media_address = {external}\nexternal_signaling_address = {external}"
            if external
            else ""
        ),
        "RTP_START": str(settings.sip.rtp_start),
        "RTP_END": str(settings.sip.rtp_end),
        "QUALIFY_SECONDS": str(settings.sip.qualify_seconds),
        "QUALIFY_TIMEOUT": f"{settings.sip.qualify_timeout:g}",
    }


class Renderer:
    def __init__(self, settings: Settings, layout: PbxLayout) -> None:
        self.settings = settings
        self.layout = layout
        self.etc = layout.host_dir / "etc"
        self.changed: list[str] = []

    def render(self, ami_secret: str, accounts: Iterable[SipAccount] | None) -> list[str]:
        """Write every config file; return the names of those that changed.

        ``accounts`` None keeps the agents' endpoints as last published (none yet: an
        empty file); the controller publishes them on every AMI login."""
        self.changed = []
        self._make_dirs()
        values = placeholders(self.settings, self.layout, ami_secret)
        for template in sorted(ASTERISK_TEMPLATES.glob("*.conf")):
            self._write(template.name, fill(template.read_text(), values, template.name))
        self._mirror(DIALPLAN_DIR, "dialplan")
        self._mirror(self.settings.site_dir / "asterisk", "site")
        self._write("generated/globals.conf", globals_conf(self.settings))
        if accounts is not None or not (self.etc / "generated/pjsip_agents.conf").exists():
            self._write("generated/pjsip_agents.conf", agents_conf(accounts or []))
        self._write("generated/pjsip_trunks.conf", trunks_conf(self.settings.trunks))
        self._mirror_sounds()
        return self.changed

    def render_agents(self, accounts: Iterable[SipAccount]) -> bool:
        """Rewrite only the agents' endpoints; True when they changed."""
        self.changed = []
        self._write("generated/pjsip_agents.conf", agents_conf(accounts))
        return bool(self.changed)

    def render_fallback_queues(self, wrapups: Mapping[str, float]) -> bool:
        """Rewrite the queues' plain twins; True when they changed."""
        self.changed = []
        self._make_dirs()
        self._write("generated/queues_fallback.conf", fallback_queues_conf(wrapups))
        return bool(self.changed)

    def render_voicemail(self, boxes: Iterable[str], secret: str) -> bool:
        """Rewrite the voicemail boxes; True when they changed."""
        self.changed = []
        self._make_dirs()
        self._write("generated/voicemail_boxes.conf", voicemail_conf(boxes, secret))
        return bool(self.changed)

    def _make_dirs(self) -> None:
        base = self.layout.host_dir
        for name in ("etc", "etc/dialplan", "etc/site", "etc/generated"):
            (base / name).mkdir(parents=True, exist_ok=True)
            os.chown(base / name, 0, self.layout.gid)
            os.chmod(base / name, 0o750)
        # Asterisk writes to these as its own user.
        for name in (
            "lib",
            "lib/keys",
            "spool",
            "spool/recordings",
            "log",
            "log/cel-custom",
            "run",
            "cache",
        ):
            (base / name).mkdir(parents=True, exist_ok=True)
            os.chown(base / name, self.layout.uid, self.layout.gid)
        os.chmod(base, 0o755)

    def publish_sounds(self) -> list[str]:
        """Only the site's prompts (a prompt made while Asterisk runs); what changed."""
        self.changed = []
        self._mirror_sounds()
        return self.changed

    def _mirror_sounds(self) -> None:
        """The site's prompts, played as custom/<name> (mounted there for Asterisk)."""
        target = self.layout.host_dir / "sounds"
        target.mkdir(parents=True, exist_ok=True)
        os.chown(target, 0, self.layout.gid)
        os.chmod(target, 0o755)
        wanted = {path.name: path for path in prompt_files(self.settings.site_dir)}
        for name, path in wanted.items():
            copy = target / name
            if not copy.exists() or copy.read_bytes() != path.read_bytes():
                shutil.copyfile(path, copy)
                os.chmod(copy, 0o644)
                self.changed.append(f"sounds/{name}")
        for stale in target.iterdir():
            if stale.name not in wanted:
                stale.unlink()

    def _mirror(self, source: Path, target: str) -> None:
        wanted = {path.name: path for path in source.glob("*.conf")} if source.is_dir() else {}
        for name, path in sorted(wanted.items()):
            self._write(f"{target}/{name}", path.read_text())
        for stale in (self.etc / target).glob("*.conf"):
            if stale.name not in wanted:
                stale.unlink()
                self.changed.append(f"{target}/{stale.name}")

    def _write(self, relative: str, content: str) -> None:
        path = self.etc / relative
        if path.exists() and path.read_text() == content:
            return
        tmp = path.with_suffix(path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        os.chown(tmp, 0, self.layout.gid)
        os.replace(tmp, path)
        self.changed.append(relative)
