"""The agent desktop's site settings: pause reasons, disposition codes, CRM hooks.

Kept in the site settings, one JSON object per key (services/repositories.py's
SiteSettings stores objects, so the lists are wrapped):

    "pause_reasons": {"reasons": ["break", "lunch", ...]}
    "dispositions":  {"codes": [{"code": "resolved", "label": "Resolved"}, ...]}
    "crm":           {"screen_pop_url": "https://crm.example/c?phone={caller}",
                      "webhooks": [{"url": "https://crm.example/hook", "secret": "..."}]}

Everything is validated (pydantic) before anything is written, and the three
keys are written in one transaction: a bad document never reaches the table
and a good one never lands half-way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from callcenter.core.ivr import template
from callcenter.core.pause_reasons import DEFAULT_PAUSE_REASONS
from callcenter.services.repositories import SiteSettings

log = logging.getLogger(__name__)

PAUSE_KEY, DISPOSITIONS_KEY, CRM_KEY = "pause_reasons", "dispositions", "crm"

# What the screen-pop URL may carry about the call, and nothing else.
POP_PLACEHOLDERS = frozenset(
    {"caller", "call_id", "queue", "customer_account", "customer_id", "dialled"}
)
DEFAULT_DISPOSITIONS = (
    ("resolved", "Resolved"),
    ("follow-up", "Follow-up needed"),
    ("escalated", "Escalated"),
    ("information", "Information given"),
    ("complaint", "Complaint"),
    ("wrong-number", "Wrong number"),
)


def check_pop_template(value: str) -> str:
    """Refuse a screen-pop URL that is not http(s), or names an unknown placeholder."""
    if not value:
        return value
    template.check_url(value)  # scheme, a fixed host, placeholders only in path/query
    unknown = sorted(set(template.placeholders(value)) - POP_PLACEHOLDERS)
    if unknown:
        known = ", ".join("{" + name + "}" for name in sorted(POP_PLACEHOLDERS))
        raise ValueError(f"unknown placeholder(s) {unknown} in {value!r}; known: {known}")
    return value


def render_pop_url(url_template: str, values: Mapping[str, str]) -> str | None:
    """The screen-pop link for one call; every value percent-encoded; None if unset."""
    if not url_template:
        return None
    return template.render(url_template, lambda name: values.get(name) or "")


def _check_webhook_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"webhook URL {value!r} must be http:// or https:// with a host")
    if any(ch.isspace() for ch in value):
        raise ValueError(f"webhook URL {value!r} contains white space")
    return value


def _unique(values: list[str], what: str) -> None:
    seen = {v for v in values if values.count(v) > 1}
    if seen:
        raise ValueError(f"duplicate {what}: {sorted(seen)}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Disposition(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    label: str = Field(min_length=1, max_length=60)


class Webhook(_Strict):
    url: Annotated[str, Field(max_length=500), AfterValidator(_check_webhook_url)]
    # Signs every delivery (HMAC-SHA256); long enough not to be guessed.
    secret: str = Field(min_length=16, max_length=200)


class CrmSettings(_Strict):
    screen_pop_url: Annotated[str, Field(max_length=500), AfterValidator(check_pop_template)] = ""
    webhooks: list[Webhook] = Field(default_factory=list, max_length=10)

    def model_post_init(self, context: Any) -> None:
        _unique([hook.url for hook in self.webhooks], "webhook URLs")


# The same alphabet /api/agents/<agent>/state accepts for a pause reason.
PauseReason = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9 _-]{0,31}$")]


class DesktopSettings(_Strict):
    pause_reasons: list[PauseReason] = Field(
        default_factory=lambda: list(DEFAULT_PAUSE_REASONS), min_length=1, max_length=30
    )
    dispositions: list[Disposition] = Field(
        default_factory=lambda: [Disposition(code=c, label=t) for c, t in DEFAULT_DISPOSITIONS],
        min_length=1,
        max_length=100,
    )
    crm: CrmSettings = CrmSettings()

    def model_post_init(self, context: Any) -> None:
        _unique(self.pause_reasons, "pause reasons")
        _unique([d.code for d in self.dispositions], "disposition codes")

    def label_of(self, code: str) -> str:
        return next((d.label for d in self.dispositions if d.code == code), code)

    def knows(self, code: str) -> bool:
        return any(d.code == code for d in self.dispositions)


def merge_webhooks(wanted: list[Mapping[str, str]], old: list[Webhook]) -> list[dict[str, str]]:
    """Webhooks from an edit where a blank secret means "keep this URL's secret".

    The API never shows secrets back, so an administrator editing the list
    sends blank secrets for the hooks they did not mean to re-key.
    """
    secrets = {hook.url: hook.secret for hook in old}
    merged = []
    for hook in wanted:
        url, secret = str(hook.get("url", "")), str(hook.get("secret", "") or "")
        merged.append({"url": url, "secret": secret or secrets.get(url, "")})
    return merged


Listener = Callable[[DesktopSettings], None]


class DesktopSettingsStore:
    """The settings as last loaded or saved, and the one way to change them."""

    def __init__(self, storage: SiteSettings) -> None:
        self._storage = storage
        self._current = DesktopSettings()
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()  # one save at a time (console threads)

    @property
    def current(self) -> DesktopSettings:
        # Replaced whole, never mutated: readers on any thread see one version.
        return self._current

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def load(self) -> DesktopSettings:
        """Read the stored settings; a document that no longer validates is logged
        and replaced by the defaults for its part (the desktop keeps working)."""
        stored = self._storage.get_many((PAUSE_KEY, DISPOSITIONS_KEY, CRM_KEY))
        self._set(self._parse(stored))
        return self._current

    def save(self, settings: DesktopSettings) -> DesktopSettings:
        with self._lock:
            self._storage.set_many(self._documents(settings))
        self._set(settings)
        return settings

    def _set(self, settings: DesktopSettings) -> None:
        self._current = settings
        for listener in self._listeners:
            listener(settings)

    @staticmethod
    def _documents(settings: DesktopSettings) -> dict[str, dict[str, Any]]:
        data = settings.model_dump()
        return {
            PAUSE_KEY: {"reasons": data["pause_reasons"]},
            DISPOSITIONS_KEY: {"codes": data["dispositions"]},
            CRM_KEY: data["crm"],
        }

    @staticmethod
    def _parse(stored: Mapping[str, Any]) -> DesktopSettings:
        def inner(key: str, wrapper: str) -> Any:
            value = stored[key]
            return value.get(wrapper) if wrapper and isinstance(value, dict) else value

        parts: dict[str, Any] = {}
        fields = {
            PAUSE_KEY: ("pause_reasons", "reasons"),
            DISPOSITIONS_KEY: ("dispositions", "codes"),
            CRM_KEY: ("crm", ""),
        }
        for key, (field, wrapper) in fields.items():
            if key not in stored:
                continue
            candidate = {field: inner(key, wrapper)}
            try:
                DesktopSettings.model_validate(candidate)
            except ValidationError as exc:
                log.error("site setting %r ignored (defaults used): %s", key, exc)
                continue
            parts.update(candidate)
        return DesktopSettings.model_validate(parts)
