"""URL templates for self-service data dips: ``http://crm/balance/{account}``.

Placeholders name data keys (or ``caller``) and may only appear in the path
and query, so no caller input can choose the host a request goes to.
Substituted values are percent-encoded with nothing left safe, so a value
cannot add path segments or query parameters either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, urlsplit

CALLER = "caller"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def placeholders(template: str) -> list[str]:
    """The names inside braces; ValueError for anything a reader could misread."""
    bare = _PLACEHOLDER.sub("", template)
    if "{" in bare or "}" in bare:
        raise ValueError(f"unbalanced braces in URL {template!r}")
    if any(ch.isspace() for ch in template):
        raise ValueError(f"URL {template!r} contains white space")
    names = _PLACEHOLDER.findall(template)
    if "" in names:
        raise ValueError(f"empty placeholder '{{}}' in URL {template!r}")
    return names


def check_url(template: str) -> str:
    """Validate the fixed parts of a template (scheme, host, placeholder places)."""
    placeholders(template)
    first = template.find("{")
    fixed_text = template if first < 0 else template[:first]
    fixed = urlsplit(fixed_text)
    if fixed.scheme not in ("http", "https") or not fixed_text.startswith(f"{fixed.scheme}://"):
        raise ValueError(f"URL {template!r} must start with http:// or https://")
    after_host = fixed_text[len(f"{fixed.scheme}://{fixed.netloc}") :]
    if not fixed.netloc or (first >= 0 and after_host[:1] not in ("/", "?")):
        raise ValueError(
            f"URL {template!r}: placeholders may only appear after the host, "
            "in the path or the query"
        )
    return template


def render(template: str, value_of: Callable[[str], str | None]) -> str | None:
    """Fill the placeholders; None when one of them has no value."""
    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        value = value_of(match.group(1))
        if value is None:
            missing = True
            return ""
        return quote(value, safe="")

    url = _PLACEHOLDER.sub(substitute, template)
    return None if missing else url
