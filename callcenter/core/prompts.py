"""Whether Asterisk can play the prompts a site names (pure).

Asterisk plays a prompt such as ``vm-goodbye`` from its own sounds (for the
channel's language), and ``custom/<name>`` from the site's own prompts. A
prompt it cannot find is skipped without a word: a caller who presses a
wrong key hears nothing before the menu repeats. So a flow or a queue that
names one is refused where it is written (``callcenter site load``, the
console's administration), naming the prompt.

The names come from outside (adapters/pbx/sounds.py lists the files). When
Asterisk's sounds could not be found at all (no Asterisk root built yet),
``KnownPrompts.sounds`` is None: only the site's own prompts are checked,
and whoever asked says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from difflib import get_close_matches

CUSTOM = "custom/"  # where Asterisk finds the site's own prompts


@dataclass(frozen=True, slots=True)
class KnownPrompts:
    """The prompts that can be played: Asterisk's sounds and the site's own."""

    sounds: frozenset[str] | None  # e.g. "vm-goodbye", "digits/1"; None: not found
    site: frozenset[str] = frozenset()  # e.g. "welcome", played as "custom/welcome"
    searched: str = ""  # where Asterisk's sounds were looked for (for the message)

    def why_not(self, prompt: str) -> str | None:
        """Why ``prompt`` cannot be played, or None when it can (or cannot be told)."""
        if prompt.startswith(CUSTOM):
            name = prompt.removeprefix(CUSTOM)
            if name in self.site:
                return None
            return (
                f"no prompt {prompt!r}: the site has no prompt {name!r}{self._hint(prompt)}; "
                f"record {name}.wav into the site's sounds folder, or make it with "
                f"`callcenter prompt say {name} TEXT`"
            )
        if self.sounds is None or prompt in self.sounds:
            return None
        return (
            f"no prompt {prompt!r}: neither among Asterisk's sounds nor the site's own "
            f"(custom/NAME){self._hint(prompt)}"
        )

    def _hint(self, prompt: str) -> str:
        bare = prompt.removeprefix(CUSTOM)
        if bare != prompt and bare in (self.sounds or ()):
            close = [bare]  # one of Asterisk's sounds, named as the site's
        elif bare == prompt and bare in self.site:
            close = [CUSTOM + bare]  # the site's own, named without custom/
        else:
            known = [*(self.sounds or ()), *(CUSTOM + name for name in self.site)]
            close = get_close_matches(prompt, known, n=1)
        return f" (did you mean {close[0]!r}?)" if close else ""


def missing_prompts(used: Iterable[tuple[str, str]], known: KnownPrompts) -> list[tuple[str, str]]:
    """(where, why) for each (where, prompt) of ``used`` that cannot be played."""
    found = []
    for where, prompt in used:
        why = known.why_not(prompt)
        if why is not None:
            found.append((where, why))
    return found
