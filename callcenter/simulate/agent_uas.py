"""Agents that always answer, for load: one SIPp UAS process answers every
agent's calls.

Softphones (baresip) are too heavy to run by the dozen. An agent endpoint with
a static contact (``sip:agent7@127.0.0.3:5090``, AgentEntry.static_contact)
needs no registration, so one SIPp process listening there can be the phone
of every agent: Asterisk puts the agent's name in the request URI, which is
all a measurement needs to tell agents apart.

Each call: 180 Ringing, answer after ``ring_ms``, then either hang up with a
BYE after ``talk_ms`` (``end="bye"``) or wait for the far end's BYE
(``end="await"``, answering re-INVITEs and UPDATEs meanwhile: an
always-connected agent's line lives through many calls). Asterisk qualifies
static contacts with OPTIONS; the scenario answers them (a contact that stops
answering turns Unreachable and a plain Asterisk queue stops ringing it).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from callcenter.simulate.procs import stop_process
from callcenter.simulate.sipp import AWAIT_BYE, SDP, SippResult, launch_sipp, sipp_result

_LOCAL_TAG = "tag=[pid]SIPpTag01[call_number]"

# A qualify (OPTIONS) starts a "call" of its own: answer it and end there.
_RECV_INVITE = """  <recv request="OPTIONS" optional="true" next="options"/>
  <recv request="INVITE" crlf="true" rrs="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="peer"/>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="me"/>
    </action>
  </recv>
"""

_RECV_INVITE_ONLY = """  <recv request="OPTIONS" optional="true" next="options"/>
  <recv request="INVITE" crlf="true" rrs="true"/>
"""

# A response to the request just received: 200 to a qualify, 180 or 200 (with SDP) to INVITE.
_REPLY = """  <send{retrans}>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:];{tag}
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
{body}    ]]>
  </send>
"""
_NO_BODY = "      Content-Length: 0\n"
_SDP_BODY = f"""      Content-Type: application/sdp
      Content-Length: [len]

{SDP.format(origin="agent")}
"""
_OPTIONS = (
    '  <label id="options"/>\n'
    + _REPLY.format(retrans="", status="200 OK", tag=_LOCAL_TAG, body=_NO_BODY)
    + '  <label id="done"/>\n'
)
_RINGING = _REPLY.format(retrans="", status="180 Ringing", tag=_LOCAL_TAG, body=_NO_BODY)
_ANSWER = (
    _REPLY.format(retrans=' retrans="500"', status="200 OK", tag=_LOCAL_TAG, body=_SDP_BODY)
    + '  <recv request="ACK" crlf="true"/>\n'
)

_HANG_UP = """  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$me];{tag}
      To: [$peer]
      Call-ID: [call_id]
      CSeq: 1 BYE
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true" next="done"/>
"""


def _keep_until_bye(await_ms: int) -> str:
    """Wait for the far end's BYE, answering what Asterisk sends on a long call
    meanwhile (re-INVITEs and UPDATEs: connected line, media) rather than aborting."""
    in_dialog = _REPLY.replace("[last_To:];{tag}", "[last_To:]")
    return (
        '  <label id="line"/>\n'
        '  <recv request="INVITE" optional="true" next="reinvite"/>\n'
        '  <recv request="UPDATE" optional="true" next="update"/>\n'
        + AWAIT_BYE.format(timeout=await_ms, then=' next="done"')
        + '  <label id="reinvite"/>\n'
        + in_dialog.format(retrans=' retrans="500"', status="200 OK", body=_SDP_BODY)
        + '  <recv request="ACK" crlf="true" next="line"/>\n'
        + '  <label id="update"/>\n'
        + in_dialog.format(retrans=' next="line"', status="200 OK", body=_NO_BODY)
    )


def agent_scenario(
    ring_ms: int = 100, talk_ms: int = 1000, end: str = "bye", await_ms: int = 600_000
) -> str:
    """The UAS scenario for one agent call (see the module docstring)."""
    if end not in ("bye", "await"):
        raise ValueError(f"end must be 'bye' or 'await', not {end!r}")
    # SIPp refuses a variable assigned and never used: the BYE alone uses them.
    receive = _RECV_INVITE if end == "bye" else _RECV_INVITE_ONLY
    body = [receive, _RINGING]
    if ring_ms > 0:
        body.append(f'  <pause milliseconds="{ring_ms}"/>\n')
    body.append(_ANSWER)
    if end == "bye":
        if talk_ms > 0:
            body.append(f'  <pause milliseconds="{talk_ms}"/>\n')
        body.append(_HANG_UP.format(tag=_LOCAL_TAG))
    else:
        body.append(_keep_until_bye(await_ms))
    body.append(_OPTIONS)
    return (
        '<?xml version="1.0" encoding="ISO-8859-1" ?>\n'
        '<scenario name="callcenter agents">\n' + "".join(body) + "</scenario>\n"
    )


@dataclass
class SippAgents:
    """One SIPp UAS on ``address:port`` answering the calls of every agent whose
    static contact points there."""

    workdir: Path
    address: str = "127.0.0.3"
    port: int = 5090
    media_port: int = 7000
    name: str = "agents"
    process: subprocess.Popen[bytes] | None = None

    def contact(self, username: str) -> str:
        """The static contact to give an agent (AgentEntry.static_contact)."""
        return f"sip:{username}@{self.address}:{self.port}"

    def start(self, scenario: str) -> subprocess.Popen[bytes]:
        options = ["-i", self.address, "-p", str(self.port), "-mp", str(self.media_port), "-aa"]
        self.process = launch_sipp(self.workdir, self.name, scenario, options)
        return self.process

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> SippResult:
        """Stop the UAS (by PID); its counts as of its last statistics dump."""
        if self.process is not None:
            stop_process(self.process)
        code = self.process.returncode if self.process is not None else 0
        return sipp_result(self.workdir, self.name, code)
