"""The IVR's self-service data dip: GET a URL that answers with a small JSON document.

urllib blocks, so the request runs in a worker thread, bounded twice: by the
socket timeout and by a deadline on the wait (a server that trickles bytes
never holds the caller longer than ``timeout`` and a little).
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
GRACE = 0.5  # s past the socket timeout before the wait itself gives up


async def fetch_json(url: str, timeout: float) -> object:
    """The JSON document at ``url``, or None without a usable answer (no connection,
    an HTTP error, too slow, too large, not JSON; logged)."""
    try:
        body = await asyncio.wait_for(asyncio.to_thread(_get, url, timeout), timeout + GRACE)
        document: object = json.loads(body)
    except (TimeoutError, OSError, ValueError, urllib.error.URLError) as exc:
        log.info("self-service fetch failed: %s", type(exc).__name__)
        return None
    return document


def _get(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data: bytes = response.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise ValueError("answer too large")
    return data
