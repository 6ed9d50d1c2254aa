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
import ipaddress
import os
import posixpath
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from callcenter.adapters.ops.modes import make_state_dir
from callcenter.adapters.pbx import first_menus
from callcenter.adapters.pbx.prompts import prompt_files
from callcenter.adapters.pbx.tls import CERT_NAME, KEY_NAME, TlsError, ensure_certificate
from callcenter.adapters.pbx.webrtc import WEBRTC_CERT, WEBRTC_KEY, http_conf, wss_transport
from callcenter.adapters.web.certificate import console_tls
from callcenter.config import NAME_PATTERN, Settings, SipSettings, TrunkSettings
from callcenter.core.acd.fallback import fallback_queue, wrapup_seconds
from callcenter.core.dialplan import Context, Global, Var
from callcenter.core.ivr.first import FirstMenu
from callcenter.core.model import SipAccount
from callcenter.core.phone_codes import (
    applicationmap,
    check_codes,
    conference_menu,
    dynamic_features,
)
from callcenter.core.sip_auth import AGENT_HEADER, PROXY_ENDPOINT, SIP_REALM, is_ha1
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


def _own(path: Path, uid: int, gid: int, mode: int) -> None:
    """A folder with its owner and mode; only root changes them (the controller,
    publishing as its own user, finds them made by `pbx up` / `pbx run`)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(path, uid, gid)
        os.chmod(path, mode)


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


def _ha1(account: SipAccount) -> str:
    if not is_ha1(account.ha1):
        raise RenderError(f"agent {account.username}: the SIP digest is not 32 hex digits")
    return account.ha1


_ANYWHERE = "0.0.0.0/0.0.0.0,::/0"


def _endpoint_security(name: str, sip: SipSettings) -> list[str]:
    """SRTP and the address ACL of one agent's endpoint ([sip], [sip.agents.NAME])."""
    lines = []
    if sip.webrtc_for(name):
        # A browser (the desktop's phone panel): ICE, AVPF, rtcp-mux and DTLS-SRTP keyed
        # by the certificate's fingerprint; Asterisk makes its own DTLS certificate.
        lines += ["webrtc = yes", "dtls_auto_generate_cert = yes"]
    elif sip.srtp_for(name):
        lines += ["media_encryption = sdes", "media_encryption_optimistic = no"]
    networks = sip.networks_for(name)
    if networks:
        allowed = ",".join(str(ipaddress.ip_network(n, strict=False)) for n in networks)
        # Requests from elsewhere are refused (FailedACL in the security log, counted
        # by fail2ban), and so is a registration naming a contact elsewhere.
        lines += [f"deny = {_ANYWHERE}", f"permit = {allowed}"]
        lines += [f"contact_deny = {_ANYWHERE}", f"contact_permit = {allowed}"]
    return lines


def _via_proxy(proxy: str) -> list[str]:
    """An agent's endpoint behind Kamailio ([kamailio] phones): Kamailio checked the
    phone's digest and names the agent in X-CC-Agent; only its address is let in."""
    address = ipaddress.ip_address(proxy)
    return [f"deny = {_ANYWHERE}", f"permit = {address}"]


def proxy_conf(names: Iterable[str], proxy: str) -> list[str]:
    """The endpoint Kamailio's requests arrive on, recognised by its address: calls
    from the trunks it dispatches (cc-inbound) and its copies of the phones'
    registrations (every agent's AOR; the contact is the agent at Kamailio)."""
    address = ipaddress.ip_address(proxy)
    aors = ",".join(names)
    return [
        f"[{PROXY_ENDPOINT}](trunk-endpoint)",
        *([f"aors = {aors}"] if aors else []),
        "",
        f"[{PROXY_ENDPOINT}](trunk-identify)",
        f"endpoint = {PROXY_ENDPOINT}",
        f"match = {address}",
        "",
    ]


def agents_conf(
    accounts: Iterable[SipAccount], sip: SipSettings | None = None, proxy: str = ""
) -> str:
    """One endpoint/auth/aor per agent; ``proxy``: Kamailio's address when the phones
    register with it ([kamailio] phones), '' when they register here."""
    sip = sip or SipSettings()
    lines = ["; generated from the database: one endpoint/auth/aor per agent softphone", ""]
    names = []
    for account in sorted(accounts, key=lambda a: a.username):
        name = account.username
        if not _NAME.fullmatch(name):
            raise RenderError(f"agent SIP username {name!r} must match {NAME_PATTERN}")
        names.append(name)
        display = _check(account.display_name.replace('"', ""), f"agent {name} display name")
        lines += [
            f"[{name}](agent-endpoint)",
            # Behind Kamailio the digest was checked there (the same HA1, realm).
            *([] if proxy else [f"auth = {name}"]),
            f"aors = {name}",
            f'callerid = "{display}" <{_check(account.extension, "extension")}>',
            *(_via_proxy(proxy) if proxy else _endpoint_security(name, sip)),
            "",
            *(
                [
                    f"[{name}]",
                    "type = identify",
                    f"endpoint = {name}",
                    f"match_header = {AGENT_HEADER}: {name}",
                    "",
                ]
                if proxy
                else []
            ),
            f"[{name}](agent-auth)",
            f"username = {name}",
            f"md5_cred = {_ha1(account)}",
            "",
            f"[{name}](agent-aor)",
            *(
                [f"contact = {_check(account.static_contact, 'contact')}"]
                if account.static_contact
                else []
            ),
            "",
        ]
    if proxy:
        lines += proxy_conf(names, proxy)
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


def nodes_conf(settings: Settings) -> str:
    """The inter-node trunks ([[pbx.nodes]]): on each node one endpoint per other node,
    recognised by its address, whose calls enter cc-internode (an agent registered
    here, rung for a caller who waits on that node). Empty on a single box."""
    lines = ["; generated from the configuration's [[pbx.nodes]]", ""]
    here = settings.pbx.node
    for node in settings.pbx.nodes:
        if node.name == here:
            continue
        name = node.trunk
        contact = _check(f"{node.address}:{node.sip_port}", f"node {node.name} address")
        lines += [f"[{name}](node-endpoint)", f"aors = {name}", ""]
        lines += [f"[{name}](trunk-aor)", f"contact = sip:{contact}", ""]
        lines += [f"[{name}](trunk-identify)", f"endpoint = {name}", f"match = {node.address}"]
        lines.append("")
    return "\n".join(lines)


def ami_permit(settings: Settings) -> str:
    """Who may log in to AMI: loopback on one box, the controllers' networks on a node."""
    if not settings.pbx.node:
        return "permit = 127.0.0.0/255.0.0.0"
    return "\n".join(f"permit = {network}" for network in settings.pbx.controller_networks)


def globals_conf(settings: Settings) -> str:
    values: dict[str, str] = {
        # Two controllers ([agi] controllers): the first; the active one says its own.
        Global.AGI_URL: settings.agi.first_url(),
        Global.FALLBACK_QUEUE: "cc-fallback",
        Global.HEARTBEAT_GRACE: "4",
        # Defaults for channel variables the controller normally sets per call.
        Var.RING_TIMEOUT: "20",
        Var.MOH: "default",
    }
    if settings.transfers.phone_codes:
        # The agent's leg's DYNAMIC_FEATURES (cc-agent-leg; unset: no codes), and how
        # many keys cc-hold-agent reads at most (the longest code: it stops there).
        codes = check_codes(settings.transfers.codes)
        values[Global.PHONE_CODES] = dynamic_features(codes)
        values[Global.CODE_LENGTH] = str(max(len(code) for code in codes.values()))
    return "".join(f"{key} = {value}\n" for key, value in values.items())


def tls_transport(settings: Settings, layout: PbxLayout) -> str:
    """The TLS transport section ([sip] tls), or nothing."""
    sip = settings.sip
    if not sip.tls:
        return ""
    keys = f"{layout.inner_dir}/lib/keys"
    lines = [
        "[transport-tls]",
        "type = transport",
        "protocol = tls",
        f"bind = {sip.bind}:{sip.tls_port}",
        f"cert_file = {keys}/{CERT_NAME}",
        f"priv_key_file = {keys}/{KEY_NAME}",
        "method = tlsv1_2",
        "verify_client = no",
        "verify_server = no",
    ]
    if sip.external_address:
        lines.append(f"external_media_address = {sip.external_address}")
        lines.append(f"external_signaling_address = {sip.external_address}")
    return "\n".join(lines) + "\n"


def placeholders(settings: Settings, layout: PbxLayout, ami_secret: str) -> dict[str, str]:
    external = settings.sip.external_address
    return {
        "PBX_DIR": layout.inner_dir,
        "MOD_DIR": layout.mod_dir,
        "DATA_DIR": layout.data_dir,
        "RUN_USER": layout.run_user,
        "RUN_GROUP": layout.run_user,
        "AMI_HOST": settings.ami.host,
        "AMI_PERMIT": ami_permit(settings),
        # Unique ids start with it: on several nodes, the node's name keeps them apart.
        "SYSTEM_NAME": settings.pbx.node or "callcenter",
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
        "SIP_REALM": SIP_REALM,
        "IDENTIFY_ORDER": "header,ip,username" if settings.kamailio.phones else "ip,username",
        "SIP_TLS": tls_transport(settings, layout),
        "SIP_WSS": wss_transport(settings.sip),
        "HTTP_SERVER": http_conf(settings.sip, f"{layout.inner_dir}/lib/keys"),
        "PHONE_CODES": _phone_codes(settings),
        "CONFERENCE_MENU": _conference_menu(settings),
    }


def _phone_codes(settings: Settings) -> str:
    """The agents' call-control codes, features.conf's [applicationmap] lines."""
    if not settings.transfers.phone_codes:
        return ""
    return applicationmap(check_codes(settings.transfers.codes), Context.PHONE_CODE)


def _conference_menu(settings: Settings) -> str:
    """The codes that act in a conference, a confbridge.conf menu (cc-conference-member
    names it only while codes are on: CC_PHONE_CODES)."""
    if not settings.transfers.phone_codes:
        return ""
    return conference_menu(check_codes(settings.transfers.codes), Context.CONF_CODE)


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
        self._certificate()
        values = placeholders(self.settings, self.layout, ami_secret)
        for template in sorted(ASTERISK_TEMPLATES.glob("*.conf")):
            self._write(template.name, fill(template.read_text(), values, template.name))
        self._mirror(DIALPLAN_DIR, "dialplan")
        self._mirror(self.settings.site_dir / "asterisk", "site")
        self._write("generated/globals.conf", globals_conf(self.settings))
        if accounts is not None or not (self.etc / "generated/pjsip_agents.conf").exists():
            self._write(
                "generated/pjsip_agents.conf",
                agents_conf(accounts or [], self.settings.sip, self.settings.kamailio.phones_via),
            )
        self._write("generated/pjsip_trunks.conf", trunks_conf(self.settings.trunks))
        if not (self.etc / first_menus.FILE).exists():  # until the controller publishes the flows'
            self._write(first_menus.FILE, first_menus.first_menus_conf(None, {}))
        if self.settings.pbx.nodes:  # several nodes: the trunks between them
            self._write("generated/pjsip_nodes.conf", nodes_conf(self.settings))
        self._mirror_sounds()
        return self.changed

    def _certificate(self) -> None:
        self._webrtc_certificate()
        sip = self.settings.sip
        if not sip.tls:
            return
        try:
            made = ensure_certificate(
                self.layout.host_dir / "lib" / "keys",
                self.layout.gid,
                [sip.bind, sip.external_address],
                sip.tls_cert,
                sip.tls_key,
            )
        except TlsError as exc:
            raise RenderError(str(exc)) from None
        if made:
            self.changed.append(f"lib/keys/{CERT_NAME}")

    def _webrtc_certificate(self) -> None:
        """The console's certificate for Asterisk's HTTPS server ([sip] webrtc): the
        browser that trusts the console trusts the phone panel's WebSocket too."""
        if not self.settings.sip.webrtc_used:
            return
        try:
            console = console_tls(self.settings.web, self.settings.state_dir)
            if console.generated:
                self._give_to_controller(console.cert.parent, console.cert, console.key)
            made = ensure_certificate(
                self.layout.host_dir / "lib" / "keys",
                self.layout.gid,
                [],
                console.cert,
                console.key,
                names=(WEBRTC_CERT, WEBRTC_KEY),
            )
        except (TlsError, OSError) as exc:
            raise RenderError(f"the WebRTC certificate: {exc}") from None
        if made:
            self.changed.append(f"lib/keys/{WEBRTC_CERT}")

    def _give_to_controller(self, *paths: Path) -> None:
        """The console's certificate generated here by root (`pbx up`) belongs to the
        controller that serves it, the state directory's owner, as if it had made it."""
        owner = self.settings.state_dir.stat()
        if os.geteuid() != 0 or owner.st_uid == 0:
            return
        for path in paths:
            if path.stat().st_uid == 0:
                os.chown(path, owner.st_uid, owner.st_gid)

    def render_agents(self, accounts: Iterable[SipAccount]) -> bool:
        """Rewrite only the agents' endpoints; True when they changed."""
        self.changed = []
        self._write(
            "generated/pjsip_agents.conf",
            agents_conf(accounts, self.settings.sip, self.settings.kamailio.phones_via),
        )
        return bool(self.changed)

    def render_first_menus(
        self, default: FirstMenu | None, by_number: Mapping[str, FirstMenu | None]
    ) -> bool:
        """Rewrite the flows' first menus (cc-first); True when they changed."""
        self.changed = []
        self._make_dirs()
        self._write(first_menus.FILE, first_menus.first_menus_conf(default, by_number))
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
        """The PBX folder's owners and modes (adapters/ops/modes.py): the configuration
        is root's (what the controller publishes, its own), readable by Asterisk's group
        and never writable by Asterisk; what Asterisk writes that the controller reads
        (recordings, voicemail, logs) belongs to the controller's group (set-group-id
        folders); nothing is world-readable."""
        base = self.layout.host_dir
        make_state_dir(self.settings.state_dir)
        controller = self.settings.state_dir.stat()  # its owner runs the controller
        uid, gid = self.layout.uid, self.layout.gid
        _own(base, 0, 0, 0o711)  # Asterisk and the controller pass through
        for name in ("etc", "etc/dialplan", "etc/site"):
            _own(base / name, 0, gid, 0o750)
        for name in ("etc/generated", "sounds"):  # the controller publishes into these
            _own(base / name, controller.st_uid, gid, 0o2750)
        for name in ("lib", "lib/keys", "run", "cache"):
            _own(base / name, uid, gid, 0o750)
        # The controller deletes old recordings (group write); it only reads the logs,
        # whose folders logrotate wants writable by their owner alone.
        for name in ("spool", "spool/recordings"):
            _own(base / name, uid, controller.st_gid, 0o2770)
        for name in ("log", "log/cel-custom"):
            _own(base / name, uid, controller.st_gid, 0o2750)

    def publish_sounds(self) -> list[str]:
        """Only the site's prompts (a prompt made while Asterisk runs); what changed."""
        self.changed = []
        self._mirror_sounds()
        return self.changed

    def _mirror_sounds(self) -> None:
        """The site's prompts, played as custom/<name> (mounted there for Asterisk)."""
        target = self.layout.host_dir / "sounds"
        target.mkdir(parents=True, exist_ok=True)
        wanted = {path.name: path for path in prompt_files(self.settings.site_dir)}
        for name, path in wanted.items():
            copy = target / name
            if not copy.exists() or copy.read_bytes() != path.read_bytes():
                shutil.copyfile(path, copy)
                os.chmod(copy, 0o640)
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
        if os.geteuid() == 0:  # else the folder's set-group-id bit gives Asterisk's group
            os.chown(tmp, path.parent.stat().st_uid, self.layout.gid)
        os.replace(tmp, path)
        self.changed.append(relative)
