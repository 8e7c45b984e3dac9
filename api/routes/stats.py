"""Statistics. Elevator part: rescue arrival against the 30-min SLA, faults per 1,000
runs, on-time maintenance (definitions: alerts.stats.elevators); firms see their own.
Kitchen part: per kitchen, district and city (definitions and the hygiene
score's formula: alerts.stats), the red/black list, review speed. Operators see their own
kitchen's figures only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import Field

from brightwatch.alerts.stats import elevators as elevator_queries
from brightwatch.alerts.stats import queries
from brightwatch.api.auth import Principal
from brightwatch.api.deps import Conn, not_found, require
from brightwatch.api.errors import AUTHENTICATED, errors
from brightwatch.api.inputs import NO_NUL
from brightwatch.api.responses import Served
from brightwatch.api.scope import elevator_stats_firm, kitchen_stats_site, stats_district
from brightwatch.contract.ids import ID_PATTERN

router = APIRouter(
    prefix="/api/v1/stats", tags=["stats"], responses={**AUTHENTICATED, **errors(404)}
)
Supervisor = Annotated[Principal, Depends(require("admin", "supervisor"))]
Reader = Annotated[Principal, Depends(require("admin", "supervisor", "operator"))]
LONGEST = timedelta(days=400)


class Figures(Served):
    """Figures as alerts.stats computes them (definitions there); counts are JSON
    integers, hours and rates JSON numbers. `hygiene_score` is null ("no data") for a
    kitchen observed less than the `min_observed_hours` setting."""

    false_positive_rate_by_code: dict[str, Any]


class KitchenFigures(Figures):
    site_id: str
    name: str
    district: str
    kitchen_type: str
    hygiene_score: float | None
    graded: bool
    streaming: bool
    red_list: bool
    black_list: bool
    black_list_reasons: list[str]


class DistrictFigures(Figures):
    district: str
    kitchens: int


class CityFigures(Figures):
    city: str
    kitchens: int


class KitchenStats(Served):
    level: str
    since: datetime
    until: datetime
    items: list[KitchenFigures | DistrictFigures | CityFigures]


class ListedKitchen(Served):
    site_id: str
    name: str
    district: str
    hygiene_score: float | None


class BlackListed(ListedKitchen):
    reasons: list[str]


class KitchenLists(Served):
    since: datetime
    until: datetime
    red_list: list[ListedKitchen]
    black_list: list[BlackListed]


class Coverage(Served):
    registered: int
    covered: int
    coverage_rate: float | None = Field(description="covered / registered; null without kitchens")


class DistrictCoverage(Coverage):
    district: str


class KitchenCoverage(Coverage):
    """Bright-kitchen coverage: registered kitchens, and those covered (streamed in the
    window with a camera online rate in operating hours of at least the
    `coverage_min_online_rate` setting); per kitchen type (all six types, a kitchen
    without one counted as `other`) and per district."""

    since: datetime
    until: datetime
    district: str | None
    min_online_rate: float
    by_type: dict[str, Coverage]
    by_district: list[DistrictCoverage]


class ReviewSpeed(Served):
    since: datetime
    until: datetime
    decisions: int
    timed: int
    median_seconds: float | None
    p90_seconds: float | None


class ElevatorFigures(Served):
    """Per elevator, district, firm or the city (the key named like the level):
    rescues, arrival minutes, faults per 1,000 runs, on-time maintenance (definitions in
    alerts.stats.elevators)."""


class ElevatorStats(Served):
    level: str
    since: datetime
    until: datetime
    rescue_sla_minutes: float
    items: list[ElevatorFigures]


def _window(request: Request, since: datetime | None, until: datetime | None) -> queries.Window:
    parts = request.app.state.parts
    now = parts.clock()
    until = until or now
    for name, t in (("since", since), ("until", until)):
        if t is not None and t.tzinfo is None:
            raise HTTPException(422, f"{name} must carry a time zone (e.g. 2026-11-01T00:00:00Z)")
    if since is None:
        # whole UTC days by default: they come from the daily rollup
        try:
            since = queries.default_window(until, parts.settings.alerts.stats).since
        except OverflowError:
            raise HTTPException(
                422, "until is too early for a default window; give since"
            ) from None
    if since >= until:
        raise HTTPException(422, "since must be before until")
    if until - since > LONGEST:
        raise HTTPException(422, "a window covers at most 400 days")
    return queries.Window(since, until, now)


@router.get("/kitchens", response_model=KitchenStats)
def kitchen_stats(
    request: Request,
    conn: Conn,
    who: Reader,
    level: Annotated[Literal["kitchen", "district", "city"], Query()] = "kitchen",
    since: datetime | None = None,
    until: datetime | None = None,
    district: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
    site_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> dict[str, Any]:
    """Confirmed violations per 1,000 camera-hours, false-positive rate per code, on-time
    rectification rate, mean time to close, camera online rate in operating hours,
    coverage (district, city), hygiene score and list membership. Figures are computed
    in SQL; see the definitions in the project's alerts.stats module."""
    window = _window(request, since, until)
    settings = request.app.state.parts.settings.alerts.stats
    site_id = kitchen_stats_site(who, level, site_id)
    district = stats_district(who, district)
    items = queries.kitchen_stats(conn, window, settings, level, site_id=site_id, district=district)
    if site_id is not None and not items:
        raise not_found()
    return {"level": level, "since": window.since, "until": window.until, "items": items}


@router.get("/kitchen-lists", response_model=KitchenLists)
def kitchen_lists(
    request: Request,
    conn: Conn,
    who: Supervisor,
    since: datetime | None = None,
    until: datetime | None = None,
    district: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
) -> dict[str, Any]:
    """The red (honour, 红榜) and black (黑榜) lists, best and worst first."""
    window = _window(request, since, until)
    settings = request.app.state.parts.settings.alerts.stats
    district = stats_district(who, district)
    rows = queries.kitchen_stats(conn, window, settings, "kitchen", district=district)
    keep = ("site_id", "name", "district", "hygiene_score", "online_rate", "confirmed", "red_cards")
    red = sorted(
        (r for r in rows if r["red_list"]), key=lambda r: (-r["hygiene_score"], r["site_id"])
    )
    # worst first; kitchens without a score ("no data") after the scored ones
    black = sorted(
        (r for r in rows if r["black_list"]),
        key=lambda r: (r["hygiene_score"] is None, r["hygiene_score"] or 0, r["site_id"]),
    )
    return {
        "since": window.since,
        "until": window.until,
        "red_list": [{k: r[k] for k in keep} for r in red],
        "black_list": [
            {**{k: r[k] for k in keep}, "reasons": r["black_list_reasons"]} for r in black
        ],
    }


@router.get("/kitchens/coverage", response_model=KitchenCoverage)
def kitchen_coverage(
    request: Request,
    conn: Conn,
    who: Supervisor,
    since: datetime | None = None,
    until: datetime | None = None,
    district: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
) -> dict[str, Any]:
    """Bright-kitchen coverage (the bureau's target: >= 90 % of kitchens; every school
    canteen): registered kitchens, covered ones and the rate, in all, per kitchen type
    and per district."""
    window = _window(request, since, until)
    settings = request.app.state.parts.settings.alerts.stats
    district = stats_district(who, district)
    figures = queries.kitchen_coverage(conn, window, settings, district=district)
    return {
        "since": window.since,
        "until": window.until,
        "district": district,
        "min_online_rate": settings.coverage_min_online_rate,
        **figures,
    }


@router.get("/reviews", response_model=ReviewSpeed)
def review_speed(
    request: Request,
    conn: Conn,
    who: Supervisor,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Median and 90th percentile seconds per review decision (kitchens.md: under 3 s)."""
    window = _window(request, since, until)
    return {"since": window.since, "until": window.until, **queries.decision_times(conn, window)}


@router.get("/elevators", response_model=ElevatorStats)
def elevator_stats(
    request: Request,
    conn: Conn,
    who: Annotated[Principal, Depends(require("admin", "supervisor", "firm"))],
    level: Annotated[Literal["elevator", "district", "firm", "city"], Query()] = "district",
    since: datetime | None = None,
    until: datetime | None = None,
    district: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
    firm_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    elevator_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> dict[str, Any]:
    """Per elevator, district, firm or the city: rescue arrival minutes (median, p90) and
    the share within the rescue SLA (30 min), faults (P1/P2) per 1,000 runs, on-time
    maintenance rate. Computed in SQL; definitions in the project's
    alerts.stats.elevators module. A firm token sees its own elevators and tickets."""
    window = _window(request, since, until)
    firm_id = elevator_stats_firm(who, firm_id)
    district = stats_district(who, district)
    tickets = request.app.state.parts.settings.alerts.tickets
    items = elevator_queries.elevator_stats(
        conn,
        window.since,
        window.until,
        window.now,
        level,
        tickets.rescue.arrived_s or 1800,
        elevator_queries.Scope(firm_id=firm_id, district=district, elevator_id=elevator_id),
    )
    return {
        "level": level,
        "since": window.since,
        "until": window.until,
        "rescue_sla_minutes": (tickets.rescue.arrived_s or 1800) / 60,
        "items": items,
    }
