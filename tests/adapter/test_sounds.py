"""Which prompts can be played: Asterisk's sounds listed from disk (inside a chroot
root, links and all), and the site's own."""

from __future__ import annotations

from pathlib import Path

from callcenter.adapters.pbx.provider import ChrootProvider, path_in_root
from callcenter.adapters.pbx.sounds import SitePrompts, sound_names
from tests.support.sounds import SOUNDS, debian_root


def test_sound_names_are_paths_without_extension_and_only_sounds(tmp_path: Path) -> None:
    folder = debian_root(tmp_path) / "usr/share/asterisk/sounds/en_US_f_Allison"
    assert sound_names(folder) == SOUNDS


def test_links_in_a_chroot_root_are_followed_inside_the_root(tmp_path: Path) -> None:
    root = debian_root(tmp_path / "root")
    (root / "usr/local/share/asterisk/sounds").mkdir(parents=True)
    (root / "usr/share/asterisk/sounds/custom").symlink_to("../../../local/share/asterisk/sounds")
    voice = root / "usr/share/asterisk/sounds/en_US_f_Allison"
    assert path_in_root(root, "/usr/share/asterisk/sounds/en") == voice
    custom = path_in_root(root, "/usr/share/asterisk/sounds/custom")
    assert custom == root / "usr/local/share/asterisk/sounds"
    assert path_in_root(root, "/../../usr/share/asterisk/sounds/en") == voice  # never above it


def test_site_prompts_lists_asterisks_sounds_and_the_sites_own(tmp_path: Path) -> None:
    root = debian_root(tmp_path / "root")
    site = tmp_path / "site"
    (site / "sounds").mkdir(parents=True)
    (site / "sounds/welcome.wav").write_bytes(b"")
    (site / "sounds/.welcome.text").write_text("stamp, not a prompt")
    known = SitePrompts(ChrootProvider(root), site)()
    assert known.sounds == SOUNDS
    assert known.site == {"welcome"}
    (site / "sounds/closed.gsm").write_bytes(b"")  # recorded since: counts at once
    assert SitePrompts(ChrootProvider(root), site)().site == {"welcome", "closed"}


def test_without_a_root_the_sounds_are_unknown_and_where_they_were_sought_is_said(
    tmp_path: Path,
) -> None:
    known = SitePrompts(ChrootProvider(tmp_path / "not-built"), tmp_path / "site")()
    assert known.sounds is None and known.site == frozenset()
    assert known.searched == str(tmp_path / "not-built/usr/share/asterisk/sounds/en")
