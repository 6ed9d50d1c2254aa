"""fail2ban bans a source after repeated bad registrations, from a real Asterisk's
security log, with the filter and jail the product ships (deploy/fail2ban).

A SIPp client on its own loopback address registers as an agent with a wrong
password (and as an account that does not exist) again and again; Asterisk writes
each failure to security.log; a fail2ban server of the test's own (its own
configuration folder, socket and database, the ``dummy`` action writing bans to a
file rather than the firewall) reads it through the shipped jail and bans the
address. A phone with the right password, from another address, is not banned.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from callcenter.adapters.ops.units import (
    FAIL2BAN_JAIL,
    FAIL2BAN_MAXRETRY,
    InstallPaths,
    render_fail2ban,
)
from callcenter.simulate.procs import wait_for
from callcenter.simulate.sipp import launch_sipp, sipp_result
from tests.e2e.conftest import SIP_PORT, CallCenter
from tests.e2e.sites import one_queue_site

ATTACKER = "127.0.0.77"  # wrong passwords for an agent's account
SCANNER = "127.0.0.78"  # accounts that do not exist
ATTACKER_PORT = SIP_PORT + 700

pytestmark = pytest.mark.skipif(
    shutil.which("fail2ban-client") is None, reason="fail2ban is not installed"
)


def register_scenario(user: str, password: str) -> str:
    """REGISTER, take the 401 challenge, answer it with ``password``: refused again."""
    head = f"""REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{user}@[remote_ip]>;tag=[pid]SIPpTag[call_number]
      To: <sip:{user}@[remote_ip]>
      Call-ID: [call_id]
      Contact: <sip:{user}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Expires: 60"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="wrong password">
  <send retrans="500"><![CDATA[
      {head}
      CSeq: 1 REGISTER
      Content-Length: 0
  ]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
      {head}
      CSeq: 2 REGISTER
      [authentication username={user} password={password}]
      Content-Length: 0
  ]]></send>
  <recv response="401" optional="true" next="refused"/>
  <recv response="403"/>
  <label id="refused"/>
</scenario>
"""


def bad_registrations(workdir: Path, user: str, count: int, address: str) -> None:
    options = ["-i", address, "-p", str(ATTACKER_PORT), "-m", str(count), "-r", "5"]
    options += ["-timeout", "30", "-timeout_error"]
    name = f"register-{user}-{address}"
    scenario = register_scenario(user, "not-the-password")
    process = launch_sipp(workdir, name, scenario, options, f"127.0.0.1:{SIP_PORT}")
    process.wait(60)
    result = sipp_result(workdir, name, process.returncode)
    assert result.successful == count, result.log


class Fail2ban:
    """A fail2ban server of the test's own: the shipped filter and jail, bans to a file."""

    def __init__(self, workdir: Path, state_dir: Path) -> None:
        self.conf = workdir / "fail2ban"
        self.bans = workdir / "banned"
        self.socket = workdir / "f2b.sock"
        self.filter = self.conf / "filter.d" / f"{FAIL2BAN_JAIL}.conf"
        # Debian's fail2ban folder (actions, common definitions), without its jails.
        shutil.copytree("/etc/fail2ban", self.conf)
        shutil.rmtree(self.conf / "jail.d")
        (self.conf / "jail.d").mkdir()
        root = Path("/var/cache/callcenter/asterisk-root")
        paths = InstallPaths(("/usr/bin/callcenter",), None, state_dir, "chroot", root, 8080, 5060)
        for relative, text in render_fail2ban(paths).items():
            (self.conf / relative).write_text(text)
        (self.conf / "fail2ban.conf").write_text(
            "[Definition]\nloglevel = INFO\n"
            f"logtarget = {workdir / 'fail2ban.log'}\nsocket = {self.socket}\n"
            f"pidfile = {workdir / 'f2b.pid'}\ndbfile = :memory:\n"
        )
        # The test's own: no firewall (bans go to a file), loopback not exempt.
        (self.conf / "jail.d" / "test.local").write_text(
            "[DEFAULT]\nignoreip =\nignoreself = false\n\n"
            f"[{FAIL2BAN_JAIL}]\nbackend = polling\naction = dummy[target={self.bans}]\n"
            # Only what Asterisk logs from now on: the session's Asterisk also logged
            # other tests' phones (an ACL test's refusals among them).
            f"logpath = {state_dir / 'pbx' / 'log' / 'security.log'} tail\n"
        )

    def client(self, *args: str) -> str:
        argv = ["fail2ban-client", "-c", str(self.conf), "-s", str(self.socket), *args]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def banned(self) -> str:
        return self.client("status", FAIL2BAN_JAIL)


def test_repeated_wrong_passwords_get_the_address_banned(
    callcenter: CallCenter, tmp_path: Path
) -> None:
    callcenter.load_site(one_queue_site("ann", "bob"))
    settings = callcenter.pbx.settings
    security_log = settings.pbx_dir / "log" / "security.log"
    logged_before = security_log.stat().st_size  # the session's other tests logged too
    bob = callcenter.softphone(callcenter.account("bob"))  # the right password
    fail2ban = Fail2ban(tmp_path, settings.state_dir)
    fail2ban.client("start")
    try:
        wait_for(lambda: FAIL2BAN_JAIL in fail2ban.client("status"), 15, "the jail")
        # One failure short of the jail's limit: not banned.
        bad_registrations(tmp_path, "ann", FAIL2BAN_MAXRETRY - 1, ATTACKER)
        time.sleep(3)  # fail2ban polls the log each second
        assert ATTACKER not in fail2ban.banned()
        started = time.monotonic()
        bad_registrations(tmp_path, "ann", 1, ATTACKER)
        wait_for(lambda: ATTACKER in fail2ban.banned(), 30, f"{ATTACKER} banned")
        print(f"banned {time.monotonic() - started:.1f} s after the failure that tipped it")
        # An account that does not exist counts too (each attempt logs three failures).
        bad_registrations(tmp_path, "nobody", 2, SCANNER)
        wait_for(lambda: SCANNER in fail2ban.banned(), 30, f"{SCANNER} banned")

        status = fail2ban.banned().split("Banned IP list:")[1]
        assert bob.address not in status and "127.0.0.1 " not in status + " "
        assert {f"+{ATTACKER}", f"+{SCANNER}"} <= set(fail2ban.bans.read_text().split())
        # The shipped filter counts exactly the failures: 5 wrong passwords, 2 x 3 for
        # the unknown account; never the good phone's challenge and success. (Only what
        # this test's peers made Asterisk log.)
        ours = [
            line
            for line in security_log.read_bytes()[logged_before:].decode().splitlines()
            if any(f"/{address}/" in line for address in (ATTACKER, SCANNER, bob.address))
        ]
        assert any(f"/{bob.address}/" in line for line in ours)
        excerpt = tmp_path / "security-excerpt.log"
        excerpt.write_text("\n".join(ours) + "\n")
        regex = subprocess.run(
            ["fail2ban-regex", str(excerpt), str(fail2ban.filter)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert f"{FAIL2BAN_MAXRETRY + 6} matched" in regex.stdout, regex.stdout
    finally:
        fail2ban.client("stop")
