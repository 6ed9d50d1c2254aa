"""Packet capture on loopback, for measurements: ``dumpcap`` writes a pcap file,
this module reads SIP messages and RFC 4733 DTMF events back from it.

One clock for every peer: the kernel stamps each datagram as it crosses the
loopback interface, so INVITE, 200 OK, DTMF and BYE times of callers, Asterisk
and agents are directly comparable (no per-process log clocks to reconcile).
Only IPv4/UDP is read; the file must be classic pcap (``dumpcap -P``).
"""

from __future__ import annotations

import re
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from callcenter.simulate.procs import stop_process

_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
# Bytes before the IPv4 header, per link type.
_LINK_HEADER = {0: 4, 1: 14, 101: 0, 113: 16, 228: 0}


@dataclass(frozen=True, slots=True)
class Datagram:
    at: float  # seconds since the epoch, as stamped by the kernel
    src: str
    sport: int
    dst: str
    dport: int
    payload: bytes


def read_pcap(path: Path) -> Iterator[Datagram]:
    """Every IPv4 UDP datagram in a classic pcap file, in capture order."""
    data = path.read_bytes()
    if len(data) < 24 or data[:4] not in _PCAP_MAGIC:
        raise ValueError(f"{path}: not a classic pcap file (write it with dumpcap -P)")
    order, unit = _PCAP_MAGIC[data[:4]]
    linktype = struct.unpack(order + "I", data[20:24])[0]
    skip = _LINK_HEADER.get(linktype)
    if skip is None:
        raise ValueError(f"{path}: link type {linktype} not supported")
    record = struct.Struct(order + "IIII")
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, captured, _ = record.unpack_from(data, offset)
        offset += 16
        frame = data[offset : offset + captured]
        offset += captured
        datagram = _udp(frame[skip:], seconds + fraction * unit)
        if datagram is not None:
            yield datagram


def _udp(packet: bytes, at: float) -> Datagram | None:
    if len(packet) < 28 or packet[0] >> 4 != 4 or packet[9] != 17:
        return None
    header = (packet[0] & 0x0F) * 4
    total = struct.unpack_from("!H", packet, 2)[0]
    sport, dport, length = struct.unpack_from("!HHH", packet, header)
    end = min(header + length, total, len(packet))
    return Datagram(
        at,
        ".".join(str(b) for b in packet[12:16]),
        sport,
        ".".join(str(b) for b in packet[16:20]),
        dport,
        packet[header + 8 : end],
    )


# -- SIP ------------------------------------------------------------------------------

_URI_USER = re.compile(r"sips?:([^@;>]+)@")
_MEDIA_PORT = re.compile(r"^m=audio (\d+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class SipMessage:
    at: float
    src: str
    sport: int
    dst: str
    dport: int
    method: str  # the request's method; "" for a response
    status: int  # the response's status code; 0 for a request
    uri: str  # the request URI; "" for a response
    headers: dict[str, str] = field(repr=False)  # lower-case name -> first value
    body: str = field(repr=False)

    @property
    def call_id(self) -> str:
        return self.headers.get("call-id", "")

    @property
    def cseq_method(self) -> str:
        return self.headers.get("cseq", " ").split()[-1]

    @property
    def from_user(self) -> str:
        return user_of(self.headers.get("from", ""))

    @property
    def uri_user(self) -> str:
        return user_of(self.uri)

    @property
    def media_port(self) -> int | None:
        """The audio port an SDP body offers or answers, if there is one."""
        match = _MEDIA_PORT.search(self.body)
        return int(match.group(1)) if match else None


_COMPACT = {
    "i": "call-id",
    "f": "from",
    "t": "to",
    "v": "via",
    "m": "contact",
    "l": "content-length",
}


def user_of(value: str) -> str:
    match = _URI_USER.search(value)
    return match.group(1) if match else ""


def parse_sip(datagram: Datagram) -> SipMessage | None:
    """The SIP message a datagram carries, or None (RTP, keep-alives, garbage)."""
    text = datagram.payload.decode("utf-8", errors="replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    first = lines[0].split(" ", 2)
    if len(first) < 3:
        return None
    if first[0] == "SIP/2.0":
        if not first[1].isdigit():
            return None
        method, status, uri = "", int(first[1]), ""
    elif first[2] == "SIP/2.0":
        method, status, uri = first[0], 0, first[1]
    else:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            headers.setdefault(_COMPACT.get(key, key), value.strip())
    return SipMessage(
        datagram.at,
        datagram.src,
        datagram.sport,
        datagram.dst,
        datagram.dport,
        method,
        status,
        uri,
        headers,
        body,
    )


# -- RTP telephone events (RFC 4733) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class DtmfPacket:
    at: float
    src: str
    dst: str
    dport: int
    digit: int
    end: bool


def parse_dtmf(datagram: Datagram) -> DtmfPacket | None:
    """An RTP packet carrying one telephone event (and nothing else), or None."""
    payload = datagram.payload
    if len(payload) != 16 or payload[0] >> 6 != 2 or payload[0] & 0x0F:
        return None
    return DtmfPacket(
        datagram.at,
        datagram.src,
        datagram.dst,
        datagram.dport,
        payload[12],
        bool(payload[13] & 0x80),
    )


# -- the capturing process ------------------------------------------------------------


@dataclass
class Capture:
    """``dumpcap`` on one interface with a BPF filter, stopped by PID."""

    path: Path
    bpf: str
    interface: str = "lo"
    buffer_mib: int = 64
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.path.with_suffix(".log")

    def start(self, timeout: float = 10.0) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        argv = ["dumpcap", "-i", self.interface, "-f", self.bpf, "-P", "-w", str(self.path)]
        argv += ["-B", str(self.buffer_mib)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        # dumpcap says so once the filter is compiled and the interface is open.
        while "Capturing on" not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dumpcap did not start: {self.log.read_text()}")
            time.sleep(0.05)

    def stop(self) -> int:
        """Stop capturing; the number of packets the kernel or dumpcap dropped."""
        if self.process is not None:
            stop_process(self.process)
        match = re.search(r"received/dropped[^:]*: \d+/(\d+)", self.log.read_text(errors="replace"))
        return int(match.group(1)) if match else 0

    def datagrams(self) -> Iterator[Datagram]:
        return read_pcap(self.path)
