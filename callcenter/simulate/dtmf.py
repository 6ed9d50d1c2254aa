"""RFC 2833 keypad pcaps whose RTP numbering goes forward from key to key.

The pcaps sip-tester ships (one per key) each carry fixed RTP sequence
numbers and timestamps that grow with the key's value ("1" < "2" < ... ).
Asterisk drops a telephone-event whose timestamp is not newer than the last
one it saw on the call, so "3" then "1" arrived as "3" alone. Here the n-th
key press of a call gets its own copy with sequence numbers and a timestamp
that always move forward (cached as files, since SIPp plays files).
"""

from __future__ import annotations

import os
import struct
import tempfile
from pathlib import Path

SHIPPED = Path("/usr/share/sip-tester")
NAMES = {"*": "star", "#": "pound"}
KEYS = "0123456789*#"
PCAP_HEADER, RECORD_HEADER = 24, 16
RTP_OFFSET = 14 + 20 + 8  # Ethernet, IPv4 without options, UDP
SEQ_STEP, TS_STEP = 32, 8000  # per press: room for its packets, one second of timestamps


def shipped_pcap(key: str) -> Path:
    if len(key) != 1 or key not in KEYS:
        raise ValueError(f"not a keypad key: {key!r}")
    return SHIPPED / f"dtmf_2833_{NAMES.get(key, key)}.pcap"


def renumber(data: bytes, press: int) -> bytes:
    """The pcap with its RTP sequence numbers and timestamp moved to ``press``'s slot."""
    out = bytearray(data)
    offset, index = PCAP_HEADER, 0
    while offset + RECORD_HEADER <= len(out):
        (length,) = struct.unpack_from("<I", out, offset + 8)
        packet = offset + RECORD_HEADER
        rtp = packet + RTP_OFFSET
        if length < RTP_OFFSET + 12:
            raise ValueError("not an RTP-over-UDP/IPv4 pcap")
        seq = (1000 + press * SEQ_STEP + index) & 0xFFFF
        timestamp = (8000 + press * TS_STEP) & 0xFFFFFFFF
        struct.pack_into("!HI", out, rtp + 2, seq, timestamp)
        struct.pack_into("!H", out, packet + 14 + 20 + 6, 0)  # UDP checksum: none
        offset, index = packet + length, index + 1
    return bytes(out)


def key_pcap(key: str, press: int, cache: Path | None = None) -> Path:
    """The pcap to play for the ``press``-th key press (0-based) of a call."""
    directory = cache or Path(tempfile.gettempdir()) / "callcenter-dtmf"
    target = directory / f"{NAMES.get(key, key)}-{press}.pcap"
    if target.exists():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    data = renumber(shipped_pcap(key).read_bytes(), press)
    partial = directory / f".{target.name}.{os.getpid()}"
    partial.write_bytes(data)
    partial.replace(target)  # atomic: several test runs may share the cache
    return target
