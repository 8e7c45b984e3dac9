"""SQL adapter for silences: create, list, expire; each action audited (audit_log) and
its effect on open alerts recorded in their history at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from brightwatch.alerts.routing.matchers import Matcher

if TYPE_CHECKING:  # the pipeline writes this module's audit rows from its silence clock
    from brightwatch.alerts.routing.pipeline import NotificationPipeline


class SilenceError(ValueError):
    """A silence that cannot be created or changed (HTTP 422 / 409)."""


@dataclass(frozen=True)
class SilenceRequest:
    matchers: Sequence[Matcher]
    starts_at: datetime
    ends_at: datetime
    comment: str


def state_of(row: dict[str, Any], now: datetime) -> str:
    if row["expired_at"] is not None and row["expired_at"] <= now:
        return "expired"
    if row["ends_at"] <= now:
        return "expired"
    return "active" if row["starts_at"] <= now else "pending"


def audit(
    conn: psycopg.Connection[Any],
    now: datetime,
    actor: str,
    action: str,
    silence_id: int,
    details: dict[str, Any],
) -> None:
    """One audit_log row for an action on a silence (people's and the clock's)."""
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, object_type, object_id, details)"
        " VALUES (%s, %s, %s, 'silence', %s, %s)",
        (now, actor, action, str(silence_id), Jsonb(details)),
    )


def create(
    conn: psycopg.Connection[Any],
    pipeline: NotificationPipeline,
    request: SilenceRequest,
    actor: str,
    now: datetime,
) -> int:
    if not request.matchers:
        raise SilenceError("a silence needs at least one matcher")
    if request.ends_at <= now:
        raise SilenceError("ends_at is in the past")
    if request.ends_at <= request.starts_at:
        raise SilenceError("ends_at must be after starts_at")
    if all(m.matches({}) for m in request.matchers):
        # Alertmanager refuses these too: they would silence every alert
        raise SilenceError("at least one matcher must not match the empty string")
    matchers = [m.to_api() for m in request.matchers]
    active = request.starts_at <= now
    row = conn.execute(
        "INSERT INTO silence (matchers, starts_at, ends_at, created_by, created_at, comment, activated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            Jsonb(matchers),
            request.starts_at,
            request.ends_at,
            actor,
            now,
            request.comment,
            now if active else None,
        ),
    ).fetchone()
    assert row is not None
    sid = int(row[0])
    audit(
        conn,
        now,
        actor,
        "create",
        sid,
        {
            "matchers": matchers,
            "starts_at": request.starts_at.isoformat(),
            "ends_at": request.ends_at.isoformat(),
            "comment": request.comment,
        },
    )
    if active:
        pipeline.refresh_mutes(conn, now)
    return sid


def expire(
    conn: psycopg.Connection[Any],
    pipeline: NotificationPipeline,
    silence_id: int,
    actor: str,
    now: datetime,
) -> dict[str, Any] | None:
    """End a silence now. None when there is no such silence; SilenceError when it already ended."""
    row = get(conn, silence_id, now, lock=True)
    if row is None:
        return None
    if row["state"] == "expired":
        raise SilenceError(f"silence {silence_id} has already expired")
    conn.execute(
        "UPDATE silence SET expired_at = %s, expired_by = %s, ends_at = LEAST(ends_at, GREATEST(%s, starts_at + interval '1 microsecond'))"
        " WHERE id = %s",
        (now, actor, now, silence_id),
    )
    audit(conn, now, actor, "expire", silence_id, {"was": row["state"]})
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT alert_id FROM alert_notify WHERE %s = ANY(silenced_by)", (silence_id,)
        ).fetchall()
    ]
    if ids:
        pipeline.refresh_mutes(conn, now, alert_ids=ids)
    return get(conn, silence_id, now)


SILENCE_FIELDS = (
    "id, matchers, starts_at, ends_at, created_by, created_at, comment, expired_at, expired_by"
)


def get(
    conn: psycopg.Connection[Any], silence_id: int, now: datetime, lock: bool = False
) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {SILENCE_FIELDS} FROM silence WHERE id = %s" + (" FOR UPDATE" if lock else ""),  # noqa: S608
            (silence_id,),
        ).fetchone()
    if row is None:
        return None
    row["state"] = state_of(row, now)
    if not lock:
        row["silenced_alerts"] = [
            r[0]
            for r in conn.execute(
                "SELECT n.alert_id FROM alert_notify n JOIN alert a ON a.id = n.alert_id"
                " WHERE %s = ANY(n.silenced_by) AND a.state <> 'resolved' ORDER BY n.alert_id",
                (silence_id,),
            ).fetchall()
        ]
    return row


def list_silences(
    conn: psycopg.Connection[Any], now: datetime, state: str | None, limit: int
) -> list[dict[str, Any]]:
    where: str = "TRUE"
    params: list[Any] = []
    if state == "active":
        where = "starts_at <= %s AND ends_at > %s AND (expired_at IS NULL OR expired_at > %s)"
        params = [now, now, now]
    elif state == "pending":
        where = "starts_at > %s AND expired_at IS NULL"
        params = [now]
    elif state == "expired":
        where = "(ends_at <= %s OR expired_at <= %s)"
        params = [now, now]
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {SILENCE_FIELDS} FROM silence WHERE {where} ORDER BY id DESC LIMIT %s",  # noqa: S608
            [*params, limit],
        ).fetchall()
    for row in rows:
        row["state"] = state_of(row, now)
    return rows
