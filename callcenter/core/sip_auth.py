"""Agents' SIP credentials as Asterisk checks them, never the password itself.

PJSIP's ``auth_type = md5`` takes ``md5_cred``: MD5 of ``username:realm:password``
(RFC 2617's HA1), and challenges phones with the auth object's ``realm``. The
database keeps this digest only: a password is shown once when it is set and
cannot be read back. The realm is fixed: changing it would void every digest.
"""

from __future__ import annotations

import hashlib
import re

SIP_REALM = "callcenter"
HA1 = re.compile(r"\A[0-9a-f]{32}\Z")

# [kamailio] phones: Kamailio checks a phone's digest (the same HA1 and realm) and
# names the agent in AGENT_HEADER on the call it relays to a node; its requests
# reach the nodes on the endpoint PROXY_ENDPOINT (not a valid agent name: no clash),
# its copies of the phones' registrations too.
AGENT_HEADER = "X-CC-Agent"
PROXY_ENDPOINT = "Kamailio"


def sip_ha1(username: str, password: str, realm: str = SIP_REALM) -> str:
    """The digest PJSIP's md5_cred holds for this username and password."""
    text = f"{username}:{realm}:{password}"
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def is_ha1(value: str) -> bool:
    return HA1.match(value) is not None
