"""Desktop settings: validation, the screen-pop URL template, secrets kept.

(Their storage: tests/adapter/test_desktop_settings_store.py.)"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from callcenter.services.console.desktop_settings import (
    CrmSettings,
    DesktopSettings,
    Webhook,
    check_pop_template,
    merge_webhooks,
    render_pop_url,
)

SECRET = "s3cret-s3cret-s3cret"


@pytest.mark.parametrize(
    "template",
    [
        "https://crm.example/contacts?phone={caller}&account={customer_account}",
        "http://10.0.0.5:8080/pop/{call_id}/{queue}?id={customer_id}&to={dialled}",
        "https://crm.example/static",
        "",
    ],
)
def test_screen_pop_templates_accepted(template: str) -> None:
    assert check_pop_template(template) == template


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("javascript:alert(1)//{caller}", "http"),
        ("ftp://crm.example/{caller}", "http"),
        ("data:text/html,{caller}", "http"),
        ("https://crm.example/c?pin={pin}", "unknown placeholder"),
        ("https://crm.example/c?x={caller}&y={password}", "unknown placeholder"),
        ("https://{caller}.evil.example/", "after the host"),
        ("https://crm.example/c?x={caller", "braces"),
        ("https://crm.example/c x={caller}", "white space"),
    ],
)
def test_screen_pop_templates_refused(template: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_pop_template(template)
    with pytest.raises(ValidationError):
        CrmSettings(screen_pop_url=template)


def test_values_cannot_escape_their_place_in_the_url() -> None:
    url = render_pop_url(
        "https://crm.example/c/{caller}?a={customer_account}",
        {"caller": "../admin?x=1#", "customer_account": "a&b=c d"},
    )
    assert url == "https://crm.example/c/..%2Fadmin%3Fx%3D1%23?a=a%26b%3Dc%20d"
    assert render_pop_url("", {"caller": "1"}) is None


def test_defaults_are_sensible() -> None:
    settings = DesktopSettings()
    assert settings.pause_reasons == ["break", "lunch", "meeting", "training", "admin"]
    assert settings.knows("resolved") and not settings.knows("nope")
    assert settings.label_of("wrong-number") == "Wrong number"
    assert settings.crm.screen_pop_url == "" and settings.crm.webhooks == []


@pytest.mark.parametrize(
    "document",
    [
        {"pause_reasons": []},
        {"pause_reasons": ["Lunch!"]},
        {"pause_reasons": ["lunch", "lunch"]},
        {"dispositions": [{"code": "a", "label": "A"}, {"code": "a", "label": "B"}]},
        {"dispositions": [{"code": "Bad Code", "label": "x"}]},
        {"dispositions": [{"code": "ok", "label": ""}]},
        {"crm": {"webhooks": [{"url": "https://crm.example/h", "secret": "short"}]}},
        {"crm": {"webhooks": [{"url": "file:///etc/passwd", "secret": SECRET}]}},
        {"crm": {"webhooks": [{"url": "https:///nohost", "secret": SECRET}]}},
        {"crm": {"unknown": 1}},
        {
            "crm": {
                "webhooks": [
                    {"url": "https://crm.example/h", "secret": SECRET},
                    {"url": "https://crm.example/h", "secret": SECRET + "x"},
                ]
            }
        },
    ],
)
def test_bad_settings_are_refused(document: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DesktopSettings.model_validate(document)


def test_blank_secret_keeps_the_urls_secret() -> None:
    old = [Webhook(url="https://a.example/h", secret=SECRET)]
    merged = merge_webhooks(
        [{"url": "https://a.example/h", "secret": ""}, {"url": "https://b.example/h"}], old
    )
    assert merged == [
        {"url": "https://a.example/h", "secret": SECRET},
        {"url": "https://b.example/h", "secret": ""},  # a new hook still needs one
    ]
    with pytest.raises(ValidationError):
        CrmSettings.model_validate({"webhooks": merged})
