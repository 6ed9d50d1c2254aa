"""The console's TLS certificate: the site's own, or one made on first start.

The generated one is self-signed (an EC P-256 key, so handshakes stay cheap),
names this machine (its host name, localhost, loopback and the address the
console is bound to) and lives in ``<state_dir>/tls/`` with a 0600 key. It is
made again when it is missing or within a month of expiring. Browsers warn
about it until it is trusted (or replaced by the site's own, [web] cert_file).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from callcenter.config import WebSettings

log = logging.getLogger(__name__)

VALID_DAYS = 825
RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert: Path
    key: Path
    generated: bool


def console_tls(web: WebSettings, state_dir: Path) -> TlsFiles:
    """The certificate the console serves: the site's own if configured, else ours."""
    if web.cert_file is not None and web.key_file is not None:
        for path in (web.cert_file, web.key_file):
            if not path.is_file():
                raise FileNotFoundError(f"[web] names {path}, which is not a file")
        return TlsFiles(web.cert_file, web.key_file, generated=False)
    return ensure_certificate(state_dir / "tls", web.host)


def ensure_certificate(folder: Path, bound_to: str = "") -> TlsFiles:
    cert, key = folder / "console.crt", folder / "console.key"
    if not _fresh(cert) or not key.is_file():
        _generate(folder, cert, key, bound_to)
        log.info("console: generated a self-signed certificate in %s", folder)
    return TlsFiles(cert, key, generated=True)


def _fresh(cert: Path) -> bool:
    if not cert.is_file():
        return False
    try:
        loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    except ValueError:
        return False
    return loaded.not_valid_after_utc - RENEW_BEFORE > dt.datetime.now(dt.UTC)


def _names(bound_to: str) -> list[x509.GeneralName]:
    hosts = {"localhost", socket.gethostname(), socket.getfqdn()}
    addresses = {"127.0.0.1", "::1"}
    if bound_to and not ipaddress.ip_address(bound_to).is_unspecified:
        addresses.add(bound_to)
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in sorted(hosts) if h]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in sorted(addresses)]
    return names


def _generate(folder: Path, cert: Path, key: Path, bound_to: str) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, socket.gethostname() or "localhost"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Call center console (self-signed)"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_names(bound_to)), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(private, hashes.SHA256())
    )
    pem_key = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # The key is written 0600 from its first byte (never readable by others, not even briefly).
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem_key)
    os.chmod(key, 0o600)
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    cert.chmod(0o644)


def spki_sha256(cert: Path) -> str:
    """The base64 SHA-256 of the certificate's public key (Chromium's
    --ignore-certificate-errors-spki-list takes it: trust this one key, no other)."""
    import base64

    loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    spki = loaded.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashes.Hash(hashes.SHA256())
    digest.update(spki)
    return base64.b64encode(digest.finalize()).decode()
