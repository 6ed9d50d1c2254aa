"""Campaign settings documents: defaults, validation naming the field, round trip."""

from __future__ import annotations

import pytest

from callcenter.core.hours import Window
from callcenter.core.outbound.numbers import BadNumber, normalise, zones_of
from callcenter.core.outbound.settings import CampaignSettingsError, load_settings


def test_defaults_follow_the_rules() -> None:
    rules = load_settings({})
    assert rules.abandon_cap_pct == 3.0 and rules.agent_grace_seconds == 2.0
    assert rules.calling_hours == Window(8 * 60, 21 * 60)
    assert rules.abandon_window_seconds == 30 * 86400
    assert load_settings({"abandon_rule": "ofcom-24h"}).abandon_window_seconds == 86400
    assert rules.quiet_seconds == 72 * 3600
    assert "sun" not in rules.windows


def test_document_round_trips() -> None:
    rules = load_settings(
        {
            "mode": "predictive",
            "windows": {"mon": ["09:00-12:00", "13:00-18:00"]},
            "trunk": "carrier-b",
            "identification_text": "This was Acme Energy; call 0800 123 to opt out.",
        }
    )
    again = load_settings(rules.document())
    assert again == rules
    assert rules.document()["windows"] == {"mon": ["09:00-12:00", "13:00-18:00"]}


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"mode": "robocall"}, "mode"),
        ({"ring_seconds": 10}, "ring_seconds"),
        ({"default_timezone": "Mars/Base"}, "default_timezone"),
        ({"windows": {"mon": ["22:00-02:00"]}}, "windows.mon.0"),
        ({"calling_hours": "8-21"}, "calling_hours"),
        ({"caller_id": "12345"}, "caller_id"),
        ({"retry": {"max_attempts": 0}}, "retry.max_attempts"),
        ({"surprise": 1}, "surprise"),
        ({"abandon_cap_pct": 50}, "abandon_cap_pct"),
        ({"trunk": "Bad Trunk"}, "trunk"),
        ({"identification_text": "line one\nline two"}, "identification_text"),
        ({"machine_message_text": "x" * 501}, "machine_message_text"),
    ],
)
def test_bad_documents_name_the_field(document: dict[str, object], named: str) -> None:
    with pytest.raises(CampaignSettingsError) as caught:
        load_settings(document, source="campaign x")
    assert f"campaign x: {named}:" in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+1 (212) 555-0100", "US", "+12125550100"),
        ("212.555.0100", "US", "+12125550100"),
        ("0044 20 7946 0000", "US", "+442079460000"),
        ("020 7946 0000", "GB", "+442079460000"),
        (" +33 1 42 68 53 00 ", "US", "+33142685300"),
    ],
)
def test_numbers_are_normalised_to_e164(raw: str, region: str, e164: str) -> None:
    assert normalise(raw, region) == e164


@pytest.mark.parametrize("raw", ["", "abc", "555-0100", "+1 212 555 01000", "1" * 41, "+0 123"])
def test_bad_numbers_are_refused(raw: str) -> None:
    with pytest.raises(BadNumber):
        normalise(raw, "US")


def test_number_zones() -> None:
    assert zones_of("+12125550100").zones == ("America/New_York",)
    assert zones_of("+442079460000").country == "GB"
    assert zones_of("junk").zones == ()
