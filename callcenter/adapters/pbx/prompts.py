"""The site's own prompts: recorded files, or spoken from text with espeak-ng.

Prompts live in ``<site_dir>/sounds/`` and are played as ``custom/<name>``.
Names are checked here (letters, digits, - and _) so no path ever comes
from anything but a simple name.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
FORMATS = (".wav", ".gsm", ".sln", ".ulaw", ".alaw")


class PromptError(Exception):
    pass


def sounds_dir(site_dir: Path) -> Path:
    return site_dir / "sounds"


def speak(site_dir: Path, name: str, text: str, voice: str = "en-us") -> Path:
    """Render ``text`` to an 8 kHz mono WAV prompt named ``name``."""
    if not NAME.fullmatch(name):
        raise PromptError(f"prompt name {name!r}: use letters, digits, - and _ only")
    if not text.strip() or len(text) > 1000:
        raise PromptError("prompt text must be 1 to 1000 characters")
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise PromptError(f"{tool} is not installed (apt-get install espeak-ng sox)")
    target = sounds_dir(site_dir) / f"{name}.wav"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        # Text goes in on stdin, never on a command line a shell could read.
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), "--stdin"],
            input=text.encode(),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(target)],
            check=True,
            capture_output=True,
        )
    return target


def prompt_files(site_dir: Path) -> list[Path]:
    folder = sounds_dir(site_dir)
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix in FORMATS and NAME.fullmatch(p.stem) and p.is_file()
    )
