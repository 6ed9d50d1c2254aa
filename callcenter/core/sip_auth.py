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


def sip_ha1(username: str, password: str, realm: str = SIP_REALM) -> str:
    """The digest PJSIP's md5_cred holds for this username and password."""
    text = f"{username}:{realm}:{password}"
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def is_ha1(value: str) -> bool:
    return HA1.match(value) is not None
