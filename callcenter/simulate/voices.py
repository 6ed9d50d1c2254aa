"""Spoken audio for simulated customers: text -> 8 kHz speech -> an RTP (PCMU)
pcap that SIPp plays with <exec play_pcap_audio>.

Answering-machine detection listens to what the called party says: a short
"Hello?" then silence sounds like a person; a long greeting sounds like a
machine. Both are made here with espeak-ng, so tests and benchmarks exercise
Asterisk's real AMD.
"""

from __future__ import annotations

import struct
import subprocess
import tempfile
import wave
from pathlib import Path

FRAME = 160  # 20 ms of 8 kHz audio per RTP packet
PCMU = 0


def _ulaw(sample: int) -> int:
    """G.711 mu-law of one 16-bit sample (the standard segment encoding)."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), clip) + bias
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not magnitude & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def speech_wav(text: str, target: Path, voice: str = "en-us") -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(raw), "--stdin"],
                       input=text.encode(), check=True, capture_output=True)  # fmt: skip
        subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(target)],
                       check=True, capture_output=True)  # fmt: skip
    return target


def wav_to_pcap(source: Path, target: Path, trailing_silence: float = 0.0) -> Path:
    """Write the WAV's audio as RTP/PCMU packets in a pcap (one every 20 ms)."""
    with wave.open(str(source)) as wav:
        if wav.getframerate() != 8000 or wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError(f"{source}: need 8 kHz, 16-bit, mono")
        pcm = wav.readframes(wav.getnframes())
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    samples += (0,) * int(trailing_silence * 8000)
    payload = bytes(_ulaw(s) for s in samples)
    with target.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # Ethernet
        for index in range(0, len(payload), FRAME):
            chunk = payload[index : index + FRAME].ljust(FRAME, b"\xff")
            number = index // FRAME
            rtp = struct.pack("!BBHII", 0x80, PCMU, number & 0xFFFF, number * FRAME, 0x1234ABCD)
            udp_body = rtp + chunk
            udp = struct.pack("!HHHH", 6000, 6000, 8 + len(udp_body), 0) + udp_body
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp  # fmt: skip
            frame = b"\x00" * 12 + b"\x08\x00" + ip
            seconds, micros = divmod(number * 20000, 1_000_000)
            out.write(struct.pack("<IIII", seconds, micros, len(frame), len(frame)) + frame)
    return target


def greeting_pcap(text: str, target: Path, trailing_silence: float = 0.0) -> Path:
    """A pcap of ``text`` spoken, for SIPp's play_pcap_audio (cached by file)."""
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = speech_wav(text, Path(tmp) / "speech.wav")
        return wav_to_pcap(wav, target, trailing_silence)
