"""The laboratory of bench/inbound_paths.py: a private Asterisk, the controller
in-process, SIPp agents, and the two entry doors callers can take.

Everything lives in a temporary directory on ports of its own (AMI 17038,
FastAGI 17573, SIP 17060, RTP 24000-25999, peers on 127.0.0.71-73), so it
neither collides with the test suite nor touches an installed call center.
``Lab`` is a context manager: whatever happens, every process it started is
stopped by PID (Asterisk through AsteriskProcess.down()) and the directory is
removed.

The two doors:

* ``ours``: callers from 127.0.0.71 are the trunk ``bench`` (Settings.trunks),
  context cc-inbound: FastAGI IVR, the controller's ACD, Redirect/Dial.
* ``plain``: callers from 127.0.0.72 are the endpoint ``bench-plain`` of the
  site's own pjsip_local.conf, whose context (extensions_bench.conf) does what
  a plain Asterisk installation would: Answer, Read one digit after the same
  'beep', Queue(bench-plain). Trunks rendered from Settings.trunks all get the
  cc-inbound context, hence the site-file endpoint.

queues.conf has no include for site files, so the plain queue is appended to
the *rendered* copy in this lab's own state directory after start-up and
app_queue is reloaded (a product change to include site/queues_*.conf would
remove that step).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.site_config import apply_site
from callcenter.adapters.pbx.asterisk import AsteriskProcess
from callcenter.adapters.pbx.provider import choose_provider
from callcenter.config import Settings
from callcenter.core.events import Event
from callcenter.runtime import Controller
from callcenter.services.agents import AgentError
from callcenter.services.site import parse_site
from callcenter.simulate import procs
from callcenter.simulate.agent_uas import SippAgents, agent_scenario
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.procs import wait_for
from callcenter.simulate.sipp import SippCaller

# CALLCENTER_BENCH_SLOT=N (default 0) moves every port and peer address, so two
# labs can run side by side on one machine: ports +2000 N, RTP 10000 + 2000 N
# (below the tests' ranges), peers 127.0.0.71 + 20 N.
SLOT = int(os.environ.get("CALLCENTER_BENCH_SLOT", "0"))
PORT_SHIFT = 2000 * SLOT
AMI_PORT = 17038 + PORT_SHIFT
AGI_PORT = 17573 + PORT_SHIFT
SIP_PORT = 17060 + PORT_SHIFT
RTP_RANGE = (24000, 25999) if SLOT == 0 else (10000 + 2000 * SLOT, 11999 + 2000 * SLOT)
ASTERISK = "127.0.0.1"
OURS_CALLER = (f"127.0.0.{71 + 20 * SLOT}", 17071 + PORT_SHIFT)
PLAIN_CALLER = (f"127.0.0.{72 + 20 * SLOT}", 17072 + PORT_SHIFT)
AGENT_HOST = f"127.0.0.{73 + 20 * SLOT}"
PLAIN_QUEUE = "bench-plain"
QUEUE = "support"
RING_TIMEOUT = 15

PJSIP_LOCAL = f"""; bench/inbound_lab.py: the plain path's door (its own context)
[bench-plain](trunk-endpoint)
context = bench-plain
aors = bench-plain

[bench-plain](trunk-aor)

[bench-plain](trunk-identify)
endpoint = bench-plain
match = {PLAIN_CALLER[0]}
"""

EXTENSIONS_BENCH = f"""; bench/inbound_lab.py: a plain Asterisk IVR and queue, the baseline
[bench-plain]
exten => _X.,1,Answer()
 same => n,Read(CHOICE,beep,1,,1,4)
 same => n,GotoIf($["${{CHOICE}}" = "1"]?queue)
 same => n,Hangup()
 same => n(queue),Queue({PLAIN_QUEUE},,,,600)
 same => n,Hangup()
"""

# Tuned fairly: autofill, 1 s retry, no wrap-up, no ring-in-use, our ring timeout.
PLAIN_QUEUE_CONF = f"""
; appended by bench/inbound_lab.py (queues.conf includes no site file)
[{PLAIN_QUEUE}]
strategy = leastrecent
timeout = {RING_TIMEOUT}
retry = 1
wrapuptime = 0
ringinuse = no
autofill = yes
musicclass = default
joinempty = yes
leavewhenempty = no
announce-frequency = 0
periodic-announce-frequency = 0
announce-position = no
"""


def bench_settings(root: Path, database_url: str = "", first_menu: bool = False) -> Settings:
    """``database_url``: the records' database (empty: SQLite in the lab's directory);
    ``first_menu``: [agi] first_menu_in_dialplan (the flow's first menu in cc-first)."""
    return Settings(
        state_dir=root / "state",
        site_dir=root / "site",
        ami={"port": AMI_PORT},
        agi={"port": AGI_PORT, "first_menu_in_dialplan": first_menu},
        sip={
            "bind": ASTERISK,
            "port": SIP_PORT,
            "rtp_start": RTP_RANGE[0],
            "rtp_end": RTP_RANGE[1],
        },
        database={"url": database_url or f"sqlite:///{root / 'callcenter.db'}"},
        trunks=[{"name": "bench", "match": [OURS_CALLER[0]]}],
        web={"enabled": False},
        log={"level": "WARNING"},
    )


def site(agents: dict[str, str], menu_timeout: float = 4.0) -> dict[str, Any]:
    """Agents (name -> static contact) with skill support 3; one queue; press 1 for it."""
    return {
        "agents": [
            {
                "username": name,
                "name": name.title(),
                "extension": str(2001 + index),
                "skills": {"support": 3},
                "static_contact": contact,
            }
            for index, (name, contact) in enumerate(sorted(agents.items()))
        ],
        "queues": [
            {
                "name": QUEUE,
                "requirements": {"support": 1},
                "wrapup": 0,
                "ring_timeout": RING_TIMEOUT,
                "announce": {"on_entry": False, "interval": 0},
            }
        ],
        "flows": {
            "main": {
                "document": {
                    "name": "main",
                    "start": "welcome",
                    "provided_keys": ["dnis"],
                    "nodes": {
                        "welcome": {
                            "type": "menu",
                            "prompts": ["beep"],
                            "timeout": menu_timeout,
                            "retries": 0,
                            "invalid_prompt": "beep",
                            "noinput_prompt": "beep",
                            "choices": {"1": "support"},
                            "on_fail": "bye",
                        },
                        "bye": {"type": "hangup", "reason": "no-choice"},
                        "support": {"type": "queue", "queue": QUEUE, "priority": 0, "skills": {}},
                    },
                }
            }
        },
    }


class Lab(procs.Lab):
    """Asterisk + controller + SIPp agents, torn down whatever happens."""

    def __init__(
        self,
        agent_pools: dict[str, tuple[int, int, int, int]],
        keep: bool = False,
        database_url: str = "",
        first_menu: bool = False,
    ):
        """``agent_pools``: prefix -> (count, port, ring_ms, talk_ms), one SIPp UAS each;
        ``database_url``: the records' database (empty: SQLite in the lab's directory)."""
        self.pools = agent_pools
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix="cc-bench-"))
        self.settings = bench_settings(self.root, database_url, first_menu)
        self.asterisk = AsteriskProcess(self.settings, choose_provider(self.settings.pbx))
        self.events: Counter[str] = Counter()  # controller events by type, counted on its loop
        self.controller_loop = ControllerThread(self.settings, self._count_events)
        self.uas: dict[str, SippAgents] = {}
        self.agents: dict[str, list[str]] = {}
        self.asterisk_pid: int | None = None

    # -- set-up ---------------------------------------------------------------------------
    def start(self) -> None:
        logging.basicConfig(
            filename=self.root / "controller.log",
            level=logging.WARNING,
            format="%(asctime)s %(name)s %(levelname)s %(message)s",
        )
        site_asterisk = self.settings.site_dir / "asterisk"
        site_asterisk.mkdir(parents=True)
        (site_asterisk / "pjsip_local.conf").write_text(PJSIP_LOCAL)
        (site_asterisk / "extensions_bench.conf").write_text(EXTENSIONS_BENCH)
        upgrade(self.settings.database_url)
        self.asterisk.up([])
        self.asterisk_pid = self.asterisk.running_pid()
        rendered = self.settings.pbx_dir / "etc" / "queues.conf"
        with rendered.open("a") as handle:
            handle.write(PLAIN_QUEUE_CONF)
        self.cli("module reload app_queue.so")
        if PLAIN_QUEUE not in self.cli(f"queue show {PLAIN_QUEUE}"):
            raise RuntimeError("the plain queue did not load")
        # Agents' phones first: Asterisk qualifies static contacts as soon as it loads them.
        contacts: dict[str, str] = {}
        for prefix, (count, port, ring_ms, talk_ms) in self.pools.items():
            uas = SippAgents(
                self.root / f"uas-{prefix}", AGENT_HOST, port, port + 100, name=f"uas-{prefix}"
            )
            uas.start(agent_scenario(ring_ms, talk_ms))
            self.uas[prefix] = uas
            names = [f"{prefix}{n:02d}" for n in range(1, count + 1)]
            self.agents[prefix] = names
            contacts.update({name: uas.contact(name) for name in names})
        time.sleep(0.3)
        for prefix, uas in self.uas.items():
            if not uas.running():
                raise RuntimeError(f"SIPp agents {prefix} exited: {uas.stop().log}")
        self.controller_loop.start(connect=20)
        apply_site(
            parse_site(site(contacts), Path("."), "bench site"), self.controller.storage.sessions
        )
        self.controller_loop.run(self.controller.reload())
        wait_for(lambda: self._qualified(set(contacts)), 30, "agents' contacts qualified", step=0.5)

    def _qualified(self, names: set[str]) -> bool:
        """Every agent's static contact answered Asterisk's OPTIONS (status Avail)."""
        avail = set()
        for line in self.cli("pjsip show contacts").splitlines():
            fields = line.split()
            if len(fields) >= 4 and fields[0] == "Contact:" and "Avail" in fields:
                avail.add(fields[1].split("/", 1)[0])
        return names <= avail

    def _count_events(self, controller: Controller) -> None:
        """Counts the controller's events by type from before it starts (on its loop)."""
        controller.notifier.subscribe_all(self._count)

    def _count(self, event: Event) -> None:
        self.events[type(event).__name__] += 1

    @property
    def controller(self) -> Controller:
        assert self.controller_loop.controller is not None
        return self.controller_loop.controller

    def cli(self, command: str) -> str:
        return self.asterisk.cli(command)

    # -- agents ---------------------------------------------------------------------------
    def staff(self, prefix: str) -> None:
        """Only this pool's agents take calls: ready in the controller and members of the
        plain queue; every other pool logged out of both."""
        clock = time.time
        for other, names in self.agents.items():
            for name in names:
                status = self.controller_loop.call(lambda n=name: self.controller.agents.status(n))
                if other == prefix:
                    self.controller_loop.run(self.controller.agents.ready(name, clock()))
                    self.cli(
                        f"queue add member PJSIP/{name} to {PLAIN_QUEUE} penalty 0 "
                        f"as {name} state_interface PJSIP/{name}"
                    )
                else:
                    if status.state.value != "logged_out":
                        self._logout(name, status.state.value)
                    self.cli(f"queue remove member PJSIP/{name} from {PLAIN_QUEUE}")
        names = self.agents[prefix]
        wait_for(
            lambda: self.controller_loop.call(
                lambda: all(self.controller.agents.available(n) for n in names)
            ),
            10,
            f"agents {prefix}* available",
        )

    def _logout(self, name: str, state: str) -> None:
        try:
            self.controller_loop.run(self.controller.agents.logout(name, time.time()))
        except AgentError as exc:
            # Seen after an overloaded run where callers fell back: the controller still
            # had the agent on a call Asterisk no longer had. Said, not hidden.
            print(f"warning: {name} not logged out ({state}): {exc}", flush=True)

    # -- callers --------------------------------------------------------------------------
    def caller(self, path: str, run: str) -> SippCaller:
        address, port = OURS_CALLER if path == "ours" else PLAIN_CALLER
        return SippCaller(
            self.root / "callers" / run,
            f"{ASTERISK}:{SIP_PORT}",
            address=address,
            port=port,
            media_port=port + 100,
            service="5000",
        )

    def channel_count(self) -> int:
        text = self.cli("core show channels count")
        for line in text.splitlines():
            if "active channel" in line:
                return int(line.split()[0])
        return -1

    def wait_idle(self, timeout: float = 60) -> None:
        """No channel left in Asterisk, no call left in the controller."""
        wait_for(
            lambda: (
                self.channel_count() == 0
                and self.controller_loop.call(lambda: len(self.controller.calls)) == 0
            ),
            timeout,
            "Asterisk and the controller idle",
            step=0.25,
        )

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by Asterisk and by this process (the controller runs here)."""
        return {"asterisk": _cpu(self.asterisk_pid), "bench_process": _cpu(None)}

    # -- tear-down ------------------------------------------------------------------------
    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.controller_loop.stop()
        for uas in self.uas.values():
            with contextlib.suppress(Exception):
                uas.stop()
        with contextlib.suppress(Exception):
            self.asterisk.down()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def _cpu(pid: int | None) -> float:
    path = Path(f"/proc/{pid}/stat") if pid else Path("/proc/self/stat")
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, IndexError):
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
