"""Asterisk's side of the browser phone ([sip] webrtc, [sip.agents.NAME] webrtc).

The desktop's phone panel speaks SIP over a secure WebSocket (``wss://HOST:PORT/ws``)
to Asterisk's own HTTPS server (http.conf), which presents the console's certificate
(copied into the PBX folder's ``lib/keys``); media is DTLS-SRTP (the endpoints'
``webrtc = yes``, render.py). With no browser agent the HTTP server stays off.
"""

from __future__ import annotations

from callcenter.config import SipSettings

WEBRTC_CERT = "webrtc.crt"
WEBRTC_KEY = "webrtc.key"
WS_PATH = "/ws"  # res_http_websocket's path for SIP


def plain_port(sip: SipSettings) -> int:
    return sip.webrtc_port + 1 if sip.webrtc_port < 65535 else sip.webrtc_port - 1


def http_conf(sip: SipSettings, keys_dir: str) -> str:
    """http.conf's [general] body: HTTPS only, on webrtc_port, or the server off."""
    if not sip.webrtc_used:
        return "enabled = no"
    return "\n".join(
        [
            "enabled = yes",
            # Asterisk starts no server without a plain HTTP address (and port 0 means
            # its default, 8088): loopback only, the port after webrtc_port, unused.
            "bindaddr = 127.0.0.1",
            f"bindport = {plain_port(sip)}",
            "enable_status = no",
            "tlsenable = yes",
            f"tlsbindaddr = {sip.bind}:{sip.webrtc_port}",
            f"tlscertfile = {keys_dir}/{WEBRTC_CERT}",
            f"tlsprivatekey = {keys_dir}/{WEBRTC_KEY}",
            "servername = callcenter",
            "enablestatic = no",
        ]
    )


def wss_transport(sip: SipSettings) -> str:
    """The PJSIP WebSocket transport (its address is http.conf's), or nothing."""
    if not sip.webrtc_used:
        return ""
    lines = ["[transport-wss]", "type = transport", "protocol = wss", f"bind = {sip.bind}"]
    if sip.external_address:
        lines.append(f"external_media_address = {sip.external_address}")
        lines.append(f"external_signaling_address = {sip.external_address}")
    return "\n".join(lines) + "\n"
