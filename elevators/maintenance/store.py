"""Plans and recompute triggers in PostgreSQL (tables of migration 0090)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[Any]
JSON_COLUMNS = ("eligibility", "factors", "calendar", "inputs")
PLAN_COLUMNS = (
    "id, elevator_id, computed_at, reason, eligible, eligibility, risk_score, factors,"
    " interval_days, interval_reason, next_due_at, calendar, inputs"
)


def save_plan(conn: Conn, row: dict[str, Any]) -> int:
    """Store one computation (rows are never updated: the history is the record)."""
    values = {k: Jsonb(v) if k in JSON_COLUMNS else v for k, v in row.items()}
    found = conn.execute(
        "INSERT INTO maintenance_plan (elevator_id, computed_at, reason, eligible, eligibility,"
        " risk_score, factors, interval_days, interval_reason, next_due_at, calendar, inputs)"
        " VALUES (%(elevator_id)s, %(computed_at)s, %(reason)s, %(eligible)s, %(eligibility)s,"
        " %(risk_score)s, %(factors)s, %(interval_days)s, %(interval_reason)s, %(next_due_at)s,"
        " %(calendar)s, %(inputs)s) RETURNING id",
        values,
    ).fetchone()
    assert found is not None
    return int(found[0])


def latest_plan(conn: Conn, elevator_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"SELECT {PLAN_COLUMNS} FROM maintenance_plan WHERE elevator_id = %s"  # noqa: S608
            " ORDER BY computed_at DESC, id DESC LIMIT 1",
            (elevator_id,),
        ).fetchone()


def plan_history(conn: Conn, elevator_id: str, limit: int = 30) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT id, computed_at, reason, eligible, risk_score, interval_days, interval_reason,"
            " next_due_at FROM maintenance_plan WHERE elevator_id = %s"
            " ORDER BY computed_at DESC, id DESC LIMIT %s",
            (elevator_id, limit),
        ).fetchall()


def request_recompute(
    conn: Conn, elevator_id: str, reason: str, at: datetime, alert_id: int | None = None
) -> None:
    conn.execute(
        "INSERT INTO maintenance_trigger (elevator_id, reason, alert_id, requested_at)"
        " VALUES (%s, %s, %s, %s)",
        (elevator_id, reason, alert_id, at),
    )


def take_triggers(conn: Conn, now: datetime, limit: int = 500) -> list[tuple[str, str]]:
    """Pending triggers, marked done (in the caller's transaction), oldest first; one
    (elevator_id, reason) per elevator, the first reason kept."""
    rows = conn.execute(
        "UPDATE maintenance_trigger SET done_at = %s WHERE id IN ("
        " SELECT id FROM maintenance_trigger WHERE done_at IS NULL ORDER BY id"
        " LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id, elevator_id, reason",
        (now, limit),
    ).fetchall()
    seen: dict[str, str] = {}
    for _, elevator_id, reason in sorted(rows):
        seen.setdefault(elevator_id, reason)
    return list(seen.items())


def elevators_without_daily_plan(
    conn: Conn, since: datetime, limit: int, *, never_planned_only: bool = False
) -> list[str]:
    """Registered elevators with no 'daily' plan computed since `since` (or, with
    `never_planned_only`, with no plan at all)."""
    if never_planned_only:
        cond, params = "TRUE", []
    else:
        cond, params = "p.reason = 'daily' AND p.computed_at >= %s", [since]
    rows = conn.execute(
        "SELECT e.elevator_id FROM elevator e WHERE NOT EXISTS ("  # noqa: S608
        f" SELECT 1 FROM maintenance_plan p WHERE p.elevator_id = e.elevator_id AND {cond})"
        " ORDER BY e.elevator_id LIMIT %s",
        [*params, limit],
    ).fetchall()
    return [r[0] for r in rows]


def offline_past(conn: Conn, now: datetime, hours: float, limit: int) -> list[str]:
    """Elevators whose terminal has been offline (an open OFFLINE alert) for `hours`
    and whose plan was not computed since then."""
    rows = conn.execute(
        "SELECT DISTINCT a.device_id FROM alert a JOIN elevator e ON e.elevator_id = a.device_id"
        " WHERE a.kind = 'elevator' AND a.code = 'OFFLINE' AND a.state <> 'resolved'"
        " AND a.started_at <= %(now)s - make_interval(secs => %(s)s) AND NOT EXISTS ("
        " SELECT 1 FROM maintenance_plan p WHERE p.elevator_id = a.device_id"
        " AND p.computed_at >= a.started_at + make_interval(secs => %(s)s))"
        " ORDER BY 1 LIMIT %(limit)s",
        {"now": now, "s": hours * 3600, "limit": limit},
    ).fetchall()
    return [r[0] for r in rows]
