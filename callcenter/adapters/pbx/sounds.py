"""The prompts Asterisk can play here: its installed sounds and the site's own.

Asterisk's sounds are the files under its sounds folder for the language
the channels use (``en``: the project sets no other), named as a dialplan
plays them: relative path, no extension (``vm-goodbye``, ``digits/1``). The
site's own are ``<site_dir>/sounds/`` (prompts.py), played as ``custom/<name>``.
"""

from __future__ import annotations

import os
from pathlib import Path

from callcenter.adapters.pbx.prompts import prompt_files
from callcenter.adapters.pbx.provider import AsteriskProvider
from callcenter.core.prompts import KnownPrompts

LANGUAGE = "en"
# The file formats Asterisk reads sounds from (its format modules' extensions).
SOUND_FORMATS = frozenset({
    "gsm", "wav", "wav16", "WAV", "wav49", "ulaw", "ul", "mu", "pcm", "alaw", "al", "au",
    "sln", "raw", "sln12", "sln16", "sln24", "sln32", "sln44", "sln48", "sln96", "sln192",
    "g722", "g723", "g723sf", "g726-16", "g726-24", "g726-32", "g726-40", "g729", "ilbc",
    "ogg", "opus", "siren7", "siren14", "vox",
})  # fmt: skip


def sound_names(folder: Path) -> frozenset[str]:
    """Every sound under ``folder``, as a dialplan names it."""
    names: set[str] = set()
    for top, _folders, files in os.walk(folder):
        here = Path(top).relative_to(folder)
        for file in files:
            stem, dot, extension = file.rpartition(".")
            if dot and stem and extension in SOUND_FORMATS:
                names.add((here / stem).as_posix())
    return frozenset(names)


class SitePrompts:
    """The PromptCatalog port (services/site.py): what can be played, listed afresh at
    each check (a few hundred names: milliseconds), so a prompt just recorded or a
    sounds package just installed counts at once."""

    def __init__(
        self, provider: AsteriskProvider, site_dir: Path, language: str = LANGUAGE
    ) -> None:
        self._provider = provider
        self._site_dir = site_dir
        self._language = language

    def __call__(self) -> KnownPrompts:
        folder = self._provider.sounds_folder(self._language)
        sounds = sound_names(folder) if folder.is_dir() else frozenset()
        site = frozenset(path.stem for path in prompt_files(self._site_dir))
        # An empty folder is no more a list of sounds than a missing one.
        return KnownPrompts(sounds or None, site, searched=str(folder))
