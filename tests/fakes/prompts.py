"""A stand-in for the PromptCatalog port (services/site.py): some of Asterisk's core
sounds, the ones the product and the tests' sites name, and the site's own given."""

from __future__ import annotations

from callcenter.core.prompts import KnownPrompts

SOME_SOUNDS = frozenset(
    {
        "auth-thankyou",
        "cannot-complete-as-dialed",
        "im-sorry",
        "beep",
        "digits/1",
        "goodbye",
        "pbx-invalid",
        "silence/1",
        "vm-goodbye",
        "vm-nobodyavail",
        "vm-press",
        "vm-sorry",
        "vm-tocallback",
    }
)


def known_prompts(*site: str) -> KnownPrompts:
    return KnownPrompts(SOME_SOUNDS, frozenset(site), searched="(test sounds)")
