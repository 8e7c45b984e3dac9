"""GET /healthz and GET /metrics.

/healthz shows the whole system: the database and the broker as this process sees them,
and every component of every replica, from the heartbeat rows each process writes
(the shell's brightwatch.health, handed in as `parts.system_health`) with this process's own components judged live. A stuck component
(failing, or work waiting and no good batch, for longer than the `[health]` thresholds)
or a silent one (no heartbeat) makes it 503 with `detail` naming it. `?scope=process`
answers for this process alone: the API container's own health check, which must not
fail (and restart the API) because another process is stuck.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from pydantic import BaseModel, ConfigDict, Field

from brightwatch.db import heartbeat
from brightwatch.db.heartbeat import Heartbeat

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)

State = Literal["ok", "stuck", "silent"]


class ReplicaHealth(BaseModel):
    component: str = Field(
        description="Progress source: `ingest`, `elevators`, `alerts.outbox`, ..."
    )
    replica: str = Field(description="The process's BW_INSTANCE")
    host: str
    pid: int
    state: State = Field(
        description="stuck: failing, or work waiting and no good batch, for too long; silent: no heartbeat"
    )
    reason: str | None = None
    last_good_at: datetime | None = Field(None, description="The last good batch or loop pass")
    backlog: int = Field(description="Work received and not yet done")
    consecutive_failures: int
    heartbeat_age_s: float = Field(description="0 for this process's own components")


class Health(BaseModel):
    """`status`, `db`, `mqtt` always; `components` (worst state per component) and
    `replicas` when components report; `detail` naming what is wrong on 503. Other
    probes of the process appear as extra keys (`ok` or `unavailable`)."""

    model_config = ConfigDict(extra="allow")

    status: Literal["ok", "degraded"]
    db: Literal["ok", "unavailable"]
    mqtt: Literal["ok", "unavailable", "unused"]
    components: dict[str, State] | None = None
    replicas: list[ReplicaHealth] | None = None
    detail: str | None = Field(None, description="What is wrong (503 only)")


@router.get(
    "/healthz",
    response_model=Health,
    responses={
        503: {
            "model": Health,
            "description": "The database or the broker is unavailable, or a component is stuck or silent (named in `detail`)",
        }
    },
)
def healthz(
    request: Request,
    scope: Annotated[
        Literal["system", "process"],
        Query(
            description="system: every replica's heartbeat; process: this process alone (its container's health check)"
        ),
    ] = "system",
) -> JSONResponse:
    """`{"status": "ok", "db": "ok", "mqtt": "ok", ...}`; 503 naming the failing part or
    the stuck component otherwise."""
    health = request.app.state.parts.system_health
    rows: list[Heartbeat] = []
    try:
        with request.app.state.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
            if scope == "system":
                rows = heartbeat.read(conn)
        db = "ok"
    except Exception as exc:
        log.warning("health: database: %s", type(exc).__name__)
        db = "unavailable"
    parts = {"db": db, **health.probes(request.app.state.mqtt_probe)}
    replicas = health.system(rows) if scope == "system" else health.own()
    status, body = health.report(parts, replicas)
    return JSONResponse(body, status_code=status)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    request.app.state.parts.system_health.own()  # fresh component gauges
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    """This process's registry; under several API workers (`brightwatch serve`, Prometheus
    multiprocess mode: PROMETHEUS_MULTIPROC_DIR), every worker's metrics, counters summed."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path)
    return registry
