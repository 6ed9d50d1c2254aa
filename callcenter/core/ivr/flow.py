"""The flow document: a named set of nodes, where to start, and business hours."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from callcenter.core.ivr.fields import Name, NodeName, StoreKey
from callcenter.core.ivr.nodes import Node, VerifyNode


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    description: str = ""
    start: NodeName
    hours: Name | None = None  # schedule name; when closed the call starts at closed_node
    closed_node: NodeName | None = None
    # Data keys the adapter sets before the IVR starts (e.g. "dnis"), so nodes
    # may read them without the load-time check calling them unknown.
    provided_keys: list[StoreKey] = []
    nodes: Annotated[dict[NodeName, Node], Field(min_length=1)]

    # Set by load_flow, not by the document.
    _warnings: tuple[str, ...] = PrivateAttr(default=())
    _source: str = PrivateAttr(default="")

    @property
    def warnings(self) -> tuple[str, ...]:
        return self._warnings

    @property
    def source(self) -> str:
        return self._source

    def secret_fields(self) -> frozenset[str]:
        """Record fields a verify node compares: never stored in the call's data."""
        return frozenset(n.field for n in self.nodes.values() if isinstance(n, VerifyNode))
