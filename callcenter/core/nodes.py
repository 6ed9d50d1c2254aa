"""Several Asterisk nodes ([[pbx.nodes]]): which node a call's agent is on.

A caller on node A put through to an agent whose phone is on node B is rung over
the inter-node trunk ``node-B`` (dialplan/queue.conf, cc-connect): the agent's leg
the caller's node sees is that trunk's channel, ``PJSIP/node-B-0000002a``.
"""

from __future__ import annotations

from callcenter.core.channels import endpoint_of

TRUNK_PREFIX = "node-"


def agent_node(call_node: str, agent_channel: str) -> str:
    """The node the agent's phone is on: the trunk's far node, else the caller's."""
    endpoint = endpoint_of(agent_channel) or ""
    if call_node and endpoint.startswith(TRUNK_PREFIX):
        return endpoint.removeprefix(TRUNK_PREFIX)
    return call_node
