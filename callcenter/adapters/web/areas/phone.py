"""The desktop's browser phone ([sip] webrtc, [sip.agents.NAME] webrtc).

- ``GET /vendor/jssip.min.js``: JsSIP, installed from the npm registry by
  deploy/setup.sh (a pinned release with a browser bundle, no build step) and
  served from the console's own origin, so the page's CSP needs no other script host.
- ``GET /api/desktop/phone``: what the panel registers with, to the logged-in agent
  only: the WebSocket address, the SIP user and the stored digest (HA1) with its
  realm. No password exists to hand over (the database keeps only the digest); the
  digest is still a credential for this realm, so it goes to its own agent's session,
  never cached, never stored by the page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from apiflask import APIBlueprint, abort
from flask import Response, request, send_file
from pydantic import BaseModel

from callcenter.adapters.pbx.webrtc import WS_PATH
from callcenter.adapters.web.auth import requester, requires
from callcenter.adapters.web.services import services
from callcenter.core.model import SipAccount
from callcenter.core.sip_auth import SIP_REALM
from callcenter.paths import VENDOR_DIR

JSSIP_VERSION = "3.12.0"  # the last release whose npm package ships dist/ (deploy/setup.sh)
JSSIP_FILE = VENDOR_DIR / "node_modules" / "jssip" / "dist" / "jssip.min.js"
# A host name or an IPv4/IPv6 address as the browser reached the console.
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$")

api = APIBlueprint("phone_api", __name__, url_prefix="/api/desktop", tag="Desktop")
pages = APIBlueprint("phone", __name__, enable_openapi=False)


class PhoneOut(BaseModel):
    enabled: bool
    ws_url: str = ""
    uri: str = ""
    username: str = ""
    realm: str = ""
    ha1: str = ""
    display_name: str = ""


def page_host() -> str:
    """The host part of the console's address as this request named it ('' if odd)."""
    given = request.host
    host = given[: given.find("]") + 1] if given.startswith("[") else given.split(":", 1)[0]
    return host if _HOST.fullmatch(host) else ""


def ws_url(port: int) -> str:
    """Asterisk's WebSocket on the host the page came from (one certificate for both)."""
    host = page_host()
    return f"wss://{host}:{port}{WS_PATH}" if host else ""


def connect_source(agent: str) -> dict[str, str]:
    """The CSP addition for a desktop page whose agent has a browser phone."""
    sip = services().sip
    url = ws_url(sip.webrtc_port)
    if not agent or not sip.webrtc_for(agent) or not url:
        return {}
    return {"connect-src": url.removesuffix(WS_PATH)}


def _account(agent: str) -> SipAccount | None:
    console = services()

    async def read() -> SipAccount | None:
        return console.directory.get(agent)

    return console.bridge.run(read())


@api.get("/phone")
@api.output(PhoneOut)
@api.doc(
    summary="The logged-in agent's browser phone: WebSocket address and SIP digest",
    description="Only to the agent's own session (never for another agent), never cached.",
    responses={400: "This user works as no agent"},
)
@requires("agent")
def phone() -> Any:
    agent = requester().agent
    if not agent:
        abort(400, "this user works as no agent")
    sip = services().sip
    account = _account(agent)
    url = ws_url(sip.webrtc_port)
    if account is None or not sip.webrtc_for(agent) or not url:
        out = PhoneOut(enabled=False)
    else:
        out = PhoneOut(
            enabled=True,
            ws_url=url,
            uri=f"sip:{account.username}@{page_host()}",
            username=account.username,
            realm=SIP_REALM,
            ha1=account.ha1,
            display_name=account.display_name,
        )
    return out.model_dump(), 200, {"Cache-Control": "no-store"}


@pages.get("/vendor/jssip.min.js")
def jssip() -> Response:
    path: Path = JSSIP_FILE
    if not path.is_file():
        abort(404, "JsSIP is not installed (deploy/setup.sh installs it)")
    return send_file(path, mimetype="text/javascript", max_age=3600)
