"""Several Asterisk nodes ([[pbx.nodes]]): which node a call's agent is on, and
which node a new outgoing call (a campaign's customer) is placed on.

A caller on node A put through to an agent whose phone is on node B is rung over
the inter-node trunk ``node-B`` (dialplan/queue.conf, cc-connect): the agent's leg
the caller's node sees is that trunk's channel, ``PJSIP/node-B-0000002a``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from callcenter.core.channels import endpoint_of

TRUNK_PREFIX = "node-"


def agent_node(call_node: str, agent_channel: str) -> str:
    """The node the agent's phone is on: the trunk's far node, else the caller's."""
    endpoint = endpoint_of(agent_channel) or ""
    if call_node and endpoint.startswith(TRUNK_PREFIX):
        return endpoint.removeprefix(TRUNK_PREFIX)
    return call_node


def pick_node(
    nodes: Sequence[str], up: Mapping[str, bool], load: Mapping[str, int], last: str = ""
) -> str:
    """The node a new outgoing call is placed on: of the nodes that are up, the one
    carrying the fewest calls; a tie goes round robin, to the first such node after
    ``last`` in ``nodes``'s order. '' when no node is up."""
    live = [node for node in nodes if up.get(node, False)]
    if not live:
        return ""
    start = nodes.index(last) + 1 if last in nodes else 0
    turn = {node: (nodes.index(node) - start) % len(nodes) for node in live}
    return min(live, key=lambda node: (load.get(node, 0), turn[node]))
