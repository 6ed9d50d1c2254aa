"""GET /api/health: is the controller up, talking to Asterisk, keeping its call records.

Public (no login: monitoring probes call it), so it says nothing secret: the
records' last error is the writer's short line (adapters/db/failures.py).
Calls are routed from memory whatever the database does; ``records`` says
whether their records are being written or wait for the database.
"""

from __future__ import annotations

from apiflask import APIBlueprint
from pydantic import BaseModel, Field

from callcenter.adapters.web.services import services
from callcenter.services.console.wallboard_snapshot import RecordsOut

api = APIBlueprint("health", __name__, url_prefix="/api", tag="Health")


class HealthOut(BaseModel):
    ami: bool = Field(description="the controller's AMI link to Asterisk is up (some node's)")
    nodes: dict[str, bool] = Field(
        default_factory=dict,
        description="with several Asterisk nodes: each node's AMI link up or not",
    )
    calls: int = Field(description="calls the controller follows now")
    records: RecordsOut = Field(description="whether the call records keep up (the database)")


@api.get("/health")
@api.output(HealthOut)
@api.doc(summary="Is the controller up, talking to Asterisk, writing its records (no login)")
def health() -> HealthOut:
    console = services()
    return HealthOut(
        ami=console.ami_connected(),
        nodes=console.pbx_nodes(),
        calls=console.bridge.call(lambda: len(console.calls)),
        records=RecordsOut.of(console.records()),
    )
