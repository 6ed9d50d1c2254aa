"""SIPp callers for end-to-end tests: scenarios built per test, run to completion.

A caller scenario is a list of steps after the call is answered: press keypad
digits (RFC 2833 pcaps shipped with sip-tester), pause, then hang up (or wait
for the far end's BYE). SIPp's file-based pcap paths cannot take per-call
fields, so the steps are rendered into the XML here.
"""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from callcenter.simulate.dtmf import key_pcap
from callcenter.simulate.procs import stop_process

_TAG = "tag=[pid]SIPpTag00[call_number]"
_HEADERS = """      From: "[field0]" <sip:[field1]@[local_ip]:[local_port]>;{tag}
      To: <sip:[service]@[remote_ip]:[remote_port]>{peer}
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Contact: sip:[field1]@[local_ip]:[local_port]
      Max-Forwards: 70"""

# The audio offer (or answer) of every simulated party: PCMU and RFC 4733 keys.
SDP = """      v=0
      o={origin} 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=sendrecv"""

INVITE = """  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
{headers}
      Content-Type: application/sdp
      Content-Length: [len]

{sdp}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="{final}" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
{ack_headers}
      Content-Length: 0
    ]]>
  </send>
"""

BYE = """  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
{headers}
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
"""

# Wait for the far end to hang up, answering its BYE (``then``: e.g. ' next="done"').
AWAIT_BYE = """  <recv request="BYE" timeout="{timeout}"/>
  <send{then}>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
"""


def digit_step(digit: str, press: int = 0) -> str:
    """One key press, the ``press``-th of the call (its RTP numbering follows the last)."""
    pcap = key_pcap(digit, press)
    play = f'<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>'
    return f'  {play}\n  <pause milliseconds="250"/>\n'


def caller_scenario(
    steps: Sequence[str | int | Path], end: str = "bye", final: int = 200, await_ms: int = 600_000
) -> str:
    """Steps: a str of keypad digits to press, an int of milliseconds to wait, or
    the Path of an RTP pcap to start playing (e.g. speech from voices.py).

    ``end``: "bye" hangs up after the steps; "await" waits for the far end's BYE
    (at most ``await_ms``; a call still up then counts as failed).
    ``final``: the final response expected to the INVITE (200, or e.g. 486).
    """
    headers = _HEADERS.format(tag=_TAG, peer="", cseq=1, method="INVITE")
    ack = _HEADERS.format(tag=_TAG, peer="[peer_tag_param]", cseq=1, method="ACK")
    body = [
        INVITE.format(headers=headers, ack_headers=ack, final=final, sdp=SDP.format(origin="user1"))
    ]
    if final == 200:
        presses = 0
        for step in steps:
            if isinstance(step, int):
                body.append(f'  <pause milliseconds="{step}"/>\n')
                continue
            if isinstance(step, Path):  # audio: plays on while the steps after it run
                body.append(f'  <nop><action><exec play_pcap_audio="{step}"/></action></nop>\n')
                continue
            for digit in step:
                body.append(digit_step(digit, presses))
                presses += 1
        if end == "bye":
            body.append(
                BYE.format(
                    headers=_HEADERS.format(tag=_TAG, peer="[peer_tag_param]", cseq=2, method="BYE")
                )
            )
        else:
            body.append(AWAIT_BYE.format(timeout=await_ms, then=""))
    return (
        '<?xml version="1.0" encoding="ISO-8859-1" ?>\n'
        '<scenario name="callcenter caller">\n' + "".join(body) + "</scenario>\n"
    )


def through_proxy(scenario: str) -> str:
    """``scenario`` (caller_scenario, hanging up by waiting for the far end's BYE) for a
    caller that reaches Asterisk through a proxy: the ACK follows the Record-Route to
    the answering node's Contact (RFC 3261 12.2), as kamailio_lab's callers do."""
    ack = "      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
    via = "      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
    final = '<recv response="200" rtd="true"/>'
    if ack + via not in scenario or final not in scenario or "BYE sip:" in scenario:
        raise ValueError("through_proxy takes a caller_scenario that awaits the far end's BYE")
    scenario = scenario.replace(final, '<recv response="200" rtd="true" rrs="true"/>')
    return scenario.replace(ack + via, "      ACK [next_url] SIP/2.0\n" + via + "      [routes]\n")


@dataclass
class SippResult:
    returncode: int
    successful: int
    failed: int
    log: str


@dataclass
class SippCaller:
    """One SIPp process placing ``calls`` calls at ``rate`` per second."""

    workdir: Path
    target: str  # host:port of Asterisk
    address: str = "127.0.0.2"
    port: int = 5070
    media_port: int = 6000
    service: str = "5000"
    # Run SIPp through this command (e.g. `ip netns exec NAME`: simulate/kamailio_lab.py).
    prefix: tuple[str, ...] = ()
    # Calls open at once at most (SIPp's -l; None: SIPp's default, 3 x rate, e.g. 30 at
    # 10 calls/s, which caps long calls).
    limit: int | None = None

    def start(
        self,
        scenario: str,
        callers: list[tuple[str, str]],
        calls: int | None = None,
        rate: float = 1.0,
        timeout: float = 120,
        name: str = "caller",
    ) -> subprocess.Popen[bytes]:
        """Start in the background; the scenario itself must end every call."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        inf = self.workdir / f"{name}.csv"
        with inf.open("w", newline="") as handle:
            handle.write("SEQUENTIAL\n")
            writer = csv.writer(handle, delimiter=";", lineterminator="\n")
            for caller in callers:
                writer.writerow(caller)
        count = calls if calls is not None else len(callers)
        options = [
            "-inf",
            str(inf),
            "-i",
            self.address,
            "-p",
            str(self.port),
            "-mp",
            str(self.media_port),
            "-s",
            self.service,
            "-m",
            str(count),
            "-r",
            str(rate),
            "-rp",
            "1000",
            "-timeout",
            str(int(timeout)),
            "-timeout_error",
        ]
        if self.limit is not None:
            options += ["-l", str(self.limit)]
        return launch_sipp(
            self.workdir, name, scenario, options, target=self.target, prefix=self.prefix
        )

    def finish(
        self, process: subprocess.Popen[bytes], timeout: float = 120, name: str = "caller"
    ) -> SippResult:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        finally:
            stop_process(process)
        return sipp_result(self.workdir, name, process.returncode)

    def run(
        self,
        scenario: str,
        callers: list[tuple[str, str]],
        calls: int | None = None,
        rate: float = 1.0,
        timeout: float = 120,
        name: str = "caller",
    ) -> SippResult:
        """Place the calls and wait until every one has ended."""
        process = self.start(scenario, callers, calls, rate, timeout, name)
        return self.finish(process, timeout + 30, name)


def launch_sipp(
    workdir: Path,
    name: str,
    scenario: str,
    options: list[str],
    target: str = "",
    prefix: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """Start SIPp on ``scenario`` in the background, with ``options`` (and ``target``,
    for a UAC). Its files in ``workdir`` are named after ``name``: the scenario (.xml),
    its output (.out), errors (_errors.log) and statistics (_stat.csv)."""
    workdir.mkdir(parents=True, exist_ok=True)
    xml = workdir / f"{name}.xml"
    xml.write_text(scenario)
    argv = [*prefix, "sipp", *([target] if target else []), "-sf", str(xml), *options]
    argv += ["-nostdin", "-trace_err", "-error_file", str(workdir / f"{name}_errors.log")]
    argv += ["-trace_stat", "-stf", str(workdir / f"{name}_stat.csv"), "-fd", "1"]
    with (workdir / f"{name}.out").open("wb") as log:
        return subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir
        )


def sipp_result(workdir: Path, name: str, returncode: int | None) -> SippResult:
    """A SIPp run's counts (as of its last statistics dump) and its output and errors."""
    successful, failed = read_counts(workdir / f"{name}_stat.csv")
    files = [workdir / f"{name}{suffix}" for suffix in (".out", "_errors.log")]
    text = "\n".join(path.read_text(errors="replace") for path in files if path.exists())
    return SippResult(returncode if returncode is not None else -1, successful, failed, text)


def read_counts(stat: Path) -> tuple[int, int]:
    """(successful, failed) calls from the last line of a SIPp -trace_stat file."""
    if not stat.exists():
        return 0, 0
    rows = list(csv.reader(stat.read_text().splitlines(), delimiter=";"))
    if len(rows) < 2:
        return 0, 0
    header, last = rows[0], rows[-1]
    values = dict(zip(header, last, strict=False))
    return int(values.get("SuccessfulCall(C)", 0)), int(values.get("FailedCall(C)", 0))
