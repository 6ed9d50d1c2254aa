"""Simulated customers for outbound calls and callbacks: one SIPp server (UAS)
that answers the numbers Asterisk dials, each number's last digit choosing
how that "customer" behaves:

    0-3  a person: rings 1-3 s, answers, says "Hello?", talks until hung up
    4-5  an answering machine: rings 1 s, answers with a long greeting
    6    busy (486)
    7    never answers (rings until the caller gives up)
    8-9  a person who answers late (5 s)

Speech is real audio (espeak-ng, see voices.py), so Asterisk's AMD decides
from what it hears.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from callcenter.simulate.procs import stop_process
from callcenter.simulate.sipp import launch_sipp
from callcenter.simulate.voices import greeting_pcap

HUMAN = "Hello?"
MACHINE = (
    "Hi, you have reached the Smith family. We are not able to take your call right now. "
    "Please leave your name, your number and a short message after the tone, and we will "
    "call you back as soon as we can. Thank you, and have a nice day."
)


def _ok(media_ip: str) -> str:
    return f"""      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] {media_ip}
      s=-
      c=IN IP[media_ip_type] {media_ip}
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=sendrecv"""


def _response(code: str, reason: str, tag: bool = True) -> str:
    to_tag = ";tag=[pid]SIPpTag01[call_number]" if tag else ""
    return f"""  <send>
    <![CDATA[
      SIP/2.0 {code} {reason}
      [last_Via:]
      [last_From:]
      [last_To:]{to_tag}
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
"""


def customer_scenario(human_pcap: Path, machine_pcap: Path, media_ip: str) -> str:
    answer = f"""  <send retrans="500">
    <![CDATA[
{_ok(media_ip)}
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
"""
    # SIPp refuses a variable that is set but never read: echo the match back.
    trying = _response("100", "Trying", tag=False).replace(
        "Content-Length: 0", "X-Dialled: [$all]\n      Content-Length: 0"
    )
    after_answer_wait_bye = (
        """  <recv request="BYE"/>
"""
        + _response("200", "OK", tag=False)
        + """  <nop next="end"/>
"""
    )
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="callcenter customers">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="sip:[+]?[0-9]*([0-9])@" search_in="msg" check_it="true" assign_to="all,digit"/>
      <todouble assign_to="d" variable="digit"/>
      <test assign_to="busy" variable="d" compare="equal" value="6"/>
      <test assign_to="noanswer" variable="d" compare="equal" value="7"/>
      <test assign_to="machine_hi" variable="d" compare="greater_than_equal" value="4"/>
      <test assign_to="machine_lo" variable="d" compare="less_than_equal" value="5"/>
      <test assign_to="late" variable="d" compare="greater_than_equal" value="8"/>
    </action>
  </recv>
{trying}  <nop next="busy" test="busy"/>
{_response("180", "Ringing")}  <nop next="noanswer" test="noanswer"/>
  <nop next="late" test="late"/>
  <nop next="maybe_machine" test="machine_hi"/>
  <label id="person"/>
  <pause distribution="uniform" min="1000" max="3000"/>
{answer}  <nop><action><exec play_pcap_audio="{human_pcap}"/></action></nop>
{after_answer_wait_bye}
  <label id="maybe_machine"/>
  <nop next="person" test="late"/>
  <nop next="machine" test="machine_lo"/>
  <nop next="person"/>
  <label id="machine"/>
  <pause milliseconds="1000"/>
{answer}  <nop><action><exec play_pcap_audio="{machine_pcap}"/></action></nop>
{after_answer_wait_bye}
  <label id="late"/>
  <pause milliseconds="5000"/>
{answer}  <nop><action><exec play_pcap_audio="{human_pcap}"/></action></nop>
{after_answer_wait_bye}
  <label id="busy"/>
{_response("486", "Busy Here")}  <recv request="ACK"/>
  <nop next="end"/>
  <label id="noanswer"/>
  <recv request="CANCEL"/>
{_response("200", "OK")}{_response("487", "Request Terminated")}  <recv request="ACK"/>
  <label id="end"/>
</scenario>
"""


@dataclass
class Customers:
    """A SIPp server playing every customer at ``address:port``."""

    workdir: Path
    address: str = "127.0.0.5"
    port: int = 5099
    media_port: int = 7000
    process: subprocess.Popen[bytes] | None = None
    prefix: Sequence[str] = ()  # run inside a network namespace (``ip netns exec ...``)

    def start(self, max_calls: int = 1000) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        voices = self.workdir / "voices"
        # Silence after the words: AMD decides on the silence that follows a
        # greeting, and hears nothing at all once the RTP stream stops.
        human = greeting_pcap(HUMAN, voices / "human.pcap", trailing_silence=4.0)
        machine = greeting_pcap(MACHINE, voices / "machine.pcap", trailing_silence=4.0)
        scenario = customer_scenario(human, machine, self.address)
        options = ["-i", self.address, "-p", str(self.port), "-mp", str(self.media_port)]
        options += ["-m", str(max_calls)]
        self.process = launch_sipp(self.workdir, "customers", scenario, options, prefix=self.prefix)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
