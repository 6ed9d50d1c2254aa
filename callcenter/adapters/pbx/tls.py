"""The SIP TLS certificate Asterisk presents to agents' phones ([sip] tls = true).

The site's own PEM files ([sip] tls_cert, tls_key) are copied into the PBX folder's
``lib/keys`` (Asterisk, perhaps in its root, reads them there); without them one is
generated once (self-signed, RSA 2048, ten years, the SIP addresses and host name as
subject alternative names) and kept. The key is 0640, readable by Asterisk's group.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CERT_NAME = "sip-tls.crt"
KEY_NAME = "sip-tls.key"


class TlsError(Exception):
    pass


def _names(addresses: list[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(socket.gethostname())]
    for address in dict.fromkeys(a for a in addresses if a):
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            names.append(x509.DNSName(address))
            continue
        if not ip.is_unspecified:
            names.append(x509.IPAddress(ip))
    return names


def generate(addresses: list[str]) -> tuple[bytes, bytes]:
    """A self-signed certificate and its key (PEM) for these addresses."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, socket.gethostname())])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(_names(addresses)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def _write(path: Path, data: bytes, gid: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    if os.geteuid() == 0:
        os.chown(tmp, 0, gid)
    os.replace(tmp, path)


def ensure_certificate(
    keys_dir: Path,
    gid: int,
    addresses: list[str],
    cert: Path | None,
    key: Path | None,
    names: tuple[str, str] = (CERT_NAME, KEY_NAME),
) -> bool:
    """The certificate and key in ``keys_dir`` (as ``names``); True when (re)written."""
    cert_path, key_path = keys_dir / names[0], keys_dir / names[1]
    if cert is not None and key is not None:
        try:
            wanted = (cert.read_bytes(), key.read_bytes())
        except OSError as exc:
            raise TlsError(f"[sip] tls_cert/tls_key cannot be read: {exc}") from None
        if b"CERTIFICATE" not in wanted[0] or b"PRIVATE KEY" not in wanted[1]:
            raise TlsError("[sip] tls_cert and tls_key must be PEM files (certificate, key)")
        current = cert_path.exists() and key_path.exists()
        if current and (cert_path.read_bytes(), key_path.read_bytes()) == wanted:
            return False
    elif cert_path.exists() and key_path.exists():
        return False  # generated before: kept (phones may have pinned it)
    else:
        wanted = generate(addresses)
    _write(key_path, wanted[1], gid)
    _write(cert_path, wanted[0], gid)
    return True
