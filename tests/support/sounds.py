"""A made-up Asterisk root with a few sounds, laid out as the Debian root is."""

from __future__ import annotations

from pathlib import Path

# What a queue plays by default (overflow, callback offer, thanks and refusal), a menu's beep,
# a wrong key's answer, one digit.
SOUNDS = frozenset(
    {
        "auth-thankyou",
        "cannot-complete-as-dialed",
        "im-sorry",
        "beep",
        "digits/1",
        "goodbye",
        "pbx-invalid",
        "vm-goodbye",
        "vm-nobodyavail",
        "vm-press",
        "vm-tocallback",
    }
)


def debian_root(root: Path) -> Path:
    """A root laid out as Debian's: sounds/en -> /etc/alternatives/... -> en_US_f_Allison,
    each of SOUNDS a .gsm file (one an .ulaw too), and a file that is not a sound."""
    sounds = root / "usr/share/asterisk/sounds"
    voice = sounds / "en_US_f_Allison"
    (voice / "digits").mkdir(parents=True)
    for name in SOUNDS:
        (voice / f"{name}.gsm").write_bytes(b"")
    (voice / "vm-goodbye.ulaw").write_bytes(b"")
    (voice / "README.txt").write_text("not a sound")
    (root / "etc/alternatives").mkdir(parents=True)
    (root / "etc/alternatives/asterisk-prompt-en").symlink_to(
        "/usr/share/asterisk/sounds/en_US_f_Allison"
    )
    (sounds / "en").symlink_to("/etc/alternatives/asterisk-prompt-en")
    (root / ".callcenter-root-ok").touch()
    return root
