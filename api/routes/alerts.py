"""Alerts: scoped list, acknowledge and resolve (audited through the alert store)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from psycopg.rows import dict_row
from pydantic import Field

from brightwatch.api.auth import Principal
from brightwatch.api.deps import Caller, Conn, ReadConn, not_found, require
from brightwatch.api.errors import AUTHENTICATED, WITH_BODY, errors
from brightwatch.api.inputs import Body
from brightwatch.api.responses import Served
from brightwatch.api.scope import alert_scope
from brightwatch.api.transactions import in_transaction
from brightwatch.contract.ids import ID_PATTERN

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=AUTHENTICATED)
Actor = Annotated[Principal, Depends(require("admin", "supervisor"))]

ALERT_FIELDS = (
    "a.id, a.kind, a.code, a.severity, a.state, a.device_id, a.site_id, a.started_at,"
    " a.updated_at, a.resolved_at, a.resolved_by, a.acknowledged_at, a.acknowledged_by,"
    " a.count, a.summary, a.evidence_url, a.labels, a.summaries"
)


class ActionBody(Body):
    note: str | None = Field(None, max_length=2000)


class Alert(Served):
    id: int
    kind: str
    code: str
    severity: str
    state: str
    device_id: str
    site_id: str | None
    started_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    count: int
    summary: str = Field(description="In the deployment's language (BW_LOCALE).")
    evidence_url: str | None
    labels: dict[str, Any]
    summaries: dict[str, str] = Field(
        default_factory=dict,
        description='The summary in every language of the catalogue ({"zh-CN": ..., "en": ...}), where the rule wrote it so; {} otherwise: read `summary`.',
    )


class AlertPage(Served):
    items: list[Alert]
    next_before_id: int | None


class AlertAction(Served):
    """The alert after the action."""

    id: int
    state: str
    acknowledged_by: str | None
    resolved_by: str | None
    updated_at: datetime


@router.get("", response_model=AlertPage)
def list_alerts(
    conn: ReadConn,
    who: Caller,
    kind: Annotated[str | None, Query(pattern="^(elevator|kitchen)$")] = None,
    device_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    site_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    code: Annotated[str | None, Query(pattern="^[A-Z0-9_]{1,64}$")] = None,
    state: Annotated[str | None, Query(pattern="^(firing|acknowledged|resolved|open)$")] = None,
    since: datetime | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    cond, params = alert_scope(who)
    where = [cond]
    for column, value in (
        ("kind", kind),
        ("device_id", device_id),
        ("site_id", site_id),
        ("code", code),
    ):
        if value:
            where.append(f"a.{column} = %s")
            params.append(value)
    if state == "open":
        where.append("a.state <> 'resolved'")
    elif state:
        where.append("a.state = %s")
        params.append(state)
    if since:
        where.append("a.started_at >= %s")
        params.append(since)
    if before_id:
        where.append("a.id < %s")
        params.append(before_id)
    sql = (
        f"SELECT {ALERT_FIELDS} FROM alert a WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY a.id DESC LIMIT %s"
    )
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql, [*params, limit]).fetchall()
    return {"items": rows, "next_before_id": rows[-1]["id"] if len(rows) == limit else None}


AlertId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/{alert_id:int}", response_model=Alert, responses=errors(404))
def get_alert(alert_id: AlertId, conn: ReadConn, who: Caller) -> dict[str, Any]:
    """One alert as the list shows it (an integration holding the `id` of an alert message
    reads its state now); 404 when it does not exist or lies outside the caller's scope."""
    cond, params = alert_scope(who)
    sql = f"SELECT {ALERT_FIELDS} FROM alert a WHERE a.id = %s AND {cond}"  # noqa: S608
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(sql, [alert_id, *params]).fetchone()
    if row is None:
        raise not_found()
    return row


def _act(
    request: Request,
    conn: Conn,
    who: Principal,
    alert_id: int,
    body: ActionBody | None,
    action: str,
) -> dict[str, Any]:
    store = request.app.state.parts.alert_store
    note = body.note if body else None
    step = store.acknowledge if action == "ack" else store.resolve
    change = in_transaction(conn, lambda: step(conn, alert_id, who.actor, note))
    a = change.alert
    return {
        "id": a.id,
        "state": a.state.value,
        "acknowledged_by": a.acknowledged_by,
        "resolved_by": a.resolved_by,
        "updated_at": a.updated_at,
    }


ACTION_RESPONSES = {**WITH_BODY, **errors(404, 409)}


@router.post("/{alert_id}/ack", response_model=AlertAction, responses=ACTION_RESPONSES)
def ack(
    request: Request, alert_id: AlertId, conn: Conn, who: Actor, body: ActionBody | None = None
) -> dict[str, Any]:
    return _act(request, conn, who, alert_id, body, "ack")


@router.post("/{alert_id}/resolve", response_model=AlertAction, responses=ACTION_RESPONSES)
def resolve(
    request: Request, alert_id: AlertId, conn: Conn, who: Actor, body: ActionBody | None = None
) -> dict[str, Any]:
    return _act(request, conn, who, alert_id, body, "resolve")
