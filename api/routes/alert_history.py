"""The alert history: every change and action (who, when, what) per alert and across
alerts, and the notifications sent with the state of their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from psycopg.rows import dict_row
from pydantic import Field, field_validator

from brightwatch.alerts import history as audit
from brightwatch.api.auth import Principal
from brightwatch.api.deps import Caller, Conn, not_found, require
from brightwatch.api.errors import AUTHENTICATED, WITH_BODY, errors
from brightwatch.api.inputs import NO_NUL, Body
from brightwatch.api.responses import Served
from brightwatch.api.scope import alert_scope
from brightwatch.api.transactions import in_transaction

router = APIRouter(prefix="/api/v1", tags=["history"], responses={**AUTHENTICATED, **errors(404)})
Supervisor = Annotated[Principal, Depends(require("admin", "supervisor"))]
AlertId = Annotated[int, Path(ge=1, le=2**62)]


class AlertEvent(Served):
    """One change or action on an alert."""

    id: int
    at: datetime
    action: str
    actor: str
    from_state: str | None
    to_state: str | None
    note: str | None
    details: dict[str, Any]


class AlertHistory(Served):
    alert_id: int
    items: list[AlertEvent]


class Delivery(Served):
    id: int
    channel: str
    target: str
    state: str
    attempts: int
    last_error: str | None
    delivered_at: str | None  # as PostgreSQL's json_build_object writes it


class Notification(Served):
    id: int
    created_at: datetime
    reason: str
    receiver: str
    group_key: str | None
    status: str
    alert_ids: list[int]
    deliveries: list[Delivery]


class AlertNotifications(Served):
    alert_id: int
    items: list[Notification]


class HistoryEvent(AlertEvent):
    """An alert event with the alert it belongs to."""

    alert_id: int
    kind: str
    code: str
    device_id: str
    site_id: str | None


class HistoryPage(Served):
    items: list[HistoryEvent]
    next_before_id: int | None


def _visible(conn: Conn, who: Principal, alert_id: int) -> None:
    cond, params = alert_scope(who)
    sql = f"SELECT 1 FROM alert a WHERE a.id = %s AND {cond}"  # noqa: S608
    row = conn.execute(sql, [alert_id, *params]).fetchone()
    if row is None:
        raise not_found()


@router.get("/alerts/{alert_id}/history", response_model=AlertHistory)
def alert_history(alert_id: AlertId, conn: Conn, who: Caller) -> dict[str, Any]:
    _visible(conn, who, alert_id)
    return {"alert_id": alert_id, "items": audit.events_of(conn, alert_id)}


class NoteBody(Body):
    note: str = Field(..., max_length=2000, description="What was done or found, as written.")

    @field_validator("note")
    @classmethod
    def _said_something(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a note needs words")
        return value.strip()


@router.post(
    "/alerts/{alert_id}/notes",
    status_code=201,
    response_model=AlertEvent,
    responses=WITH_BODY,
)
def add_note(
    alert_id: AlertId, body: NoteBody, request: Request, conn: Conn, who: Caller
) -> dict[str, Any]:
    """A note on an alert, by anyone who may see it (a supervisor's call to the firm, a
    firm's "technician on site", an operator's "trap set"): a line of its history
    (`noted`), nothing else changes. 404 outside the caller's scope."""
    _visible(conn, who, alert_id)
    now = request.app.state.parts.clock()
    line = in_transaction(conn, lambda: audit.add_note(conn, alert_id, who.actor, now, body.note))
    if line is None:  # gone since it was looked up
        raise not_found()
    return line


@router.get("/alerts/{alert_id}/notifications", response_model=AlertNotifications)
def alert_notifications(alert_id: AlertId, conn: Conn, who: Supervisor) -> dict[str, Any]:
    _visible(conn, who, alert_id)
    return {"alert_id": alert_id, "items": audit.notifications_of(conn, alert_id)}


@router.get("/history", response_model=HistoryPage)
def history(
    conn: Conn,
    who: Supervisor,
    since: datetime | None = None,
    until: datetime | None = None,
    action: Annotated[str | None, Query(pattern="^[a-z_]{1,64}$")] = None,
    actor: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    kind: Annotated[str | None, Query(pattern="^(elevator|kitchen)$")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Every action on every alert, newest first, filtered."""
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    for cond, value in (
        ("e.at >= %s", since),
        ("e.at < %s", until),
        ("e.action = %s", action),
        ("e.actor = %s", actor),
        ("a.kind = %s", kind),
        ("e.id < %s", before_id),
    ):
        if value is not None:
            where.append(cond)
            params.append(value)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT e.id, e.alert_id, a.kind, a.code, a.device_id, a.site_id, e.at, e.action, e.actor,"  # noqa: S608
            " e.from_state, e.to_state, e.note, e.details FROM alert_event e JOIN alert a ON a.id = e.alert_id"
            f" WHERE {' AND '.join(where)} ORDER BY e.id DESC LIMIT %s",
            [*params, limit],
        ).fetchall()
    return {"items": rows, "next_before_id": rows[-1]["id"] if len(rows) == limit else None}
