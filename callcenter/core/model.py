"""Plain domain records shared by the core and the services (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SipAccount:
    """An agent's softphone account: one PJSIP endpoint with one contact."""

    username: str
    ha1: str  # MD5(username:realm:password) for PJSIP's md5_cred (core/sip_auth.py)
    display_name: str
    extension: str
    # A fixed contact for phones that do not register (sip:user@host:port).
    static_contact: str = ""


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """An agent as administration sees it: the account without its password."""

    username: str
    display_name: str
    extension: str
    active: bool
    static_contact: str = ""


class DuplicateAgent(Exception):
    """An agent with this username or extension exists already."""
