"""Keypad pcaps renumbered per press: RTP sequence and timestamp always move forward."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from callcenter.simulate.dtmf import PCAP_HEADER, RECORD_HEADER, RTP_OFFSET, key_pcap, shipped_pcap

pytestmark = pytest.mark.skipif(not shipped_pcap("1").exists(), reason="sip-tester not installed")


def rtp_numbers(path: Path) -> list[tuple[int, int, int]]:
    """(sequence, timestamp, event) of every packet."""
    data, offset, found = path.read_bytes(), PCAP_HEADER, []
    while offset + RECORD_HEADER <= len(data):
        (length,) = struct.unpack_from("<I", data, offset + 8)
        rtp = offset + RECORD_HEADER + RTP_OFFSET
        seq, timestamp = struct.unpack_from("!HI", data, rtp + 2)
        found.append((seq, timestamp, data[rtp + 12]))
        offset += RECORD_HEADER + length
    return found


def test_a_lower_key_after_a_higher_one_still_moves_forward(tmp_path: Path) -> None:
    # Shipped as they are, "3" then "1" goes backwards (Asterisk drops the "1").
    assert rtp_numbers(shipped_pcap("1"))[0][1] < rtp_numbers(shipped_pcap("3"))[0][1]
    presses = [rtp_numbers(key_pcap(key, n, tmp_path)) for n, key in enumerate("31#1")]
    sequences = [seq for packets in presses for seq, _, _ in packets]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    stamps = [packets[0][1] for packets in presses]
    assert stamps == sorted(stamps) and len(set(stamps)) == 4
    assert [packets[0][2] for packets in presses] == [3, 1, 11, 1]  # the events themselves kept


def test_cached_file_is_reused_and_bad_keys_are_refused(tmp_path: Path) -> None:
    first = key_pcap("5", 2, tmp_path)
    assert key_pcap("5", 2, tmp_path) == first
    with pytest.raises(ValueError, match="not a keypad key"):
        key_pcap("A", 0, tmp_path)
