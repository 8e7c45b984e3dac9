"""The supervisor's overview ("the city at a glance"): what needs a person now, read in a
few small queries. Every figure is a number (the template and the charts format them);
days are local calendar days in the deployment's zone (`BW_TIMEZONE`), so a violation
at 16:30Z counts on the next Shanghai day. Queries go through the scope helpers
(api/scope.py) like every view, although the page itself is for admins and supervisors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from brightwatch.api.auth import Principal
from brightwatch.api.scope import alert_scope, kitchen_scope, ticket_scope
from brightwatch.api.web.language import code_name
from brightwatch.api.web.views import OPEN_TICKET, Conn, rows
from brightwatch.i18n import translator
from brightwatch.i18n.timefmt import local, zone

P1_LIST_LIMIT = 50
RESCUE_LIMIT = 100
WEEK_DAYS = 7
ALERT_KINDS = ("elevator", "kitchen")


@dataclass(frozen=True)
class Window:
    """What the overview is computed against: the instant, the zone of its days, how long
    a silent camera still counts as streaming (vision's CAMERA_OFFLINE window) and the
    rescue arrival SLA (the fallback deadline of a ticket without an arrival clock)."""

    now: datetime
    zone: str
    camera_window_s: float
    rescue_arrival_s: float


# ------------------------------------------------------------------ local days


def day_start(day: date, tz: str) -> datetime:
    """Midnight starting `day` in `tz` (an aware instant; DST-safe: each day on its own)."""
    return datetime.combine(day, time(0), tzinfo=zone(tz))


def local_day(at: datetime, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of the local calendar day holding `at`."""
    today = local(at, tz).date()
    return day_start(today, tz), day_start(today + timedelta(days=1), tz)


# ------------------------------------------------------------------ the figures


def open_elevator_alerts(conn: Conn, who: Principal) -> dict[str, Any]:
    """Open P1 and P2 elevator alerts: their counts, and the P1 list (oldest first: the
    longest-trapped passenger leads)."""
    cond, params = alert_scope(who)
    counts = {"P1": 0, "P2": 0}
    for r in rows(
        conn,
        "SELECT a.severity, count(*) AS n FROM alert a"  # noqa: S608
        " WHERE a.kind = 'elevator' AND a.state <> 'resolved' AND a.severity IN ('P1', 'P2')"
        f" AND {cond} GROUP BY a.severity",
        params,
    ):
        counts[r["severity"]] = int(r["n"])
    p1 = rows(
        conn,
        "SELECT a.id, a.code, a.state, a.device_id, a.started_at, a.count,"  # noqa: S608
        " coalesce(e.address, '') AS address, coalesce(e.district, '') AS district"
        " FROM alert a LEFT JOIN elevator e ON e.elevator_id = a.device_id"
        " WHERE a.kind = 'elevator' AND a.state <> 'resolved' AND a.severity = 'P1'"
        f" AND {cond} ORDER BY a.started_at, a.id LIMIT %s",
        [*params, P1_LIST_LIMIT],
    )
    return {"P1": counts["P1"], "P2": counts["P2"], "p1_open": p1}


def rescues(conn: Conn, who: Principal, w: Window) -> list[dict[str, Any]]:
    """Rescue tickets not yet completed, against their arrival clock (TSG T5002: 30 min
    from the fault's confirmation): elapsed minutes, due time, breached or not."""
    cond, params = ticket_scope(who)
    found = rows(
        conn,
        "SELECT t.id, t.state, t.elevator_id, t.address, t.district, t.firm_id, t.trigger,"  # noqa: S608
        " coalesce(t.confirmed_at, t.created_at) AS since, t.arrived_at,"
        " c.due_at AS clock_due, c.breached_at, c.met_at"
        " FROM ticket t LEFT JOIN LATERAL (SELECT due_at, breached_at, met_at FROM ticket_clock k"
        "  WHERE k.ticket_id = t.id AND k.kind = 'sla' AND k.step = 'arrived'"
        "  ORDER BY (k.voided_at IS NULL) DESC, k.id DESC LIMIT 1) c ON TRUE"
        f" WHERE t.type = 'rescue' AND t.state = ANY(%s) AND {cond}"
        " ORDER BY since, t.id LIMIT %s",
        [list(OPEN_TICKET), *params, RESCUE_LIMIT],
    )
    for t in found:
        due = t.pop("clock_due") or t["since"] + timedelta(seconds=w.rescue_arrival_s)
        reached = t.pop("met_at") or t["arrived_at"]
        t["due_at"] = due
        t["elapsed_min"] = max(0, int((w.now - t["since"]).total_seconds() // 60))
        t["breached"] = bool(
            t.pop("breached_at") or (reached is None and due < w.now) or (reached and reached > due)
        )
    return found


def streaming(conn: Conn, who: Principal, w: Window) -> dict[str, int]:
    """Cameras streaming now (not reported offline, and seen within the window after which
    vision raises CAMERA_OFFLINE) of all registered, and kitchens with at least one."""
    cond, params = kitchen_scope(who)
    found = rows(
        conn,
        "SELECT count(c.camera_id) FILTER (WHERE live) AS cameras_streaming,"  # noqa: S608
        " count(c.camera_id) AS cameras,"
        " count(DISTINCT s.site_id) FILTER (WHERE live) AS kitchens_streaming,"
        " count(DISTINCT s.site_id) AS kitchens"
        " FROM site s LEFT JOIN camera c ON c.site_id = s.site_id"
        " LEFT JOIN device_presence p ON p.device_kind = 'camera'"
        "  AND p.device_key = c.site_id || '/' || c.camera_id"
        " CROSS JOIN LATERAL (SELECT p.availability IS DISTINCT FROM 'offline'"
        "  AND p.last_seen >= %(seen_after)s AS live) l"
        f" WHERE s.kind = 'kitchen' AND {cond}",
        {**params, "seen_after": w.now - timedelta(seconds=w.camera_window_s)},
    )
    return {k: int(v or 0) for k, v in found[0].items()}


def violations_today(conn: Conn, who: Principal, w: Window) -> list[dict[str, Any]]:
    """Kitchen violations (alerts) that started on today's local day, by code, most first."""
    cond, params = alert_scope(who)
    start, end = local_day(w.now, w.zone)
    found = rows(
        conn,
        "SELECT a.code, count(*) AS n FROM alert a"  # noqa: S608
        f" WHERE a.kind = 'kitchen' AND a.started_at >= %s AND a.started_at < %s AND {cond}"
        " GROUP BY a.code ORDER BY n DESC, a.code",
        [start, end, *params],
    )
    return [{"code": r["code"], "n": int(r["n"])} for r in found]


def review_backlog(conn: Conn, who: Principal, w: Window) -> dict[str, Any]:
    """Cases waiting for a reviewer's decision, and how long the oldest has waited."""
    cond, params = kitchen_scope(who)
    found = rows(
        conn,
        "SELECT count(*) AS pending, min(r.created_at) AS oldest FROM review r"  # noqa: S608
        " WHERE r.state = 'pending_review'"
        f" AND r.site_id IN (SELECT s.site_id FROM site s WHERE {cond})",
        params,
    )[0]
    oldest = found["oldest"]
    waiting = int((w.now - oldest).total_seconds() // 60) if oldest else None
    return {"pending": int(found["pending"]), "oldest": oldest, "oldest_min": waiting}


def alerts_by_day(conn: Conn, who: Principal, w: Window) -> dict[str, Any]:
    """Alerts started on each of the last seven local days (today last), per kind."""
    cond, params = alert_scope(who)
    today = local(w.now, w.zone).date()
    days = [today - timedelta(days=i) for i in range(WEEK_DAYS - 1, -1, -1)]
    counts = {kind: [0] * WEEK_DAYS for kind in ALERT_KINDS}
    for r in rows(
        conn,
        "SELECT (a.started_at AT TIME ZONE %s)::date AS day, a.kind, count(*) AS n"  # noqa: S608
        f" FROM alert a WHERE a.started_at >= %s AND a.started_at < %s AND {cond}"
        " GROUP BY 1, 2",
        [w.zone, day_start(days[0], w.zone), day_start(today + timedelta(days=1), w.zone), *params],
    ):
        if r["day"] in days and r["kind"] in counts:
            counts[r["kind"]][days.index(r["day"])] = int(r["n"])
    return {"days": days, "counts": counts}


def overview(conn: Conn, who: Principal, w: Window) -> dict[str, Any]:
    """Every figure of the page."""
    return {
        "alerts": open_elevator_alerts(conn, who),
        "rescues": rescues(conn, who, w),
        "streaming": streaming(conn, who, w),
        "violations": violations_today(conn, who, w),
        "backlog": review_backlog(conn, who, w),
        "week": alerts_by_day(conn, who, w),
    }


# ------------------------------------------------------------------ names and charts


def code_label(code: str, locale: str) -> str:
    """A catalogue code as a chart label: verbatim, with its name where there is one."""
    name = code_name(code, locale)
    return f"{code} {name}" if name else code


def charts(figures: dict[str, Any], locale: str) -> dict[str, Any]:
    """What overview.js draws, every text already in the reader's language (the script
    holds no text of its own)."""
    _ = translator(locale)
    week = figures["week"]
    names = {"elevator": _("Elevator alerts"), "kitchen": _("Kitchen alerts")}
    return {
        "violations": {
            "labels": [code_label(v["code"], locale) for v in figures["violations"]],
            "counts": [v["n"] for v in figures["violations"]],
            "series": _("Violations today"),
            "axis": _("Number of violations"),
        },
        "week": {
            "labels": [d.strftime("%m-%d") for d in week["days"]],
            "series": [
                {"kind": k, "label": names[k], "counts": week["counts"][k]} for k in ALERT_KINDS
            ],
            "axis": _("Number of alerts"),
            "x_axis": _("Local day"),
        },
    }
