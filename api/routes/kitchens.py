"""Kitchens: the registry's kitchen sites with their record (credit points, open cases,
cards, cameras online), and each kitchen's violations with their rectifications.
Supervisors see all; an operator sees its own site, and 404 for any other."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from psycopg.rows import dict_row

from brightwatch.alerts.review.workflow import CARD_ORDER, OPEN_CASE, CaseState
from brightwatch.api.auth import Principal
from brightwatch.api.deps import Conn, ReadConn, not_found, require
from brightwatch.api.errors import AUTHENTICATED, errors
from brightwatch.api.inputs import NO_NUL
from brightwatch.api.responses import Served
from brightwatch.api.routes.reviews import Desk, ReviewCase
from brightwatch.api.scope import kitchen_scope, may_see_kitchen, sees_confirmed_cases_only
from brightwatch.contract.ids import ID_PATTERN

router = APIRouter(
    prefix="/api/v1/kitchens", tags=["kitchens"], responses={**AUTHENTICATED, **errors(404)}
)
Reader = Annotated[Principal, Depends(require("admin", "supervisor", "operator"))]
SiteId = Annotated[str, Path(pattern=ID_PATTERN)]

# The open states written into the SQL, not bound: the partial index review_site_open
# (migration 0115) has them as its predicate, and PostgreSQL uses a partial index in a
# prepared statement's generic plan only when the query's condition is visibly the
# index's. Constants of the workflow, never input.
OPEN_STATES = ", ".join(f"'{state.value}'" for state in sorted(OPEN_CASE))

# Each figure reads the partial index that holds just its rows (migration 0115), so a
# kitchen's record costs a few index probes however long its history.
KITCHEN_SQL = """
SELECT s.site_id, s.name, s.operator, s.address, s.district, s.timezone, s.operating_hours,
       (SELECT count(*) FROM camera c WHERE c.site_id = s.site_id) AS cameras,
       (SELECT count(*) FROM device_presence p WHERE p.device_kind = 'camera'
            AND p.site_id = s.site_id AND p.availability = 'online') AS cameras_online,
       o.open_cases,
       (SELECT count(*) FROM review r WHERE r.site_id = s.site_id AND r.state = 'pending_review') AS pending_reviews,
       o.open_cards,
       (SELECT max(r.detected_at) FROM review r WHERE r.site_id = s.site_id AND r.decision = 'confirm')
            AS last_violation_at,
       %(start)s + COALESCE((SELECT sum(l.delta) FROM credit_ledger l WHERE l.site_id = s.site_id), 0)
            AS credit_points
FROM site s
CROSS JOIN LATERAL (
    SELECT count(*) AS open_cases,
           array_agg(DISTINCT r.card) FILTER (WHERE r.card IS NOT NULL) AS open_cards
    FROM review r WHERE r.site_id = s.site_id AND r.state IN ({open_states})) o
WHERE s.kind = 'kitchen' AND {where}
ORDER BY s.site_id
LIMIT %(limit)s
"""


class Kitchen(Served):
    """A kitchen site and its record: cameras, open cases and cards, credit points."""

    site_id: str
    name: str
    operator: str
    address: str
    district: str
    timezone: str
    operating_hours: list[Any]
    cameras: int
    cameras_online: int
    open_cases: int
    pending_reviews: int
    open_cards: list[str]
    last_violation_at: datetime | None
    credit_points: int


class KitchenPage(Served):
    items: list[Kitchen]
    next_after: str | None


class KitchenCamera(Served):
    camera_id: str
    name: str
    work_area: str | None
    is_public: bool
    availability: str | None
    last_seen: datetime | None


class CreditEntry(Served):
    at: datetime
    delta: int
    reason: str
    review_id: int | None
    actor: str


class KitchenDetail(Kitchen):
    cameras_detail: list[KitchenCamera]
    credit_ledger: list[CreditEntry]


class ViolationPage(Served):
    site_id: str
    items: list[ReviewCase]
    next_before_id: int | None


def _kitchens(conn: Conn, d: Desk, where: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    params = {**params, "start": d.settings.credit_start}
    with conn.cursor(row_factory=dict_row) as cur:
        sql = KITCHEN_SQL.format(open_states=OPEN_STATES, where=where)
        rows = cur.execute(sql, params).fetchall()
    for row in rows:
        row["credit_points"] = max(0, int(row["credit_points"]))
        row["open_cards"] = sorted(row["open_cards"] or [], key=CARD_ORDER.index)
    return rows


@router.get("", response_model=KitchenPage)
def list_kitchens(
    conn: ReadConn,
    who: Reader,
    d: Desk,
    district: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
    after: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="page after this site_id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    cond, scope_params = kitchen_scope(who)
    where = [cond]
    params: dict[str, Any] = {**scope_params, "limit": limit}
    if district:
        where.append("s.district = %(district)s")
        params["district"] = district
    if after:
        where.append("s.site_id > %(after)s")
        params["after"] = after
    rows = _kitchens(conn, d, " AND ".join(where), params)
    return {"items": rows, "next_after": rows[-1]["site_id"] if len(rows) == limit else None}


def _in_scope(who: Principal, site_id: str) -> None:
    if not may_see_kitchen(who, site_id):
        raise not_found()


def _visible(conn: Conn, who: Principal, d: Desk, site_id: str) -> dict[str, Any]:
    _in_scope(who, site_id)
    rows = _kitchens(conn, d, "s.site_id = %(site)s", {"site": site_id, "limit": 1})
    if not rows:
        raise not_found()
    return rows[0]


@router.get("/{site_id}", response_model=KitchenDetail)
def get_kitchen(site_id: SiteId, conn: Conn, who: Reader, d: Desk) -> dict[str, Any]:
    kitchen = _visible(conn, who, d, site_id)
    with conn.cursor(row_factory=dict_row) as cur:
        kitchen["cameras_detail"] = cur.execute(
            "SELECT c.camera_id, c.name, c.work_area, c.is_public, p.availability, p.last_seen"
            " FROM camera c LEFT JOIN device_presence p ON p.device_kind = 'camera'"
            " AND p.device_key = c.site_id || '/' || c.camera_id WHERE c.site_id = %s ORDER BY c.camera_id",
            (site_id,),
        ).fetchall()
        kitchen["credit_ledger"] = cur.execute(
            "SELECT at, delta, reason, review_id, actor FROM credit_ledger WHERE site_id = %s ORDER BY id DESC LIMIT 50",
            (site_id,),
        ).fetchall()
    return kitchen


@router.get("/{site_id}/violations", response_model=ViolationPage)
def kitchen_violations(
    site_id: SiteId,
    conn: Conn,
    who: Reader,
    d: Desk,
    state: Annotated[
        str | None,
        Query(pattern=f"^({'|'.join(CaseState)}|open)$"),
    ] = None,
    since: datetime | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Violations and their rectifications, newest first. Operators see confirmed cases
    only (not the unreviewed detections, not the dismissed false positives)."""
    _in_scope(who, site_id)
    if not conn.execute(
        "SELECT 1 FROM site WHERE site_id = %s AND kind = 'kitchen'", (site_id,)
    ).fetchone():
        raise not_found()
    items = d.violations(
        conn,
        site_id,
        operator=sees_confirmed_cases_only(who),
        state=state,
        since=since,
        before_id=before_id,
        limit=limit,
    )
    return {
        "site_id": site_id,
        "items": items,
        "next_before_id": items[-1]["id"] if len(items) == limit else None,
    }
