"""Two of the product's Asterisk nodes and one controller on one machine, each node in
a network namespace of its own (tests/e2e/test_pbx_nodes.py).

Topology: private addresses that exist only inside the lab's namespaces, joined by
veth pairs (no traffic leaves the machine; the host's own namespace never sees them).
Not loopback-range addresses as in kamailio_lab.py: the kernel does not carry TCP
(FastAGI, AMI) to a 127.x address on another namespace's ``lo`` nor forward 127.x
between two veths, and the nodes need both::

    namespace <tag>k (the hub): the controller (a loop thread that entered it; FastAGI
        on 10.213.0.1), SIPp callers 10.213.0.2 (and the customers campaigns dial, the
        trunk's contact), agents' phones 10.213.0.3; it forwards
        between the nodes (the inter-node trunk)
        veth 10.213.1.1 <-> namespace <tag>n1: node "alpha", 10.213.1.2 (SIP, AMI)
        veth 10.213.2.1 <-> namespace <tag>n2: node "beta",  10.213.2.2
        (two controllers:) veth 10.213.9.1 <-> namespace <tag>c: the second
        controller's host, 10.213.9.2 (FastAGI), reaching the nodes through the hub

Each node is the product's Asterisk, started by ``callcenter pbx up`` under
``ip netns exec`` with the lab's configuration file and ``CALLCENTER_PBX__NODE``
naming the node; the controller drives both over their AMI. With ``kamailio``, the
product's Kamailio runs in the hub on 10.213.0.4 with ``[kamailio] phones``: callers
and agents' phones send everything there (tests/e2e/test_kamailio_phones.py). ``NodesLab`` is a
context manager: every process it started is stopped by PID, the namespaces deleted.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from callcenter.adapters.kamailio.process import KamailioProcess, node_flags, sip_ping
from callcenter.adapters.pbx.asterisk import AsteriskProcess
from callcenter.adapters.pbx.provider import choose_provider
from callcenter.config import Settings, load_settings
from callcenter.core.model import SipAccount
from callcenter.simulate.kamailio_lab import Namespaces
from callcenter.simulate.procs import Lab, stop_process

NET = "10.213"
HUB = f"{NET}.0.1"  # the controller's FastAGI
SECOND = f"{NET}.9.2"  # the second controller's (two controllers, [agi] controllers)
CALLERS = f"{NET}.0.2"
PHONES = f"{NET}.0.3"
KAMAILIO = f"{NET}.0.4"  # with kamailio=True: one SIP address for callers and phones
NODE_NAMES = ("alpha", "beta")
SIP_PORT = 5060
PROJECT = Path(__file__).resolve().parents[2]


def node_address(index: int) -> str:
    return f"{NET}.{index}.2"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    text = str(value)
    if not re.fullmatch(r"[A-Za-z0-9_./:+ ?&=@-]*", text):
        raise ValueError(f"the lab writes plain values only: {text!r}")
    return f'"{text}"'


class NodesLab(Lab):
    """Namespaces, two product Asterisk nodes, and the configuration of the controller
    that drives both (``settings``; run it with ControllerThread(..., netns=lab.hub))."""

    def __init__(
        self,
        tag: str,
        port_base: int,
        database_url: str = "",
        controllers: int = 1,
        *,
        kamailio: bool = False,
        extra: tuple[str, ...] = (),
    ) -> None:
        """``controllers=2``: two controllers on two "hosts" ([ha], [agi] controllers;
        ``database_url`` then a PostgreSQL both reach: a Unix socket, which no network
        namespace hides), the second in a namespace of its own (``second``).
        ``kamailio``: Kamailio before the nodes, the phones registering with it
        (start it with ``start_kamailio`` once the agents are in the database).
        ``extra``: lines at the end of the configuration (e.g. an agent's own section)."""
        self.with_kamailio = kamailio
        self.extra = extra
        self.namespaces = Namespaces(tag, len(NODE_NAMES))
        self.hub = self.namespaces.proxy
        self.second = f"{tag}c" if controllers == 2 else ""
        self.database_url = database_url
        self.root = Path(tempfile.mkdtemp(prefix=f"cc-nodes-{tag}-"))
        os.chmod(self.root, 0o755)  # the nodes' Asterisk user reaches its folder
        self.peers: list[subprocess.Popen[bytes]] = []
        self.port_base = port_base
        self.customer_port = port_base - 9901  # simulate/customers.py, in the hub
        self.config = self.root / "callcenter.toml"
        self._write_config()
        self.settings = load_settings(self.config)
        self.provider = choose_provider(self.settings.pbx)
        self.started: list[str] = []
        self.kamailio: KamailioProcess | None = None

    def _write_config(self) -> None:
        """One file for the controller and both nodes: the nodes and their roles."""
        secrets = self.root / "secrets"
        secrets.mkdir(mode=0o700)
        base = self.port_base
        lines = [
            f"state_dir = {_toml(str(self.root / 'controller'))}",
            "[ami]",
            f"port = {base + 38}",
            "[agi]",
            f"host = {_toml(HUB)}",
            f"port = {base + 573}",
            *([f"controllers = {_toml([HUB, SECOND])}"] if self.second else []),
            "[sip]",
            f"port = {SIP_PORT}",
            f"rtp_start = {base + 6000}",
            f"rtp_end = {base + 6999}",
            "[database]",
            f"url = {_toml(self.database_url or f'sqlite:///{self.root}/controller/callcenter.db')}",
            *(["[ha]", "enabled = true"] if self.second else []),
            "[web]",
            "enabled = false",
            "[log]",
            'level = "DEBUG"',
            "[pbx]",
            f"controller_networks = {_toml([NET + '.0.0/16'])}",
        ]
        for index, name in enumerate(NODE_NAMES, start=1):
            secret = secrets / f"{name}.secret"
            secret.write_text(f"lab-{name}-{os.urandom(8).hex()}\n")
            lines += [
                "[[pbx.nodes]]",
                f"name = {_toml(name)}",
                f"address = {_toml(node_address(index))}",
                f"ami_port = {base + 38}",
                f"ami_secret_file = {_toml(str(secret))}",
                f"state_dir = {_toml(str(self.root / name))}",
            ]
        lines += ["[[trunks]]", 'name = "sipp"', f"match = {_toml([CALLERS])}"]
        lines += [f"contact = {_toml(f'{CALLERS}:{self.customer_port}')}"]
        if self.with_kamailio:
            lines += ["[kamailio]", f"bind = {_toml(KAMAILIO)}", f"port = {SIP_PORT}"]
            lines += ["phones = true", "failover_ms = 1000"]
        lines += self.extra
        self.config.write_text("\n".join(lines) + "\n")

    # -- life ------------------------------------------------------------------------
    def start(self) -> None:
        self.provider.prepare()
        self._create_namespaces()
        (self.root / "controller").mkdir(exist_ok=True)
        for name, namespace in zip(NODE_NAMES, self.namespaces.nodes, strict=True):
            self.started.append(name)
            self.pbx_command(name, namespace, "up", timeout=120)

    def _create_namespaces(self) -> None:
        """The hub and one namespace per node, a veth pair to each; the hub forwards."""
        names = self.namespaces
        names.delete()  # a previous run killed before its clean-up
        self._delete_second()
        for name in names.all:
            _ip("netns", "add", name)
            _ip("-n", name, "link", "set", "lo", "up")
        for address in (HUB, CALLERS, PHONES, KAMAILIO):
            _ip("-n", self.hub, "addr", "add", f"{address}/32", "dev", "lo")
        subprocess.run(
            [*Namespaces.prefix(self.hub), "sysctl", "-qw", "net.ipv4.ip_forward=1"],
            check=True,
            capture_output=True,
            timeout=10,
        )
        for index, node in enumerate(names.nodes, start=1):
            near, far = f"{names.tag}k{index}", f"{names.tag}n{index}"
            _ip("link", "add", near, "netns", self.hub, "type", "veth", "peer", far, "netns", node)
            _ip("-n", self.hub, "addr", "add", f"{NET}.{index}.1/24", "dev", near)
            _ip("-n", node, "addr", "add", f"{node_address(index)}/24", "dev", far)
            _ip("-n", self.hub, "link", "set", near, "up")
            _ip("-n", node, "link", "set", far, "up")
            _ip("-n", node, "route", "add", "default", "via", f"{NET}.{index}.1")
        if self.second:
            self._second_controller()

    def _second_controller(self) -> None:
        """The second controller's namespace, joined to the hub like a node."""
        near, far = f"{self.namespaces.tag}kc", f"{self.namespaces.tag}c0"
        _ip("netns", "add", self.second)
        _ip("-n", self.second, "link", "set", "lo", "up")
        _ip(
            "link",
            "add",
            near,
            "netns",
            self.hub,
            "type",
            "veth",
            "peer",
            far,
            "netns",
            self.second,
        )
        _ip("-n", self.hub, "addr", "add", f"{NET}.9.1/24", "dev", near)
        _ip("-n", self.second, "addr", "add", f"{SECOND}/24", "dev", far)
        _ip("-n", self.hub, "link", "set", near, "up")
        _ip("-n", self.second, "link", "set", far, "up")
        _ip("-n", self.second, "route", "add", "default", "via", f"{NET}.9.1")

    def _delete_second(self) -> None:
        listed = subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
        if self.second and self.second in {line.split()[0] for line in listed.splitlines() if line}:
            subprocess.run(["ip", "netns", "del", self.second], capture_output=True, timeout=10)

    def pbx_command(self, name: str, namespace: str, *args: str, timeout: float = 60) -> str:
        """``callcenter pbx ARGS`` as node ``name`` does it, inside its namespace."""
        env = {
            **os.environ,
            "CALLCENTER_CONFIG": str(self.config),
            "CALLCENTER_PBX__NODE": name,
            "PYTHONPATH": str(PROJECT),
        }
        argv = [sys.executable, "-c", "from callcenter.cli import main; main()", "pbx", *args]
        result = subprocess.run(
            [*Namespaces.prefix(namespace), *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pbx {' '.join(args)} on {name}: {result.stdout}{result.stderr}")
        return result.stdout

    def start_kamailio(self, accounts: list[SipAccount]) -> str:
        """The product's Kamailio in the hub, with these agents' digests."""
        hub = self.hub
        self.kamailio = KamailioProcess(
            self.settings,
            prefix=Namespaces.prefix(hub),
            pinger=lambda host, port, timeout: sip_ping(
                host, port, timeout, sock=Namespaces.udp_socket(hub)
            ),
        )
        return self.kamailio.up(accounts)

    def up_nodes(self) -> list[str]:
        """The node addresses Kamailio's dispatcher has up."""
        assert self.kamailio is not None
        flags = node_flags(self.kamailio.nodes())
        return [
            uri.removeprefix("sip:").rsplit(":", 1)[0]
            for uri, flag in flags.items()
            if flag.startswith("A")
        ]

    def kamailio_log(self) -> str:
        assert self.kamailio is not None
        path = self.kamailio.layout.output_file
        return path.read_text(errors="replace") if path.exists() else ""

    def node(self, name: str) -> AsteriskProcess:
        """Node ``name``'s Asterisk, as its own `callcenter pbx` sees it (cli, down)."""
        return AsteriskProcess(self.settings.node_settings(name), self.provider)

    def node_settings(self, name: str) -> Settings:
        return self.settings.node_settings(name)

    def close(self) -> None:
        for peer in self.peers:
            with contextlib.suppress(Exception):
                stop_process(peer)
        if self.kamailio is not None:
            with contextlib.suppress(Exception):
                self.kamailio.down()
        for name in self.started:
            with contextlib.suppress(Exception):
                self.node(name).down()
        self.namespaces.delete()
        self._delete_second()
        if os.environ.get("CALLCENTER_KEEP_LAB"):  # to read the nodes' logs after a run
            print(f"nodes lab kept in {self.root}", file=sys.stderr)
            return
        shutil.rmtree(self.root, ignore_errors=True)
