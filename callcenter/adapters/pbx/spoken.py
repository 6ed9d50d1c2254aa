"""Prompts made from text while the controller runs (campaign messages).

Spoken into the site's sounds folder (prompts.py) and published at once to
the folder Asterisk plays ``custom/<name>`` from; no reload is needed.
"""

from __future__ import annotations

import asyncio
import hashlib

from callcenter.adapters.pbx.prompts import sounds_dir, speak
from callcenter.adapters.pbx.render import PbxLayout, Renderer
from callcenter.config import Settings


class SpokenPrompts:
    def __init__(self, settings: Settings, layout: PbxLayout) -> None:
        self.settings = settings
        self.layout = layout

    async def make(self, name: str, text: str) -> str:
        """The prompt ``custom/<name>`` saying ``text`` (made again only when the text changes)."""
        return await asyncio.to_thread(self._make, name, text)

    def _make(self, name: str, text: str) -> str:
        folder = sounds_dir(self.settings.site_dir)
        stamp = folder / f".{name}.text"
        digest = hashlib.sha256(text.encode()).hexdigest()
        wav = folder / f"{name}.wav"
        if not wav.exists() or not stamp.exists() or stamp.read_text() != digest:
            speak(self.settings.site_dir, name, text)
            stamp.write_text(digest)
        Renderer(self.settings, self.layout).publish_sounds()
        return f"custom/{name}"
