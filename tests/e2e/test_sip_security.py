"""SIP hardening with a real Asterisk and real phones (baresip).

- An agent whose phone registers over TLS and must use SRTP ([sip.agents.tina]
  srtp, tests/e2e/conftest.py) takes a caller's call: the contact is a TLS one and
  the media is SRTP (SDES keys).
- An agent fenced to one network ([sip.agents.fenced] networks) cannot register
  from another address: Asterisk refuses it and writes FailedACL to the security
  log (which fail2ban counts, tests/e2e/test_sip_bans.py).
"""

from __future__ import annotations

import time

import pytest

from callcenter.simulate.procs import wait_for
from callcenter.simulate.sipp import caller_scenario
from tests.e2e.conftest import FENCED_NETWORK, CallCenter
from tests.e2e.sites import one_queue_site


@pytest.mark.e2e
def test_an_agent_on_tls_with_srtp_takes_a_call(callcenter: CallCenter) -> None:
    callcenter.load_site(one_queue_site("tina"))
    phone = callcenter.softphone(callcenter.account("tina"), tls=True, srtp=True)
    callcenter.login("tina")
    callcenter.wait_available("tina")
    aor = callcenter.pbx.cli("pjsip show aor tina")
    assert "transport=tls" in aor.lower(), aor

    caller = callcenter.caller()
    sipp = caller.start(caller_scenario([1000, "7", 4000]), [("Bob Caller", "+15551234567")])
    phone.wait_event("CALL_INCOMING", 15)
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", 5)
    channels = callcenter.pbx.cli("core show channels concise")
    tina = next(line.split("!")[0] for line in channels.splitlines() if "PJSIP/tina-" in line)
    # Asterisk's own view of the agent's leg: signalling over TLS, media encrypted.
    pbx = callcenter.controller.pbx
    assert callcenter.thread.run(pbx.get_var(tina, "CHANNEL(pjsip,secure)")) == "1"
    assert callcenter.thread.run(pbx.get_var(tina, "CHANNEL(rtp,secure,audio)")) == "1"
    phone.wait_event("CALL_CLOSED", 20)
    result = caller.finish(sipp)
    assert (result.successful, result.failed) == (1, 0), result.log


@pytest.mark.e2e
def test_an_agent_fenced_to_a_network_cannot_register_from_elsewhere(
    callcenter: CallCenter,
) -> None:
    callcenter.load_site(one_queue_site("fenced"))
    security_log = callcenter.pbx.settings.pbx_dir / "log" / "security.log"
    phone = callcenter.softphone(callcenter.account("fenced"), registered=False)
    assert not phone.address.startswith(FENCED_NETWORK.split("/")[0])

    def refused() -> bool:
        return any(
            'SecurityEvent="FailedACL"' in line and f"/{phone.address}/" in line
            for line in security_log.read_text().splitlines()
        )

    wait_for(refused, 15, "FailedACL for the fenced agent's phone")
    time.sleep(1)
    assert not phone.registered()
    assert "fenced/sip:" not in callcenter.pbx.cli("pjsip show contacts")
