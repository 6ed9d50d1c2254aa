"""Desktop settings in the database (SQLite and PostgreSQL): saved in one go, read back,
and a stored document gone bad falls back to the defaults for its part only."""

from __future__ import annotations

from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.models import SiteSettingRow
from callcenter.adapters.db.site_settings import SiteSettings
from callcenter.services.console.desktop_settings import (
    CrmSettings,
    DesktopSettings,
    DesktopSettingsStore,
)

SECRET = "s3cret-s3cret-s3cret"


def test_store_saves_in_one_go_and_loads_back(database_url: str) -> None:
    sessions = make_sessions(make_engine(database_url))
    store = DesktopSettingsStore(SiteSettings(sessions))
    seen: list[DesktopSettings] = []
    store.on_change(seen.append)
    assert store.load() == DesktopSettings()  # nothing stored: defaults

    wanted = DesktopSettings.model_validate(
        {
            "pause_reasons": ["coffee", "coaching"],
            "dispositions": [{"code": "sold", "label": "Sold"}],
            "crm": {
                "screen_pop_url": "https://crm.example/c?p={caller}",
                "webhooks": [{"url": "https://crm.example/h", "secret": SECRET}],
            },
        }
    )
    store.save(wanted)
    assert seen[-1] == wanted
    # Stored as objects under the documented keys, readable by anyone.
    raw = SiteSettings(sessions)
    assert raw.get("pause_reasons") == {"reasons": ["coffee", "coaching"]}
    assert raw.get("dispositions") == {"codes": [{"code": "sold", "label": "Sold"}]}
    assert raw.get("crm") == wanted.crm.model_dump()
    assert DesktopSettingsStore(SiteSettings(sessions)).load() == wanted


def test_a_stored_document_gone_bad_falls_back_for_its_part_only(database_url: str) -> None:
    sessions = make_sessions(make_engine(database_url))
    with sessions.begin() as session:
        session.add(
            SiteSettingRow(key="pause_reasons", value={"reasons": ["coffee"]}, updated_at=0)
        )
        session.add(SiteSettingRow(key="crm", value={"screen_pop_url": "ftp://x/"}, updated_at=0))
    loaded = DesktopSettingsStore(SiteSettings(sessions)).load()
    assert loaded.pause_reasons == ["coffee"]
    assert loaded.crm == CrmSettings()
