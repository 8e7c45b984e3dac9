"""What the console's views read, each query confined to the caller (api/scope.py): a
firm sees its elevators and tickets, an operator its site; anything else is not found."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from brightwatch.alerts.tickets.lifecycle import MAINTENANCE_TYPE_VALUES
from brightwatch.api.auth import Principal
from brightwatch.api.scope import (
    alert_scope,
    elevator_scope,
    kitchen_scope,
    may_see_kitchen,
    ticket_scope,
)
from brightwatch.contract.codes import ELEVATOR_CATALOGUE, KITCHEN_CATALOGUE

Conn = psycopg.Connection[Any]
OPEN_TICKET = ("created", "dispatched", "accepted", "arrived", "escalated", "reassigned")


def rows(
    conn: Conn, sql: str, params: list[Any] | tuple[Any, ...] | dict[str, Any] = ()
) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def code_name(kind: str, code: str) -> str:
    entry = (ELEVATOR_CATALOGUE if kind == "elevator" else KITCHEN_CATALOGUE).get(code)
    return entry.name_zh if entry else ""


# ------------------------------------------------------------------ alerts


def alerts(
    conn: Conn, who: Principal, state: str = "open", limit: int = 200
) -> list[dict[str, Any]]:
    cond, params = alert_scope(who)
    where = [cond]
    if state == "open":
        where.append("a.state <> 'resolved'")
    elif state in ("firing", "acknowledged", "resolved"):
        where.append("a.state = %s")
        params.append(state)
    found = rows(
        conn,
        "SELECT a.id, a.kind, a.code, a.severity, a.state, a.device_id, a.site_id, a.started_at,"  # noqa: S608
        " a.updated_at, a.count, a.summary, a.acknowledged_by"
        f" FROM alert a WHERE {' AND '.join(where)}"
        " ORDER BY (a.state = 'resolved'), a.severity, a.started_at DESC LIMIT %s",
        [*params, limit],
    )
    for a in found:
        a["name_zh"] = code_name(a["kind"], a["code"])
    return found


# ------------------------------------------------------------------ tickets


def tickets(
    conn: Conn, who: Principal, now: datetime, state: str = "open", elevator_id: str | None = None
) -> list[dict[str, Any]]:
    """Tickets with their running SLA clock."""
    cond, params = ticket_scope(who)
    where = [cond]
    if state == "open":
        where.append("t.state = ANY(%s)")
        params.append(list(OPEN_TICKET))
    elif state != "all":
        where.append("t.state = %s")
        params.append(state)
    if elevator_id:
        where.append("t.elevator_id = %s")
        params.append(elevator_id)
    found = rows(
        conn,
        "SELECT t.id, t.type, t.state, t.elevator_id, t.address, t.district, t.firm_id, t.trigger,"  # noqa: S608
        " t.created_at, t.due_at, t.accepted_at, t.arrived_at, t.completed_at, t.result"
        f" FROM ticket t WHERE {' AND '.join(where)} ORDER BY t.id DESC LIMIT 300",
        params,
    )
    clocks: dict[int, dict[str, Any]] = {}
    if found:
        for c in rows(
            conn,
            "SELECT DISTINCT ON (ticket_id) ticket_id, step, due_at, breached_at FROM ticket_clock"
            " WHERE ticket_id = ANY(%s) AND kind = 'sla' AND met_at IS NULL AND voided_at IS NULL"
            " ORDER BY ticket_id, due_at",
            ([t["id"] for t in found],),
        ):
            clocks[c["ticket_id"]] = c
    for t in found:
        clock = clocks.get(t["id"])
        t["sla_step"] = clock["step"] if clock else None
        t["sla_due"] = clock["due_at"] if clock else None
        t["sla_breached"] = bool(clock and (clock["breached_at"] or clock["due_at"] < now))
        t["trigger_name"] = code_name("elevator", t["trigger"])
    return found


def calendar(conn: Conn, who: Principal, start: datetime, days: int) -> list[dict[str, Any]]:
    """What is due in [start, start + days): maintenance tickets, and the planner's next
    due dates of elevators that have no ticket for them yet (the planner opens a ticket a
    few days ahead, so later dates would otherwise not show)."""
    tcond, params = ticket_scope(who)
    end = start + timedelta(days=days)
    due = rows(
        conn,
        "SELECT t.id, t.type, t.state, t.elevator_id, t.address, t.due_at FROM ticket t"  # noqa: S608
        f" WHERE {tcond} AND t.type = ANY(%s) AND t.due_at >= %s AND t.due_at < %s"
        " AND t.state NOT IN ('cancelled', 'false_alarm') ORDER BY t.due_at",
        [*params, MAINTENANCE_TYPE_VALUES, start, end],
    )
    cond, eparams = elevator_scope(who)
    ticketed = {t["elevator_id"] for t in due}
    planned = rows(
        conn,
        "SELECT * FROM (SELECT DISTINCT ON (p.elevator_id) p.elevator_id, e.address,"  # noqa: S608
        " p.next_due_at AS due_at, p.interval_days FROM maintenance_plan p"
        f" JOIN elevator e ON e.elevator_id = p.elevator_id WHERE {cond}"
        " ORDER BY p.elevator_id, p.computed_at DESC, p.id DESC) latest"
        " WHERE due_at >= %s AND due_at < %s ORDER BY due_at",
        [*eparams, start, end],
    )
    for p in planned:
        if p["elevator_id"] not in ticketed:
            due.append(
                {**p, "id": None, "type": f"every {p['interval_days']} d", "state": "planned"}
            )
    due.sort(key=lambda t: t["due_at"])
    return due


# ------------------------------------------------------------------ elevators


def elevator_list(
    conn: Conn, who: Principal, query: str = "", limit: int = 200
) -> list[dict[str, Any]]:
    cond, params = elevator_scope(who)
    where = [cond]
    if query:
        where.append("(e.elevator_id ILIKE %s OR e.address ILIKE %s)")
        params += [f"%{query}%", f"%{query}%"]
    return rows(
        conn,
        "SELECT e.elevator_id, e.address, e.district, e.firm_id, p.availability, p.last_seen,"  # noqa: S608
        " (SELECT count(*) FROM alert a WHERE a.kind = 'elevator' AND a.device_id = e.elevator_id"
        "  AND a.state <> 'resolved') AS open_alerts"
        " FROM elevator e LEFT JOIN device_presence p"
        " ON p.device_kind = 'elevator' AND p.device_key = e.elevator_id"
        f" WHERE {' AND '.join(where)} ORDER BY e.elevator_id LIMIT %s",
        [*params, limit],
    )


def elevator(conn: Conn, who: Principal, elevator_id: str) -> dict[str, Any] | None:
    cond, params = elevator_scope(who)
    found = rows(
        conn,
        "SELECT e.*, p.availability, p.availability_at, p.last_seen, p.last_status,"  # noqa: S608
        " f.name AS firm_name"
        " FROM elevator e LEFT JOIN device_presence p"
        " ON p.device_kind = 'elevator' AND p.device_key = e.elevator_id"
        " LEFT JOIN firm f ON f.firm_id = e.firm_id"
        f" WHERE e.elevator_id = %s AND {cond}",
        [elevator_id, *params],
    )
    return found[0] if found else None


# state colours of the timeline, by precedence: a mode outside normal service first
def _segment_state(sample: dict[str, Any]) -> str:
    if sample["service_mode"] != "normal":
        return sample["service_mode"]
    if sample["run_state"] == "running":
        return "running"
    if sample["door_state"] != "closed":
        return "door_open"
    return "idle"


def status_timeline(
    conn: Conn, elevator_id: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Contiguous segments of the same state over [start, end], as fractions of the span."""
    samples = rows(
        conn,
        "SELECT ts, service_mode, run_state, door_state FROM elevator_status"
        " WHERE elevator_id = %s AND ts >= %s AND ts < %s ORDER BY ts, seq LIMIT 50000",
        (elevator_id, start, end),
    )
    span = (end - start).total_seconds()
    segments: list[dict[str, Any]] = []
    for i, s in enumerate(samples):
        state = _segment_state(s)
        until = samples[i + 1]["ts"] if i + 1 < len(samples) else end
        if segments and segments[-1]["state"] == state:
            segments[-1]["until"] = until
        else:
            segments.append({"state": state, "from": s["ts"], "until": until})
    for seg in segments:
        seg["left"] = round(100 * (seg["from"] - start).total_seconds() / span, 3)
        seg["width"] = round(100 * (seg["until"] - seg["from"]).total_seconds() / span, 3)
    return segments


def elevator_faults(conn: Conn, elevator_id: str, limit: int = 50) -> list[dict[str, Any]]:
    found = rows(
        conn,
        "SELECT id, code, severity, state, started_at, resolved_at, count, summary FROM alert"
        " WHERE kind = 'elevator' AND device_id = %s ORDER BY started_at DESC LIMIT %s",
        (elevator_id, limit),
    )
    for a in found:
        a["name_zh"] = code_name("elevator", a["code"])
    return found


# ------------------------------------------------------------------ kitchens


def kitchen_list(conn: Conn, who: Principal) -> list[dict[str, Any]]:
    cond, params = kitchen_scope(who)
    return rows(
        conn,
        "SELECT s.site_id, s.name, s.district, s.address,"  # noqa: S608
        " (SELECT count(*) FROM camera c WHERE c.site_id = s.site_id) AS cameras,"
        " (SELECT count(*) FROM alert a WHERE a.kind = 'kitchen' AND a.site_id = s.site_id"
        "  AND a.state <> 'resolved') AS open_violations"
        f" FROM site s WHERE s.kind = 'kitchen' AND {cond} ORDER BY s.site_id LIMIT 500",
        params,
    )


def kitchen(conn: Conn, who: Principal, site_id: str) -> dict[str, Any] | None:
    if not may_see_kitchen(who, site_id):
        return None
    found = rows(conn, "SELECT * FROM site WHERE site_id = %s AND kind = 'kitchen'", (site_id,))
    if not found:
        return None
    site = found[0]
    site["cameras"] = rows(
        conn,
        "SELECT c.camera_id, c.name, c.work_area, c.is_public, p.availability, p.last_seen,"
        " (SELECT max(id) FROM evidence ev WHERE ev.site_id = c.site_id"
        "  AND ev.camera_id = c.camera_id) AS latest_evidence"
        " FROM camera c LEFT JOIN device_presence p"
        " ON p.device_kind = 'camera' AND p.device_key = c.site_id || '/' || c.camera_id"
        " WHERE c.site_id = %s ORDER BY c.camera_id",
        (site_id,),
    )
    site["violations"] = rows(
        conn,
        "SELECT a.id, a.code, a.severity, a.state, a.device_id AS camera_id, a.started_at,"
        " a.resolved_at, a.summary FROM alert a WHERE a.kind = 'kitchen' AND a.site_id = %s"
        " ORDER BY a.started_at DESC LIMIT 100",
        (site_id,),
    )
    for v in site["violations"]:
        v["name_zh"] = code_name("kitchen", v["code"])
    site["rectifications"] = rows(
        conn,
        "SELECT r.id, r.code, r.tier, r.state, r.camera_id, r.detected_at, r.plan_due_at,"
        " r.fix_due_at, r.card, r.closed_at,"
        " (SELECT count(*) FROM rectification x WHERE x.review_id = r.id) AS submissions"
        " FROM review r WHERE r.site_id = %s AND r.decision = 'confirm'"
        " ORDER BY r.detected_at DESC LIMIT 100",
        (site_id,),
    )
    return site
