"""GET /healthz and GET /metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """`{"status": "ok", "db": "ok", "mqtt": "ok"}`; 503 naming the failing part otherwise."""
    parts: dict[str, str] = {}
    try:
        with request.app.state.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
        parts["db"] = "ok"
    except Exception as exc:
        log.warning("health: database: %s", type(exc).__name__)
        parts["db"] = "unavailable"
    probes = request.app.state.runtime.health
    mqtt_probes = {k: v for k, v in probes.items() if k.startswith("mqtt")}
    if mqtt_probes:
        parts["mqtt"] = "ok" if all(p() for p in mqtt_probes.values()) else "unavailable"
    else:
        parts["mqtt"] = "ok" if request.app.state.mqtt_probe() else "unavailable"
    for name, probe in probes.items():
        if not name.startswith("mqtt"):
            parts[name] = "ok" if probe() else "unavailable"
    healthy = all(v == "ok" for v in parts.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", **parts}, status_code=200 if healthy else 503
    )


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
