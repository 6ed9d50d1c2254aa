"""Several Asterisk nodes behind Kamailio on one machine, each in a network
namespace of its own (tests/e2e/test_kamailio_nodes.py, bench/kamailio_nodes.py).

Topology, all on loopback addresses (127.1.0.0/16, routed between namespaces over
veth pairs with ``route_localnet``; no traffic leaves the machine)::

    namespace <tag>k: Kamailio 127.1.0.1:5060, SIPp callers 127.1.0.2
        veth <tag>k1 127.1.1.1/24  <->  namespace <tag>n1: Asterisk 127.1.1.2:5060
        veth <tag>k2 127.1.2.1/24  <->  namespace <tag>n2: Asterisk 127.1.2.2:5060

Each node is a minimal Asterisk of the lab's own (PJSIP, Answer then Echo until
the caller hangs up), run from the project's Asterisk provider (the Debian
unstable root in a private mount namespace, or the system's) under
``ip netns exec``. Kamailio is the product's: its configuration rendered by
adapters/kamailio. ``KamailioLab`` is a context manager: every process it
started is stopped by PID and the namespaces are deleted, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from callcenter.adapters.kamailio.process import KamailioProcess, node_flags, sip_ping
from callcenter.adapters.pbx.provider import AsteriskProvider, choose_provider
from callcenter.adapters.pbx.render import PbxLayout
from callcenter.config import PbxSettings, Settings
from callcenter.core.model import SipAccount
from callcenter.simulate.netns import socket_in
from callcenter.simulate.procs import Lab, stop_process
from callcenter.simulate.sipp import SippResult, launch_sipp, sipp_result

PROXY = "127.1.0.1"
CALLERS = "127.1.0.2"
SIP_PORT = 5060
CALLER_PORT = 5070
CALLER_MEDIA_PORT = 6000
SERVICE = "100"
AGENT_SERVICE = "200"
# Refused with 503 by the first node, answered by the others (failover on a 5xx).
REFUSED_ON_FIRST = "300"
PHONES = "127.1.0.3"  # agents' phones (SIPp), in Kamailio's namespace
PHONE_PORT = 5090


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def node_address(index: int) -> str:
    return f"127.1.{index}.2"


class Namespaces:
    """The lab's network namespaces: made on enter, deleted on exit."""

    def __init__(self, tag: str, nodes: int) -> None:
        if not re.fullmatch(r"[a-z0-9]{1,8}", tag):
            raise ValueError("a namespace tag is 1-8 lowercase letters or digits")
        self.tag = tag
        self.proxy = f"{tag}k"
        self.nodes = [f"{tag}n{i}" for i in range(1, nodes + 1)]

    @property
    def all(self) -> list[str]:
        return [self.proxy, *self.nodes]

    def create(self) -> None:
        self.delete()  # a previous run killed before its clean-up
        for name in self.all:
            _ip("netns", "add", name)
            _ip("-n", name, "link", "set", "lo", "up")
            # 127.0.0.0/8 as a whole would be local: keep only 127.0.0.1 itself, so
            # that 127.1.x.y can live on other interfaces (with route_localnet).
            _ip("-n", name, "addr", "del", "127.0.0.1/8", "dev", "lo")
            _ip("-n", name, "addr", "add", "127.0.0.1/32", "dev", "lo")
            self.sysctl(name, "all")
        _ip("-n", self.proxy, "addr", "add", f"{PROXY}/32", "dev", "lo")
        _ip("-n", self.proxy, "addr", "add", f"{CALLERS}/32", "dev", "lo")
        _ip("-n", self.proxy, "addr", "add", f"{PHONES}/32", "dev", "lo")
        for index, node in enumerate(self.nodes, start=1):
            near, far = f"{self.tag}k{index}", f"{self.tag}n{index}"
            _ip(
                "link", "add", near, "netns", self.proxy, "type", "veth", "peer", far, "netns", node
            )
            _ip("-n", self.proxy, "addr", "add", f"127.1.{index}.1/24", "dev", near)
            _ip("-n", node, "addr", "add", f"{node_address(index)}/24", "dev", far)
            self.sysctl(self.proxy, near)
            self.sysctl(node, far)
            _ip("-n", self.proxy, "link", "set", near, "up")
            _ip("-n", node, "link", "set", far, "up")
            _ip("-n", node, "route", "add", "127.1.0.0/24", "via", f"127.1.{index}.1")

    @staticmethod
    def sysctl(name: str, device: str) -> None:
        settings = [f"net.ipv4.conf.{device}.{key}" for key in ("route_localnet=1", "rp_filter=0")]
        subprocess.run(
            [*Namespaces.prefix(name), "sysctl", "-qw", *settings],
            check=True,
            capture_output=True,
            timeout=10,
        )

    def delete(self) -> None:
        existing = subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
        present = {line.split()[0] for line in existing.splitlines() if line.strip()}
        for name in self.all:
            if name in present:
                subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)

    @staticmethod
    def prefix(name: str) -> tuple[str, ...]:
        return ("ip", "netns", "exec", name)

    @staticmethod
    def udp_socket(name: str) -> socket.socket:
        """A UDP socket that lives in namespace ``name``."""
        return socket_in(name, socket.SOCK_DGRAM)


_ASTERISK_CONF = """[directories]
astetcdir => {dir}/etc
astmoddir => {mod_dir}
astvarlibdir => {dir}/lib
astdbdir => {dir}/lib
astkeydir => {dir}/lib
astdatadir => {data_dir}
astspooldir => {dir}/spool
astrundir => {dir}/run
astlogdir => {dir}/log
astcachedir => {dir}/cache
astsbindir => /usr/sbin
[options]
runuser = {user}
rungroup = {user}
systemname = {name}
maxload = 0
"""

_MODULES = [
    "res_timing_timerfd.so",
    "pbx_config.so",
    "res_sorcery_config.so",
    "res_sorcery_memory.so",
    "res_sorcery_astdb.so",
    "res_pjproject.so",
    "res_pjsip.so",
    "res_pjsip_session.so",
    "res_pjsip_pubsub.so",
    "chan_pjsip.so",
    "res_pjsip_endpoint_identifier_ip.so",
    "res_pjsip_sdp_rtp.so",
    "res_rtp_asterisk.so",
    "codec_ulaw.so",
    "app_echo.so",
    "app_dial.so",
    "bridge_simple.so",
]

_PJSIP = """[global]
type = global
user_agent = {name}
[udp]
type = transport
protocol = udp
bind = {address}:{port}
[kamailio]
type = endpoint
transport = udp
context = in
disallow = all
allow = ulaw
direct_media = no
rtp_timeout = 0
[kamailio]
type = identify
endpoint = kamailio
match = {proxy}
"""

_EXTENSIONS = f"""[in]
exten => {SERVICE},1,Answer()
 same => n,Echo()
 same => n,Hangup()
; A call for the agent: back through Kamailio, to wherever the phone registered.
exten => {AGENT_SERVICE},1,Dial(PJSIP/kamailio/sip:{{agent}}@{PROXY}:{SIP_PORT},10)
 same => n,Hangup()
"""


@dataclass
class Node:
    """One minimal Asterisk in its own network namespace."""

    name: str
    namespace: str
    address: str
    directory: Path
    provider: AsteriskProvider
    agent: str = "agent"  # the agent whose phone extension 200 calls
    process: subprocess.Popen[bytes] | None = None
    layout: PbxLayout | None = field(default=None, repr=False)

    def write(self) -> PbxLayout:
        layout = self.provider.layout(self.directory)
        etc = self.directory / "etc"
        for sub in ("etc", "lib", "spool", "run", "log", "cache", "sounds"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        files = {
            "asterisk.conf": _ASTERISK_CONF.format(
                dir=layout.inner_dir,
                mod_dir=layout.mod_dir,
                data_dir=layout.data_dir,
                user=layout.run_user,
                name=self.name,
            ),
            "modules.conf": "[modules]\nautoload = no\n"
            + "".join(f"load = {m}\n" for m in _MODULES),
            "pjsip.conf": _PJSIP.format(
                name=self.name, address=self.address, port=SIP_PORT, proxy=PROXY
            ),
            "extensions.conf": _EXTENSIONS.format(agent=self.agent)
            + (
                f"exten => {REFUSED_ON_FIRST},1,Hangup(34)\n"  # circuit congestion: 503
                if self.name == "node1"
                else f"exten => {REFUSED_ON_FIRST},1,Goto({SERVICE},1)\n"
            ),
            "rtp.conf": "[general]\nrtpstart = 10000\nrtpend = 19999\n",
            "logger.conf": "[logfiles]\nmessages.log => notice,warning,error\n",
        }
        for file, text in files.items():
            (etc / file).write_text(text)
        for path in [self.directory, *self.directory.rglob("*")]:
            os.chown(path, layout.uid, layout.gid)
        self.layout = layout
        return layout

    def start(self) -> None:
        layout = self.write()
        with open(self.directory / "asterisk.out", "ab") as output:
            self.process = subprocess.Popen(
                [*Namespaces.prefix(self.namespace), *self.provider.command(layout)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def cli(self, command: str) -> str:
        assert self.layout is not None
        result = subprocess.run(
            self.provider.cli_argv(self.layout, self.pid, command),
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        return result.stdout

    def channels(self) -> int:
        found = re.search(r"^(\d+) active channel", self.cli("core show channels count"), re.M)
        return int(found.group(1)) if found else 0

    def calls_processed(self) -> int:
        found = re.search(r"^(\d+) calls? processed", self.cli("core show channels count"), re.M)
        return int(found.group(1)) if found else 0

    def answers(self, timeout: float = 0.5) -> bool:
        return _ping_in(self.namespace, self.address, SIP_PORT, timeout) is not None

    def kill(self) -> float:
        """SIGKILL (a crash, no goodbye): the monotonic time it was sent."""
        assert self.process is not None
        killed = time.monotonic()
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(10)
        return killed

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(10)


def _ping_in(namespace: str, host: str, port: int, timeout: float) -> float | None:
    return sip_ping(host, port, timeout, sock=Namespaces.udp_socket(namespace))


class KamailioLab(Lab):
    """Namespaces, ``nodes`` Asterisk nodes, and the product's Kamailio before them."""

    def __init__(
        self,
        tag: str,
        nodes: int = 2,
        *,
        probe_interval: int = 1,
        probe_threshold: int = 2,
        failover_ms: int = 1000,
        children: int = 4,
        provider: AsteriskProvider | None = None,
        accounts: Sequence[SipAccount] = (),
    ) -> None:
        """``accounts``: agents whose phones may register with Kamailio; the first is
        the one the nodes' extension 200 calls."""
        self.namespaces = Namespaces(tag, nodes)
        self.accounts = list(accounts)
        self.peers: list[subprocess.Popen[bytes]] = []  # SIPp processes, stopped on close
        self.root = Path(tempfile.mkdtemp(prefix=f"cc-kamlab-{tag}-"))
        os.chmod(self.root, 0o755)  # the nodes' Asterisk user reaches its folder
        self.provider = provider or choose_provider(PbxSettings())
        self.nodes = [
            Node(
                name=f"node{i}",
                namespace=ns,
                address=node_address(i),
                directory=self.root / f"node{i}",
                provider=self.provider,
                agent=self.accounts[0].username if self.accounts else "agent",
            )
            for i, ns in enumerate(self.namespaces.nodes, start=1)
        ]
        self.settings = Settings(
            state_dir=self.root / "state",
            kamailio={
                "bind": PROXY,
                "port": SIP_PORT,
                "nodes": [{"address": node.address, "port": SIP_PORT} for node in self.nodes],
                "probe_interval": probe_interval,
                "probe_threshold": probe_threshold,
                "failover_ms": failover_ms,
                "children": children,
            },
            trunks=[{"name": "callers", "match": [CALLERS]}],
        )
        self.kamailio = KamailioProcess(
            self.settings,
            prefix=Namespaces.prefix(self.namespaces.proxy),
            pinger=lambda host, port, timeout: _ping_in(self.namespaces.proxy, host, port, timeout),
        )

    # -- life ------------------------------------------------------------------
    def start(self, timeout: float = 60) -> None:
        self.provider.prepare()
        self.namespaces.create()
        for node in self.nodes:
            node.start()
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            while not node.answers():
                if not node.alive:
                    raise RuntimeError(f"{node.name} exited:\n{self.output(node)}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{node.name} does not answer SIP:\n{self.output(node)}")
                time.sleep(0.2)
        self.kamailio.up(self.accounts)
        self.wait_nodes_up(len(self.nodes), timeout=10)

    def close(self) -> None:
        for peer in self.peers:
            with contextlib.suppress(Exception):
                stop_process(peer)
        with contextlib.suppress(Exception):
            self.kamailio.down()
        for node in self.nodes:
            with contextlib.suppress(Exception):
                node.stop()
        self.namespaces.delete()
        shutil.rmtree(self.root, ignore_errors=True)

    @staticmethod
    def output(node: Node) -> str:
        path = node.directory / "asterisk.out"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    # -- what Kamailio sees ------------------------------------------------------
    def node_flags(self) -> dict[str, str]:
        """Node address -> the dispatcher's flags (A: active, I: inactive, P/X: probing)."""
        return {
            uri.removeprefix("sip:").rsplit(":", 1)[0]: flags
            for uri, flags in node_flags(self.kamailio.nodes()).items()
        }

    def up_nodes(self) -> list[str]:
        return [uri for uri, flag in self.node_flags().items() if flag.startswith("A")]

    def wait_nodes_up(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.up_nodes()) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kamailio sees {self.node_flags()}, not {count} nodes up")
            time.sleep(0.1)

    def kamailio_log(self) -> str:
        path = self.kamailio.layout.output_file
        return path.read_text(errors="replace") if path.exists() else ""

    # -- callers -----------------------------------------------------------------
    def start_callers(
        self,
        workdir: Path,
        name: str,
        *,
        calls: int,
        rate: float,
        hold_ms: int,
        port: int = CALLER_PORT,
        media_port: int = CALLER_MEDIA_PORT,
        timeout: float = 120,
        service: str = SERVICE,
    ) -> subprocess.Popen[bytes]:
        """SIPp callers (from 127.1.0.2, in Kamailio's namespace) placing ``calls`` calls
        at ``rate`` per second to Kamailio, each held ``hold_ms``; every call's
        INVITE->200 time goes to <name>_*_rtt.csv (read_setup_times)."""
        workdir.mkdir(parents=True, exist_ok=True)
        inf = workdir / f"{name}.csv"
        inf.write_text("SEQUENTIAL\n" + "".join(f"{n};{c}\n" for n, c in callers(calls)))
        options = ["-inf", str(inf), "-i", CALLERS, "-p", str(port), "-mp", str(media_port)]
        options += ["-s", service, "-m", str(calls), "-r", str(rate), "-rp", "1000"]
        options += ["-timeout", str(int(timeout)), "-timeout_error"]
        options += ["-trace_rtt", "-rtt_freq", "1", "-max_socket", "2000"]
        return self._peer(
            launch_sipp(
                workdir,
                name,
                proxy_caller_scenario(hold_ms),
                options,
                target=f"{PROXY}:{SIP_PORT}",
                prefix=Namespaces.prefix(self.namespaces.proxy),
            )
        )

    def _peer(self, process: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        self.peers.append(process)
        return process

    def register(self, workdir: Path, name: str, username: str, password: str) -> SippResult:
        """One REGISTER of ``username``'s phone (contact PHONES:PHONE_PORT) to Kamailio,
        answering its digest challenge with ``password``; the SIPp counts."""
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", username + password):
            raise ValueError("the lab's phone credentials are letters, digits, '_.-' only")
        scenario = _REGISTER.format(
            user=username, password=password, contact=f"{PHONES}:{PHONE_PORT}"
        )
        options = ["-i", PHONES, "-p", str(PHONE_PORT + 1), "-m", "1"]
        options += ["-timeout", "15", "-timeout_error"]
        process = self._peer(
            launch_sipp(
                workdir,
                name,
                scenario,
                options,
                target=f"{PROXY}:{SIP_PORT}",
                prefix=Namespaces.prefix(self.namespaces.proxy),
            )
        )
        return self.finish_callers(workdir, name, process, timeout=20)

    def start_phone(self, workdir: Path, ring_ms: int = 100) -> subprocess.Popen[bytes]:
        """The agent's phone: a SIPp UAS on PHONES:PHONE_PORT answering every call
        after ``ring_ms`` and waiting for the other side's BYE (sipp_result "phone")."""
        options = ["-i", PHONES, "-p", str(PHONE_PORT), "-mp", "7000"]
        return self._peer(
            launch_sipp(
                workdir,
                "phone",
                _PHONE.format(ring_ms=int(ring_ms)),
                options,
                prefix=Namespaces.prefix(self.namespaces.proxy),
            )
        )

    @staticmethod
    def finish_callers(
        workdir: Path, name: str, process: subprocess.Popen[bytes], timeout: float
    ) -> SippResult:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        finally:
            stop_process(process)
        return sipp_result(workdir, name, process.returncode)


def read_setup_times(workdir: Path, name: str) -> list[float]:
    """Every answered call's INVITE->200 time in ms (SIPp's -trace_rtt file)."""
    times = []
    for path in workdir.glob(f"{name}_*_rtt.csv"):
        for line in path.read_text().splitlines()[1:]:
            fields = line.split(";")
            if len(fields) >= 2 and fields[1].strip():
                times.append(float(fields[1]))
    return times


_REGISTER_REQUEST = """  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{user}@[remote_ip]>;tag=[pid]R[call_number]
      To: <sip:{user}@[remote_ip]>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:{user}@{contact}>
      Expires: 300
      Max-Forwards: 70
{auth}      Content-Length: 0
    ]]>
  </send>
"""
_REGISTER = (
    '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="phone registers">\n'
    + _REGISTER_REQUEST.replace("{cseq}", "1").replace("{auth}", "")
    + '  <recv response="401" auth="true"/>\n'
    + _REGISTER_REQUEST.replace("{cseq}", "2").replace(
        "{auth}", "      [authentication username={user} password={password}]\n"
    )
    + '  <recv response="200"/>\n</scenario>\n'
)

_PHONE_REPLY = """  <send>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_Record-Route:]
      [last_From:]
      [last_To:];tag=[pid]P[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port]>
{body}    ]]>
  </send>
"""
_PHONE = (
    '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="agent phone">\n'
    '  <recv request="INVITE" crlf="true"/>\n'
    + _PHONE_REPLY.format(status="180 Ringing", body="      Content-Length: 0\n")
    + '  <pause milliseconds="{ring_ms}"/>\n'
    + _PHONE_REPLY.format(
        status="200 OK",
        body="""      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
""",
    ).replace("<send>", '<send retrans="500">', 1)
    + '  <recv request="ACK" crlf="true"/>\n'
    + '  <recv request="BYE" timeout="60000"/>\n'
    + _PHONE_REPLY.format(status="200 OK", body="      Content-Length: 0\n").replace(
        "[last_Record-Route:]\n", ""
    )
    + "</scenario>\n"
)

_IN_DIALOG = """      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "[field0]" <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      [routes]
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Contact: sip:[field1]@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0"""


def proxy_caller_scenario(hold_ms: int) -> str:
    """A caller through a proxy: INVITE, answer, ``hold_ms`` of talk, BYE. Unlike
    simulate/sipp.py's callers (which talk to Asterisk directly), the ACK and BYE
    follow the Record-Route to the answering node's Contact (RFC 3261 12.2)."""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller through a proxy">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "[field0]" <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:[field1]@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
{_IN_DIALOG.format(cseq=1, method="ACK")}
    ]]>
  </send>
  <pause milliseconds="{int(hold_ms)}"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
{_IN_DIALOG.format(cseq=2, method="BYE")}
    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
"""


def callers(count: int) -> list[tuple[str, str]]:
    return [(f"+1555{n:07d}", "Caller") for n in range(count)]
