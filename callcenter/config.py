"""Typed configuration: one TOML file plus environment variables, validated once.

Sources, later ones winning: built-in defaults, the TOML file
(``--config`` / ``CALLCENTER_CONFIG`` / ``/etc/callcenter/callcenter.toml``),
then environment variables ``CALLCENTER_<SECTION>__<KEY>`` (e.g.
``CALLCENTER_AMI__PORT=5039``). A bad value stops start-up with a message
naming the key and the file it came from.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
import zoneinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from callcenter.core.dial_policy import DialPolicy
from callcenter.core.phone_codes import DEFAULT_CODES, check_codes

DEFAULT_CONFIG_FILE = Path("/etc/callcenter/callcenter.toml")
# Names that become PJSIP sections and dialplan extensions: at least two characters,
# because the dialplan pattern for agent endpoints (_[a-z].) needs two.
NAME_PATTERN = r"^[a-z][a-z0-9_-]{1,31}$"


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _loopback(value: str) -> str:
    if not ipaddress.ip_address(value).is_loopback:
        raise ValueError(f"{value} is not a loopback address; this link must stay on loopback")
    return value


class AmiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(5038, ge=1, le=65535)
    username: str = Field("callcenter", pattern=NAME_PATTERN)
    # Empty: read the secret generated at install from the state directory.
    secret: str = ""
    ping_interval: float = Field(2.0, gt=0)
    ping_timeout: float = Field(1.5, gt=0)
    action_timeout: float = Field(5.0, gt=0)
    reconnect_min: float = Field(0.2, gt=0)
    reconnect_max: float = Field(5.0, gt=0)

    _check_host = field_validator("host")(_loopback)


class AgiSettings(_Section):
    # Loopback on one box; with [[pbx.nodes]] the controller's private address the
    # nodes reach (checked by Settings: a private address only when nodes are listed).
    host: str = "127.0.0.1"
    port: int = Field(4573, ge=1, le=65535)
    # A FastAGI client must send its whole agi_* header block within this time.
    header_timeout: float = Field(2.0, gt=0)
    # true: a flow's first menu runs in the dialplan before the controller is asked
    # (cc-first, rendered from the flows): its Read() answers the caller with no
    # FastAGI round trip, and the route resumes the flow with its keys (post-dial
    # delay near a plain dialplan's, half the AGI round trips). false (default): the
    # controller's first command (the first menu's Read) answers: in the benchmarks
    # (README) its highest zero-failure rate is higher, as the controller's work comes
    # before the answer rather than after the key.
    first_menu_in_dialplan: bool = False
    # Two controllers on two hosts ([ha], [[pbx.nodes]]): every controller's FastAGI
    # address (its [agi] host, on port [agi] port). The nodes' dialplan starts with the
    # first; the active controller tells every node its own (CC_AGI) each second.
    controllers: list[str] = Field(default_factory=list)

    @field_validator("host")
    @classmethod
    def _ip(cls, value: str) -> str:
        ipaddress.ip_address(value)
        return value

    @field_validator("controllers")
    @classmethod
    def _ips(cls, values: list[str]) -> list[str]:
        for value in values:
            ipaddress.ip_address(value)
        if len(set(values)) != len(values):
            raise ValueError("a controller is listed twice")
        return values

    def url(self, host: str = "") -> str:
        """The FastAGI URL the dialplan calls (CC_AGI): this controller's, or ``host``'s."""
        return f"agi://{host or self.host}:{self.port}"

    def first_url(self) -> str:
        """The URL the nodes' dialplan starts with: the first controller listed, or ours."""
        return self.url(self.controllers[0] if self.controllers else "")


def _networks(values: list[str]) -> list[str]:
    for value in values:
        ipaddress.ip_network(value, strict=False)
    return values


class AgentSipSettings(_Section):
    """One agent's phone, overriding [sip]'s srtp, agent_networks, webrtc and nailed
    ([sip.agents.NAME])."""

    srtp: bool | None = None
    networks: list[str] | None = None
    webrtc: bool | None = None
    nailed: bool | None = None

    @field_validator("networks")
    @classmethod
    def _check_networks(cls, values: list[str] | None) -> list[str] | None:
        return values if values is None else _networks(values)


class SipSettings(_Section):
    bind: str = "0.0.0.0"
    port: int = Field(5060, ge=1, le=65535)
    # Address phones should send media to; empty lets Asterisk pick.
    external_address: str = ""
    rtp_start: int = Field(10000, ge=1024, le=65535)
    rtp_end: int = Field(20000, ge=1024, le=65535)
    # How often Asterisk checks that each agent's phone answers (SIP OPTIONS), and how
    # long it waits: a phone that stops answering is taken out of routing at once.
    qualify_seconds: int = Field(15, ge=1, le=300)
    qualify_timeout: float = Field(3.0, gt=0, le=30)
    # Agents' phones may also register over TLS on tls_port; the certificate is the
    # site's (PEM files) or, when none is named, one generated in the state directory.
    tls: bool = False
    tls_port: int = Field(5061, ge=1, le=65535)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Every agent's calls with SRTP (SDES keys: use it with TLS); per agent in [sip.agents].
    srtp: bool = False
    # Agents' phones may register and call only from these networks (CIDR); empty: any.
    agent_networks: list[str] = []
    # Agents whose phone is the desktop's browser panel (WebRTC: SIP over a secure
    # WebSocket on Asterisk's own HTTPS server at webrtc_port, DTLS-SRTP media);
    # every agent, or per agent in [sip.agents]. The certificate is the console's.
    webrtc: bool = False
    webrtc_port: int = Field(8089, ge=1, le=65535)
    # Always-connected agents: the phone is called once when the agent is ready and
    # stays connected; callers are bridged to it without ringing (every agent, or per
    # agent in [sip.agents]).
    nailed: bool = False
    agents: dict[str, AgentSipSettings] = {}

    @field_validator("bind")
    @classmethod
    def _ip(cls, value: str) -> str:
        ipaddress.ip_address(value)
        return value

    @field_validator("agent_networks")
    @classmethod
    def _check_networks(cls, values: list[str]) -> list[str]:
        return _networks(values)

    @field_validator("agents")
    @classmethod
    def _agent_names(cls, values: dict[str, AgentSipSettings]) -> dict[str, AgentSipSettings]:
        for name in values:
            if not re.fullmatch(NAME_PATTERN, name):
                raise ValueError(f"agent {name!r} must match {NAME_PATTERN}")
        return values

    @model_validator(mode="after")
    def _tls_pair(self) -> SipSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together (or neither: one is generated)")
        if self.tls and self.tls_port == self.port:
            raise ValueError("tls_port must differ from port")
        if self.webrtc_used and self.webrtc_port in (self.port, self.tls_port):
            raise ValueError("webrtc_port must differ from port and tls_port")
        return self

    def srtp_for(self, agent: str) -> bool:
        own = self.agents.get(agent)
        return self.srtp if own is None or own.srtp is None else own.srtp

    def networks_for(self, agent: str) -> list[str]:
        own = self.agents.get(agent)
        return self.agent_networks if own is None or own.networks is None else own.networks

    def webrtc_for(self, agent: str) -> bool:
        own = self.agents.get(agent)
        return self.webrtc if own is None or own.webrtc is None else own.webrtc

    def nailed_for(self, agent: str) -> bool:
        own = self.agents.get(agent)
        return self.nailed if own is None or own.nailed is None else own.nailed

    @property
    def webrtc_used(self) -> bool:
        """Some agent may use the browser phone: Asterisk serves the WebSocket."""
        return self.webrtc or any(own.webrtc for own in self.agents.values())


def _private(value: str) -> str:
    address = ipaddress.ip_address(value)
    if not (address.is_private or address.is_loopback) or address.is_unspecified:
        raise ValueError(f"{value} is not a private address; nodes talk over a private network")
    return value


class PbxNode(_Section):
    """One Asterisk node the controller drives ([[pbx.nodes]], docs/SCALING.md).

    Its SIP (and RTP) address, its AMI (address, port, user, a secret file of its
    own), the address its FastAGI connections come from, and its state directory as
    the controller sees it (a shared mount: the controller publishes the agents'
    endpoints there and the console reads the node's recordings from it)."""

    name: str = Field(pattern=NAME_PATTERN)
    address: str
    sip_port: int = Field(5060, ge=1, le=65535)
    ami_host: str = ""  # empty: address
    ami_port: int = Field(5038, ge=1, le=65535)
    ami_username: str = Field("callcenter", pattern=NAME_PATTERN)
    ami_secret_file: Path
    agi_from: str = ""  # empty: address
    state_dir: Path

    _check_address = field_validator("address")(_private)

    @field_validator("ami_host", "agi_from")
    @classmethod
    def _optional_private(cls, value: str) -> str:
        return _private(value) if value else value

    @property
    def ami_address(self) -> str:
        return self.ami_host or self.address

    @property
    def agi_address(self) -> str:
        return self.agi_from or self.address

    @property
    def trunk(self) -> str:
        """The inter-node trunk's endpoint name on the other nodes."""
        return f"node-{self.name}"

    def ami_secret(self) -> str:
        try:
            secret = self.ami_secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"node {self.name}: AMI secret file unreadable: {exc}") from None
        if not secret:
            raise ConfigError(f"node {self.name}: AMI secret file {self.ami_secret_file} is empty")
        return secret


class PbxSettings(_Section):
    # auto: the system Asterisk if one is installed, else the Debian unstable root.
    provider: Literal["auto", "system", "chroot"] = "auto"
    root: Path = Path("/var/cache/callcenter/asterisk-root")
    start_timeout: float = Field(30.0, gt=0)
    # Several Asterisk nodes, one controller (docs/SCALING.md); none: one local Asterisk.
    nodes: list[PbxNode] = []
    # Which node this machine runs (`callcenter pbx up` on a node); empty: the single box.
    node: str = ""
    # Where the controllers connect to the nodes' AMI from (CIDR), with [[pbx.nodes]].
    controller_networks: list[str] = []

    @field_validator("controller_networks")
    @classmethod
    def _check_networks(cls, values: list[str]) -> list[str]:
        return _networks(values)

    @model_validator(mode="after")
    def _nodes(self) -> PbxSettings:
        names = [node.name for node in self.nodes]
        if len(set(names)) != len(names):
            raise ValueError(f"node names must differ: {names}")
        sip = [(node.address, node.sip_port) for node in self.nodes]
        if len(set(sip)) != len(sip):
            raise ValueError("two nodes share one SIP address and port")
        agi = [node.agi_address for node in self.nodes]
        if len(set(agi)) != len(agi):
            raise ValueError("two nodes share one FastAGI source address (agi_from)")
        if self.node and self.node not in names:
            raise ValueError(f"node {self.node!r} is not one of [[pbx.nodes]] ({names})")
        if self.nodes and not self.controller_networks:
            raise ValueError("[[pbx.nodes]] need controller_networks (where AMI is reached from)")
        return self

    def node_named(self, name: str) -> PbxNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise ConfigError(f"no node {name!r} in [[pbx.nodes]]")


class KamailioNode(_Section):
    """One Asterisk node behind Kamailio: where its SIP listens."""

    address: str
    port: int = Field(5060, ge=1, le=65535)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        ipaddress.ip_address(value)
        return value


class KamailioSettings(_Section):
    """Kamailio in front of the Asterisk nodes (`callcenter kamailio up`): one SIP
    address for the carriers; calls from [[trunks]] are shared across the nodes
    that answer its OPTIONS probes (docs/SCALING.md)."""

    bind: str = "0.0.0.0"
    port: int = Field(5060, ge=1, le=65535)
    nodes: list[KamailioNode] = []
    # Probing: an OPTIONS to every node each probe_interval seconds; a node that
    # misses probe_threshold in a row is out until it answers again.
    probe_interval: int = Field(1, ge=1, le=60)
    probe_threshold: int = Field(2, ge=1, le=10)
    # An INVITE a node does not answer at all within this many ms goes to the next node.
    failover_ms: int = Field(1500, ge=200, le=30_000)
    children: int = Field(4, ge=1, le=64)
    shared_memory_mb: int = Field(64, ge=16, le=4096)
    start_timeout: float = Field(10.0, gt=0)
    # Agents' phones register with Kamailio (bind:port: one SIP address for carriers
    # and phones); it copies each registration to every node, so any node rings the
    # phone through Kamailio, and relays the phones' own calls to a node. Off: phones
    # register with an Asterisk node, as on one box.
    phones: bool = False

    @field_validator("bind")
    @classmethod
    def _bind(cls, value: str) -> str:
        ipaddress.ip_address(value)
        return value

    @model_validator(mode="after")
    def _phones_address(self) -> KamailioSettings:
        # The nodes recognise Kamailio by its address and send to it: a real one.
        if self.phones and ipaddress.ip_address(self.bind).is_unspecified:
            raise ValueError("[kamailio] phones needs bind to be Kamailio's own address")
        return self

    @property
    def phones_via(self) -> str:
        """The address the nodes reach the agents' phones through ('' when phones
        register with the nodes themselves)."""
        return self.bind if self.phones else ""


class DatabaseSettings(_Section):
    # Empty: SQLite file in the state directory.
    url: str = ""
    # Call records the database cannot take yet (stopped, unreachable, disk full) wait
    # in memory up to this many events, then in <state_dir>/records-journal.jsonl, and
    # are written in order once it works again (an event holds about 250 bytes).
    records_memory: int = Field(200_000, ge=100)
    # With no journal to spill to (it is on the full disk too), memory keeps up to this
    # many; newer events are then dropped, logged and counted on /api/health.
    records_cap: int = Field(500_000, ge=100)


class TrunkSettings(_Section):
    """An inbound SIP trunk: calls from `match` (IP or CIDR) enter the call center."""

    name: str = Field(pattern=NAME_PATTERN)
    match: list[str] = Field(min_length=1)
    # Where to send outbound calls (host[:port]); empty for inbound-only trunks.
    contact: str = ""
    username: str = ""
    password: str = ""

    @field_validator("match")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            ipaddress.ip_network(value, strict=False)
        return values


class WebSettings(_Section):
    """The console. It is behind a login; bind it to loopback if only this machine needs it.

    HTTPS by default: the site's own certificate (``cert_file``/``key_file``) or one
    generated into the state folder on first start. ``http_port`` only redirects to
    HTTPS (``0`` turns it off). ``tls = false`` serves plain HTTP (behind a proxy that
    terminates TLS on the same machine); cookies then lose their Secure flag.
    """

    enabled: bool = True
    host: str = "0.0.0.0"
    port: int = Field(8443, ge=0, le=65535)
    http_port: int = Field(8080, ge=0, le=65535)  # redirects to HTTPS; 0: off
    tls: bool = True
    cert_file: Path | None = None  # PEM; with key_file: the site's own certificate
    key_file: Path | None = None
    # Requests served at once; each open page with live updates (wallboard, desktop) holds one.
    threads: int = Field(256, ge=16, le=2000)
    connection_limit: int = Field(200, ge=1, le=100_000)  # waiting past the threads, then refused
    session_idle_minutes: float = Field(30, gt=0, le=7 * 24 * 60)
    session_hours: float = Field(12, gt=0, le=31 * 24)  # absolute, from the login
    login_per_address: str = "20 per minute"  # Flask-Limiter's notation
    login_per_user: str = "5 per minute"
    # Checked by the front process before a request reaches the controller. Page loads
    # come in bursts (a page's assets and API calls), and several desks may share an
    # address behind NAT: the window is wide, a sustained flood is still cut.
    requests_per_address: str = "600 per 10 seconds"
    # The login page and attempts from all addresses together: a spread-out flood is
    # refused (429) in the front; people who log in then wait a moment, calls do not.
    login_total: str = "5 per second"
    # Requests the controller's console works on at once (live streams aside); more wait
    # in the front, so console load stays a small share of the controller's time.
    upstream_concurrency: int = Field(2, ge=1, le=64)

    @field_validator("login_per_address", "login_per_user", "requests_per_address", "login_total")
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse

        parse(value)  # e.g. "5 per minute", "30/second"
        return value

    @field_validator("host")
    @classmethod
    def _ip(cls, value: str) -> str:
        ipaddress.ip_address(value)
        return value

    @model_validator(mode="after")
    def _pair(self) -> WebSettings:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (the site's own certificate)")
        return self


class MetricsSettings(_Section):
    """Prometheus metrics (GET /metrics), off by default: enabling it opens a port."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(9464, ge=0, le=65535)

    _check_host = field_validator("host")(_loopback)


class HaSettings(_Section):
    """Two controllers on one PostgreSQL, one active (docs/ARCHITECTURE.md, "Standby")."""

    enabled: bool = False
    node: str = Field("", pattern=r"^([a-z0-9][a-z0-9_.-]{0,31})?$")  # empty: the host name
    lock_key: int = Field(0x43434331, gt=0, lt=2**31)  # the advisory lock both controllers share
    check_interval: float = Field(0.5, gt=0, le=5)
    fence_after: float = Field(1.5, gt=0, le=10)

    @model_validator(mode="after")
    def _timing(self) -> HaSettings:
        if self.check_interval >= self.fence_after:
            raise ValueError("check_interval must be below fence_after")
        return self


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class TransferSettings(_Section):
    # A caller an agent transfers to a queue keeps their first arrival time for their
    # place in its line (fairness: a transfer is no reason to wait again from scratch).
    keep_arrival: bool = True
    # A transferred caller is not offered back to the agent who transferred them for
    # this many seconds (then they may be, if nobody else took the caller); 0: no
    # such wait. A call that must never come back: a long time, e.g. 86400.
    avoid_sender: float = Field(60.0, ge=0)
    # Parties in a conference at most, the caller counted (services/inbound/conference.py).
    conference_max: int = Field(5, ge=3, le=10)
    # Call control by feature codes pressed on the agent's phone during a call
    # (core/phone_codes.py): off removes them from Asterisk (no DYNAMIC_FEATURES).
    phone_codes: bool = True
    # Action -> code (* or # and 1-3 keys); actions: hold (hold/resume), transfer,
    # consult, complete, cancel, conference. Given ones replace the defaults.
    codes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_CODES))

    @field_validator("codes")
    @classmethod
    def _codes(cls, value: dict[str, str]) -> dict[str, str]:
        merged = {**DEFAULT_CODES, **value}
        check_codes(merged)
        return merged


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CALLCENTER_", env_nested_delimiter="__", extra="forbid"
    )

    state_dir: Path = Path("/var/lib/callcenter")
    # IANA zone for "today", reports and business-hours display; empty: the machine's.
    timezone: str = ""
    site_dir: Path = Path("/etc/callcenter")
    ami: AmiSettings = AmiSettings()
    agi: AgiSettings = AgiSettings()
    sip: SipSettings = SipSettings()
    pbx: PbxSettings = PbxSettings()
    kamailio: KamailioSettings = KamailioSettings()
    database: DatabaseSettings = DatabaseSettings()
    trunks: list[TrunkSettings] = []
    web: WebSettings = WebSettings()
    metrics: MetricsSettings = MetricsSettings()
    log: LogSettings = LogSettings()
    transfers: TransferSettings = TransferSettings()
    ha: HaSettings = HaSettings()
    # Which numbers may ever be dialled (callbacks, leads): core/dial_policy.py.
    dial_policy: DialPolicy = DialPolicy()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value:
            zoneinfo.ZoneInfo(value)
        return value

    @model_validator(mode="after")
    def _agi_address(self) -> Settings:
        # One box: FastAGI stays on loopback. With nodes: a private address they reach.
        try:
            _private(self.agi.host) if self.pbx.nodes else _loopback(self.agi.host)
        except ValueError as exc:
            raise ValueError(f"agi.host: {exc}") from None
        controllers = self.agi.controllers
        if not controllers:
            return self
        if not self.pbx.nodes or not self.ha.enabled:
            raise ValueError(
                "agi.controllers: two controllers on two hosts need [[pbx.nodes]] (the "
                "Asterisk servers they share) and [ha] enabled"
            )
        for address in controllers:
            try:
                _private(address)
            except ValueError as exc:
                raise ValueError(f"agi.controllers: {exc}") from None
        if self.agi.host not in controllers and not self.pbx.node:
            raise ValueError(
                f"agi.host {self.agi.host} is not one of agi.controllers "
                f"({', '.join(controllers)}): set each controller's own host "
                "(CALLCENTER_AGI__HOST on its machine)"
            )
        return self

    @model_validator(mode="after")
    def _kamailio_nodes(self) -> Settings:
        # [kamailio] nodes overrides [[pbx.nodes]] (a subset, another order), but each
        # must be a PBX node's SIP address and port: with [[pbx.nodes]] every Asterisk
        # listens there, and only those are driven by this controller.
        kam = self.kamailio
        own = (ipaddress.ip_address(kam.bind), kam.port)
        for node in self.dispatcher_nodes():
            if (ipaddress.ip_address(node.address), node.port) == own:
                raise ValueError(
                    f"[kamailio] bind and port {kam.bind}:{kam.port} are an Asterisk node's SIP "
                    "address: Kamailio would send calls to itself"
                )
        pbx = {(ipaddress.ip_address(n.address), n.sip_port): n.name for n in self.pbx.nodes}
        if not pbx:
            return self
        for node in kam.nodes:
            if (ipaddress.ip_address(node.address), node.port) not in pbx:
                known = ", ".join(f"{name} {a}:{p}" for (a, p), name in pbx.items())
                raise ValueError(
                    f"[kamailio] nodes: {node.address}:{node.port} is not one of [[pbx.nodes]] "
                    f"({known}); list only those, or leave [kamailio] nodes empty to "
                    "dispatch to every [[pbx.nodes]] node"
                )
        return self

    def dispatcher_nodes(self) -> list[KamailioNode]:
        """The Asterisk nodes Kamailio dispatches to: [kamailio] nodes if listed,
        else every [[pbx.nodes]] node's SIP address and port (the nodes written once)."""
        if self.kamailio.nodes:
            return list(self.kamailio.nodes)
        return [KamailioNode(address=n.address, port=n.sip_port) for n in self.pbx.nodes]

    @model_validator(mode="after")
    def _ha_needs_postgresql(self) -> Settings:
        if self.ha.enabled and not self.database_url.startswith("postgresql"):
            raise ValueError("[ha] enabled needs a PostgreSQL [database] url (SQLite: one box)")
        return self

    def node_settings(self, name: str) -> Settings:
        """This configuration as node ``name`` sees it (`callcenter pbx up` on that node,
        and the controller's view of that node): its state directory, its AMI (address,
        port, user, secret), its SIP address; everything else shared."""
        node = self.pbx.node_named(name)
        ami = self.ami.model_copy(
            update={
                "host": node.ami_address,
                "port": node.ami_port,
                "username": node.ami_username,
                "secret": node.ami_secret(),
            }
        )
        sip = self.sip.model_copy(update={"bind": node.address, "port": node.sip_port})
        return self.model_copy(
            update={
                "state_dir": node.state_dir,
                "ami": ami,
                "sip": sip,
                "pbx": self.pbx.model_copy(update={"node": name}),
            }
        )

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.state_dir / 'callcenter.db'}"

    @property
    def records_journal(self) -> Path:
        """Where call records wait past [database] records_memory (the database away)."""
        return self.state_dir / "records-journal.jsonl"

    @property
    def pbx_dir(self) -> Path:
        """The running Asterisk's own tree: rendered configs, spool, logs, astdb."""
        return self.state_dir / "pbx"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file (passed as init values).
        return (env_settings, init_settings)


def _format_errors(error: ValidationError, origin: str) -> str:
    lines = [f"configuration error ({origin}):"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {key}: {item['msg']}")
    return "\n".join(lines)


def config_file_path(explicit: str | Path | None = None) -> Path | None:
    if explicit:
        return Path(explicit)
    from_env = os.environ.get("CALLCENTER_CONFIG")
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None


def load_settings(path: str | Path | None = None) -> Settings:
    """Read, merge and validate the configuration, or raise ConfigError."""
    file = config_file_path(path)
    data: dict[str, Any] = {}
    if file is not None:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file {file} does not exist") from None
        except UnicodeDecodeError:
            raise ConfigError(f"configuration file {file} is not UTF-8 text") from None
        except OSError as exc:
            raise ConfigError(f"configuration file {file} cannot be read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {file} is not valid TOML: {exc}") from None
    origin = f"file {file} and CALLCENTER_* environment" if file else "CALLCENTER_* environment"
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, origin)) from None
    except SettingsError as exc:
        # A CALLCENTER_* variable holding a value that is not valid JSON.
        raise ConfigError(f"configuration error (CALLCENTER_* environment): {exc}") from None
