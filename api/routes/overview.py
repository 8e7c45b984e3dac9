"""The supervisor's overview view (`/console/views/overview`): the city at a glance, as a
server-rendered fragment like the console's other views, with the charts' data (texts
already translated) embedded as JSON for static/overview.js. Admins and supervisors
only: a firm or operator token gets 404, as for the review queue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from brightwatch.api.auth import Principal
from brightwatch.api.deps import Conn, require
from brightwatch.api.web import jinja, language
from brightwatch.api.web.overview import Window, charts, overview

router = APIRouter(include_in_schema=False)
Staff = Annotated[Principal, Depends(require("admin", "supervisor"))]
# kitchens.md: CAMERA_OFFLINE after 5 min without a frame (vision's offline_after_s)
CAMERA_WINDOW_S = 300.0


def window(request: Request, now: datetime, zone: str) -> Window:
    """The instant, zone and thresholds of this render, from the deployment's settings."""
    settings = request.app.state.parts.settings
    vision = getattr(settings, "vision", None)
    return Window(
        now=now,
        zone=zone,
        camera_window_s=float(getattr(vision, "offline_after_s", CAMERA_WINDOW_S)),
        rescue_arrival_s=float(settings.alerts.tickets.rescue.arrived_s or 1800),
    )


@router.get("/console/views/overview", response_class=HTMLResponse)
def overview_view(request: Request, conn: Conn, who: Staff) -> HTMLResponse:
    locale, zone = language.request_locale(request), language.request_zone(request)
    language.use(locale, zone)
    w = window(request, request.app.state.parts.clock(), zone)
    figures = overview(conn, who, w)
    context: dict[str, Any] = {
        "ov": figures,
        "charts": charts(figures, locale),
        "now": w.now,
        "sla_min": round(w.rescue_arrival_s / 60),
    }
    response = jinja.TemplateResponse(request, "views/overview.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response
