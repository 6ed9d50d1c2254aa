"""Render Kamailio's configuration from the product's settings.

Source: ``kamailio/kamailio.cfg`` (``@@NAME@@`` placeholders, as the Asterisk
templates) plus a generated ``dispatcher.list`` of the nodes: ``[kamailio] nodes``
when listed, else every ``[[pbx.nodes]]`` node's SIP address (the nodes written
once). Every value put in comes from the validated settings and is re-checked here
(addresses parsed as addresses, numbers as numbers): nothing reaches the file
unchecked.
"""

from __future__ import annotations

import glob
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from callcenter.adapters.pbx.render import RenderError, fill
from callcenter.config import NAME_PATTERN, KamailioNode, Settings
from callcenter.core.model import SipAccount
from callcenter.core.sip_auth import AGENT_HEADER, SIP_REALM, is_ha1
from callcenter.paths import KAMAILIO_TEMPLATES

CONFIG_NAME = "kamailio.cfg"
LIST_NAME = "dispatcher.list"
_NAME = re.compile(NAME_PATTERN)
MODULE_GLOBS = ("/usr/lib/*/kamailio/modules", "/usr/lib/kamailio/modules")


def module_dir() -> str:
    """Where Debian's package put Kamailio's modules."""
    for pattern in MODULE_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    raise RenderError("no Kamailio modules found (install the kamailio package)")


def _host(address: str) -> str:
    ip = ipaddress.ip_address(address)
    return f"[{ip}]" if ip.version == 6 else str(ip)


def node_uri(node: KamailioNode) -> str:
    return f"sip:{_host(node.address)}:{int(node.port)}"


def dispatcher_list(nodes: Iterable[KamailioNode], source: str = "[kamailio] nodes") -> str:
    """One line per node in set 1: ``setid destination flags priority``."""
    lines = [f"# generated from {source}: set 1 holds the Asterisk nodes"]
    seen: set[str] = set()
    for node in nodes:
        uri = node_uri(node)
        if uri in seen:
            raise RenderError(f"node {uri} is listed twice")
        seen.add(uri)
        lines.append(f"1 {uri} 0 0")
    if not seen:
        raise RenderError("no Asterisk node for Kamailio: list [[pbx.nodes]] or [kamailio] nodes")
    return "\n".join(lines) + "\n"


def source_test(networks: Iterable[str], none: str) -> str:
    """The script condition true for a request from one of ``networks``; ``none``
    when there is none."""
    tests = []
    for value in networks:
        network = ipaddress.ip_network(value, strict=False)
        tests.append(f'is_in_subnet("$si", "{network}")')
    return " || ".join(tests) if tests else none


def trunk_test(networks: Iterable[str]) -> str:
    """True for a request from one of the trunks' networks (none: nothing may call in)."""
    return source_test(networks, "0")


def phone_test(networks: Iterable[str]) -> str:
    """True for a registration from the phones' networks ([sip] agent_networks; none:
    from anywhere, the digest alone decides)."""
    return source_test(networks, "1")


AGENTS_TABLE = "agents"
# db_text's header: the columns htable reads (key type 0: a plain key; value type 0: text).
AGENTS_COLUMNS = "key_name(str) key_type(int) value_type(int) key_value(str) expires(int)"


def agents_table(accounts: Iterable[SipAccount]) -> str:
    """The agents' digest secrets as Kamailio's htable ``agents`` loads them (a db_text
    table: one ``agent:0:0:ha1:0`` line each), read at Kamailio's start; the
    controller changes the running table over Kamailio's RPC (process.publish_agents)."""
    lines = [AGENTS_COLUMNS]
    for account in sorted(accounts, key=lambda a: a.username):
        if not _NAME.fullmatch(account.username):
            raise RenderError(f"agent SIP username {account.username!r} must match {NAME_PATTERN}")
        if not is_ha1(account.ha1):
            raise RenderError(f"agent {account.username}: the SIP digest is not 32 hex digits")
        lines.append(f"{account.username}:0:0:{account.ha1.lower()}:0")
    return "\n".join(lines) + "\n"


# What a copied registration may last at a node: Asterisk's AORs refuse under 60 s
# (minimum_expiration); Kamailio's own bindings are capped at 3600 s (max_expires).
COPY_MIN_EXPIRES = 60
COPY_MAX_EXPIRES = 3600


def copy_registration_route(nodes: Iterable[KamailioNode], own: str) -> str:
    """The copies of the phones' registrations ([kamailio] phones): after a phone's
    binding is saved, route[COPY_REGISTRATION] sends the same REGISTER (its lifetime;
    0 removes it) to every node, from this proxy, contact ``sip:<agent>@<own>``: a
    node's Dial to the agent, and its qualify, come here and go on to wherever the
    phone is. The phones' expiry times are kept in htable ``phones``, so a node that
    comes back up (dispatcher:dst-up, route[RECOPY]) gets every live one at once
    rather than at each phone's next refresh. No nodes: routes that do nothing."""
    uris = [node_uri(node) for node in nodes]
    if not uris:
        return "route[COPY_REGISTRATION] {\n\treturn;\n}\n\nroute[RECOPY] {\n\treturn;\n}"
    lines = [
        "route[COPY_REGISTRATION] {",
        '\tif (!is_present_hf("Contact")) {',
        "\t\treturn;  # a query of the bindings: nothing to copy",
        "\t}",
        f"\t$var(expires) = {COPY_MAX_EXPIRES};",
        '\tif (is_present_hf("Expires")) {',
        "\t\t$var(expires) = $(hdr(Expires){s.int});",
        "\t}",
        '\tif ($(ct{tobody.params}{param.value,expires}) != "") {',
        "\t\t$var(expires) = $(ct{tobody.params}{param.value,expires}{s.int});",
        "\t}",
        '\tif ($ct == "*") {',
        "\t\t$var(expires) = 0;",
        "\t}",
        f"\tif ($var(expires) > {COPY_MAX_EXPIRES}) {{",
        f"\t\t$var(expires) = {COPY_MAX_EXPIRES};",
        "\t}",
        f"\tif ($var(expires) > 0 && $var(expires) < {COPY_MIN_EXPIRES}) {{",
        f"\t\t$var(expires) = {COPY_MIN_EXPIRES};",
        "\t}",
        "\t$var(agent) = $au;",
        "\tif ($var(expires) > 0) {",
        "\t\t$sht(phones=>$au) = $Ts + $var(expires);",
        "\t} else {",
        "\t\t$sht(phones=>$au) = $null;",
        "\t}",
    ]
    for uri in uris:
        lines += [f'\t$var(node) = "{uri}";', "\troute(COPY_TO_NODE);"]
    lines += [
        '\txlog("L_NOTICE", "registration of $au copied to the nodes ($var(expires) s)\\n");',
        "}",
        "",
        "# One copy: $var(agent)'s binding, $var(expires) seconds, to node $var(node).",
        "route[COPY_TO_NODE] {",
        '\t$uac_req(method) = "REGISTER";',
        "\t$uac_req(ruri) = $var(node);",
        f'\t$uac_req(furi) = "sip:kamailio@{own}";',
        f'\t$uac_req(turi) = "sip:" + $var(agent) + "@{own}";',
        f'\t$uac_req(hdrs) = "Contact: <sip:" + $var(agent) + "@{own}>\\r\\nExpires: " '
        '+ $var(expires) + "\\r\\n";',
        "\tuac_req_send();",
        "}",
        "",
        "# A node is up again (its copies died with it): every live binding to it now.",
        "route[RECOPY] {",
        "\t$var(node) = $ru;",
        "\t$var(count) = 0;",
        '\tsht_iterator_start("it", "phones");',
        '\twhile (sht_iterator_next("it")) {',
        "\t\t$var(agent) = $shtitkey(it);",
        "\t\t$var(expires) = $shtitval(it) - $Ts;",
        "\t\tif ($var(expires) > 0) {",
        f"\t\t\tif ($var(expires) < {COPY_MIN_EXPIRES}) {{",
        f"\t\t\t\t$var(expires) = {COPY_MIN_EXPIRES};",
        "\t\t\t}",
        "\t\t\troute(COPY_TO_NODE);",
        "\t\t\t$var(count) = $var(count) + 1;",
        "\t\t}",
        "\t}",
        '\tsht_iterator_end("it");',
        '\txlog("L_NOTICE", "$var(count) registrations copied to $var(node)\\n");',
        "}",
    ]
    return "\n".join(lines)


def from_phones(phones: bool, networks: Iterable[str]) -> str:
    """In route[FROMTRUNK], for a request from no trunk: a call from an agent's phone
    ([kamailio] phones; the phones' networks) goes to route[FROMPHONE]."""
    if not phones:
        return ""
    return "\n".join([f"\t\tif ({phone_test(networks)}) {{", "\t\t\troute(FROMPHONE);", "\t\t}"])


@dataclass(frozen=True, slots=True)
class KamailioLayout:
    """Kamailio's own folder under the state directory."""

    directory: Path

    @property
    def config(self) -> Path:
        return self.directory / CONFIG_NAME

    @property
    def dispatcher_list(self) -> Path:
        return self.directory / LIST_NAME

    @property
    def db_dir(self) -> Path:
        """db_text's folder: the agents' table."""
        return self.directory / "db"

    @property
    def agents_table(self) -> Path:
        return self.db_dir / AGENTS_TABLE

    @property
    def control_socket(self) -> Path:
        """The ctl module's RPC socket (kamcmd)."""
        return self.run_dir / "kamailio_ctl"

    @property
    def run_dir(self) -> Path:
        return self.directory / "run"

    @property
    def pid_file(self) -> Path:
        return self.directory / "kamailio.pid"

    @property
    def output_file(self) -> Path:
        return self.directory / "kamailio.out"


def render_config(
    settings: Settings, layout: KamailioLayout, modules: str, accounts: Iterable[SipAccount] = ()
) -> dict[Path, str]:
    """The files Kamailio runs on, by path: its script, its node list and the agents'
    digest secrets (written readable by Kamailio's group only)."""
    kam = settings.kamailio
    listen = f"{_host(kam.bind)}:{int(kam.port)}"
    family = ipaddress.ip_address(kam.bind).version
    nodes = settings.dispatcher_nodes()
    source = "[kamailio] nodes" if kam.nodes else "[[pbx.nodes]]"
    for node in nodes:
        if ipaddress.ip_address(node.address).version != family:
            # Kamailio would drop the node silently: it has no socket to reach it from.
            raise RenderError(
                f"node {node.address} is IPv{6 if family == 4 else 4} but [kamailio] bind "
                f"{kam.bind} is IPv{family}: Kamailio could not reach it"
            )
    values = {
        "CHILDREN": str(int(kam.children)),
        "LISTEN": listen,
        "MODULES": _plain(modules, "module folder"),
        "RUN_DIR": _plain(str(layout.run_dir), "state folder"),
        "DISPATCHER_LIST": _plain(str(layout.dispatcher_list), "state folder"),
        "PROBE_INTERVAL": str(int(kam.probe_interval)),
        "PROBE_THRESHOLD": str(int(kam.probe_threshold)),
        "FAILOVER_MS": str(int(kam.failover_ms)),
        "TRUNK_TEST": trunk_test(n for trunk in settings.trunks for n in trunk.match),
        "PHONE_TEST": phone_test(settings.sip.agent_networks),
        "REALM": SIP_REALM,
        "AGENTS_DB": _plain(str(layout.db_dir), "state folder"),
        "AGENT_HEADER": AGENT_HEADER,
        "COPY_REGISTRATION": copy_registration_route(nodes if kam.phones else (), listen),
        "FROM_PHONES": from_phones(kam.phones, settings.sip.agent_networks),
        "PHONES_EXPIRE": str(COPY_MAX_EXPIRES + 60),
    }
    template = (KAMAILIO_TEMPLATES / CONFIG_NAME).read_text(encoding="utf-8")
    return {
        layout.config: fill(template, values, CONFIG_NAME),
        layout.dispatcher_list: dispatcher_list(nodes, source),
        layout.agents_table: agents_table(accounts),
    }


def _plain(value: str, what: str) -> str:
    """A path put between double quotes in the script: no quote, no newline, no
    backslash, no script variable marker."""
    if any(ch in value for ch in '"\\\n\r$'):
        raise RenderError(f"the {what} {value!r} has characters Kamailio's script cannot hold")
    return value
