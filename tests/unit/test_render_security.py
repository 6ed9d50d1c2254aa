"""SIP hardening in the rendered configuration: md5 credentials, the TLS transport,
SRTP and address ACLs per agent, the security log, the AMI user's rights.

pjsip.conf and the agents' file use template headers pyst2's parser refuses
(tests/unit/test_render_parsed.py): here they are parsed after the template part
of each header and the #include lines are taken out, so every item is read back
by section all the same.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from asterisk.config import Category, Config, Item
from cryptography import x509

from callcenter.adapters.pbx.render import Renderer, RenderError
from callcenter.config import Settings
from callcenter.core.model import SipAccount
from callcenter.core.sip_auth import sip_ha1
from tests.unit.test_render import layout_for

Sections = dict[str, dict[str, list[str]]]
ANN = SipAccount("ann", sip_ha1("ann", "ann-password-1"), "Ann", "1001")
BOB = SipAccount("bob", sip_ha1("bob", "bob-password-1"), "Bob", "1002")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("CALLCENTER_"):
            monkeypatch.delenv(name)


def parse_templated(path: Path, tmp: Path) -> Sections:
    """Section -> item -> values, template headers read as plain ones."""
    text = re.sub(r"^(\[[^\]]+\])\([^)]*\)", r"\1", path.read_text(), flags=re.M)
    text = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    plain = tmp / f"{path.name}.plain"
    plain.write_text(text + "\n")
    sections: Sections = {"": {}}
    section = ""
    for line in Config(str(plain)).lines:
        if isinstance(line, Category):
            section = line.name
            sections.setdefault(section, {})
        elif isinstance(line, Item):
            sections[section].setdefault(line.name, []).append(line.value.strip())
    return sections


def render(tmp_path: Path, **sip: object) -> Path:
    base = {"bind": "127.0.0.1", "port": 15060}
    settings = Settings(
        state_dir=tmp_path / "state", site_dir=tmp_path / "site", sip={**base, **sip}
    )
    layout = layout_for(tmp_path)
    Renderer(settings, layout).render("secret", [ANN, BOB])
    return layout.host_dir / "etc"


def test_agents_authenticate_with_md5_credentials_only(tmp_path: Path) -> None:
    etc = render(tmp_path)
    pjsip = parse_templated(etc / "pjsip.conf", tmp_path)
    assert pjsip["agent-auth"]["auth_type"] == ["md5"]
    assert pjsip["agent-auth"]["realm"] == ["callcenter"]
    agents = parse_templated(etc / "generated/pjsip_agents.conf", tmp_path)
    assert agents["ann"]["md5_cred"] == [sip_ha1("ann", "ann-password-1", "callcenter")]
    assert "password" not in agents["ann"]
    assert "ann-password-1" not in (etc / "generated/pjsip_agents.conf").read_text()


def test_by_default_udp_only_no_srtp_no_acl(tmp_path: Path) -> None:
    etc = render(tmp_path)
    pjsip = parse_templated(etc / "pjsip.conf", tmp_path)
    assert "transport-tls" not in pjsip
    assert pjsip["transport-udp"]["bind"] == ["127.0.0.1:15060"]
    agents = parse_templated(etc / "generated/pjsip_agents.conf", tmp_path)
    for key in ("media_encryption", "permit", "deny", "contact_permit"):
        assert key not in agents["ann"], key
    assert not (etc.parent / "lib/keys/sip-tls.key").exists()


def test_tls_transport_with_a_generated_certificate(tmp_path: Path) -> None:
    etc = render(tmp_path, tls=True, tls_port=15061, external_address="198.51.100.4")
    tls = parse_templated(etc / "pjsip.conf", tmp_path)["transport-tls"]
    assert tls["protocol"] == ["tls"] and tls["bind"] == ["127.0.0.1:15061"]
    assert tls["cert_file"] == ["/srv/callcenter/lib/keys/sip-tls.crt"]
    assert tls["priv_key_file"] == ["/srv/callcenter/lib/keys/sip-tls.key"]
    assert tls["external_signaling_address"] == ["198.51.100.4"]
    keys = etc.parent / "lib/keys"
    assert (keys / "sip-tls.key").stat().st_mode & 0o777 == 0o640
    cert = x509.load_pem_x509_certificate((keys / "sip-tls.crt").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "198.51.100.4" in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    before = (keys / "sip-tls.crt").read_bytes()
    render(tmp_path, tls=True, tls_port=15061)
    assert (keys / "sip-tls.crt").read_bytes() == before  # kept: phones may pin it


def test_tls_with_the_site_s_own_certificate(tmp_path: Path) -> None:
    from callcenter.adapters.pbx.tls import generate

    cert, key = generate(["192.0.2.9"])
    (tmp_path / "site.crt").write_bytes(cert)
    (tmp_path / "site.key").write_bytes(key)
    etc = render(tmp_path, tls=True, tls_cert=tmp_path / "site.crt", tls_key=tmp_path / "site.key")
    assert (etc.parent / "lib/keys/sip-tls.crt").read_bytes() == cert
    (tmp_path / "site.key").write_text("not a key")
    with pytest.raises(RenderError, match="PEM"):
        render(tmp_path, tls=True, tls_cert=tmp_path / "site.crt", tls_key=tmp_path / "site.key")


def test_srtp_and_acls_site_wide_and_per_agent(tmp_path: Path) -> None:
    etc = render(
        tmp_path,
        srtp=True,
        agent_networks=["10.1.0.0/16"],
        agents={"bob": {"srtp": False, "networks": ["192.0.2.7", "2001:db8::/32"]}},
    )
    agents = parse_templated(etc / "generated/pjsip_agents.conf", tmp_path)
    ann, bob = agents["ann"], agents["bob"]
    assert ann["media_encryption"] == ["sdes"] and ann["media_encryption_optimistic"] == ["no"]
    assert "media_encryption" not in bob
    assert ann["deny"] == ["0.0.0.0/0.0.0.0,::/0"] and ann["permit"] == ["10.1.0.0/16"]
    assert ann["contact_permit"] == ["10.1.0.0/16"]
    assert bob["permit"] == ["192.0.2.7/32,2001:db8::/32"]
    assert bob["contact_deny"] == ["0.0.0.0/0.0.0.0,::/0"]


@pytest.mark.parametrize(
    "sip",
    [
        {"agent_networks": ["10.0.0.0/33"]},
        {"agents": {"ann": {"networks": ["not-an-address"]}}},
        {"agents": {"Bad Name": {"srtp": True}}},
        {"tls_cert": "/etc/ssl/a.crt"},
        {"tls": True, "tls_port": 5060},
    ],
)
def test_bad_sip_security_settings_are_refused(sip: dict[str, object]) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Settings(sip=sip)


def test_the_security_log_and_its_modules(tmp_path: Path) -> None:
    etc = render(tmp_path)
    logger = parse_templated(etc / "logger.conf", tmp_path)
    assert logger["logfiles"]["security.log"] == ["security"]
    modules = (etc / "modules.conf").read_text().splitlines()
    assert "load = res_security_log.so" in modules and "load = res_srtp.so" in modules
    asterisk = parse_templated(etc / "asterisk.conf", tmp_path)
    assert asterisk["options"]["live_dangerously"] == ["no"]
