"""Agents' SIP credentials: the digest PJSIP's md5_cred takes, never the password."""

from __future__ import annotations

from callcenter.core.sip_auth import SIP_REALM, is_ha1, sip_ha1


def test_the_digest_is_rfc_2617_s_ha1() -> None:
    # bob / biloxi.com / zanzibar: the worked example of SIP digest authentication.
    assert sip_ha1("bob", "zanzibar", "biloxi.com") == "12af60467a33e8518da5c68bbff12b11"


def test_the_realm_is_the_one_pjsip_challenges_with() -> None:
    assert SIP_REALM == "callcenter"
    assert sip_ha1("agent1", "pw") == sip_ha1("agent1", "pw", "callcenter")
    assert sip_ha1("agent1", "pw") != sip_ha1("agent2", "pw")  # the username is in it


def test_only_32_lowercase_hex_digits_are_a_digest() -> None:
    assert is_ha1(sip_ha1("agent1", "pw"))
    for bad in ("", "0" * 31, "0" * 33, "G" * 32, "0" * 32 + "\n", "A" * 32):
        assert not is_ha1(bad), bad
