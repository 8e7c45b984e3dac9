"""The exporters: one registry of what can be reported upstream, each building a versioned
JSON envelope for a window `[since, until)`:

    {"format": "brightwatch.<kind>/1", "generated_at": ISO, "window": {"since", "until"}, ...,
     "items": [...]}

`elevators` is the alert export of `export.records` with an upstream platform's code table
(gb2017 by default, or a supplied TOML table); `kitchens` carries confirmed violations, their
rectification cases and the coverage figures of `GET /api/v1/stats/kitchens/coverage`
(the same query, `alerts.stats.queries.kitchen_coverage`, never a second computation).
Every field is described in the README ("On-demand maintenance ... and upstream export").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from brightwatch.alerts.stats.queries import Window, kitchen_coverage
from brightwatch.alerts.stats.settings import StatsSettings
from brightwatch.alerts.upstream.export import records
from brightwatch.alerts.upstream.registry import PlatformMapping
from brightwatch.contract.codes import KITCHEN_CATALOGUE


@dataclass(frozen=True)
class ExportContext:
    """What an exporter may need besides the database: the elevator code table and the
    kitchen statistics settings (coverage thresholds)."""

    mapping: PlatformMapping
    stats: StatsSettings


Exporter = Callable[[psycopg.Connection[Any], ExportContext, Window], dict[str, Any]]
EXPORTERS: dict[str, Exporter] = {}
FORMATS: dict[str, str] = {}


def exporter(kind: str, fmt: str) -> Callable[[Exporter], Exporter]:
    """Register an exporter under `kind` with the envelope format it writes."""

    def register(fn: Exporter) -> Exporter:
        EXPORTERS[kind] = fn
        FORMATS[kind] = fmt
        return fn

    return register


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def envelope(kind: str, window: Window, **body: Any) -> dict[str, Any]:
    """The versioned envelope every exporter returns (times ISO 8601 with offset)."""
    return {
        "format": FORMATS[kind],
        "generated_at": window.now.isoformat(),
        "window": {"since": window.since.isoformat(), "until": window.until.isoformat()},
        **body,
    }


def build(
    kind: str, conn: psycopg.Connection[Any], context: ExportContext, window: Window
) -> dict[str, Any]:
    """The envelope of one export window; ValueError for an unknown kind."""
    try:
        fn = EXPORTERS[kind]
    except KeyError:
        raise ValueError(
            f"unknown export {kind!r}; known: {', '.join(sorted(EXPORTERS))}"
        ) from None
    return fn(conn, context, window)


@exporter("elevators", "brightwatch.elevators/1")
def elevators(
    conn: psycopg.Connection[Any], context: ExportContext, window: Window
) -> dict[str, Any]:
    """Elevator alerts that started in the window with the platform's code."""
    items = list(records(conn, context.mapping, window.since, window.until))
    unmapped = Counter(i["code"] for i in items if not i["mapped"])
    return envelope(
        "elevators",
        window,
        platform=context.mapping.name,
        unmapped=dict(sorted(unmapped.items())),
        items=items,
    )


VIOLATIONS = """
SELECT a.id AS alert_id, r.id AS case_id, a.code, r.tier, a.site_id, s.name AS site_name,
       s.district, COALESCE(s.kitchen_type, 'other') AS kitchen_type, r.camera_id,
       a.started_at, a.resolved_at, r.decided_at AS confirmed_at
FROM review r JOIN alert a ON a.id = r.alert_id JOIN site s ON s.site_id = r.site_id
WHERE r.decision = 'confirm' AND a.started_at >= %(since)s AND a.started_at < %(until)s
ORDER BY a.started_at, a.id
"""
CASES = """
SELECT r.id AS case_id, r.alert_id, r.site_id, r.code, r.tier, r.state, r.detected_at,
       r.notified_at, r.plan_due_at, r.plan_submitted_at, r.fix_due_at, r.rectified_at,
       r.verified_at, r.escalated_at, r.card, r.closed_at
FROM review r
WHERE r.decision = 'confirm' AND r.detected_at >= %(since)s AND r.detected_at < %(until)s
ORDER BY r.detected_at, r.id
"""
CASE_TIMES = (
    "detected_at",
    "notified_at",
    "plan_due_at",
    "plan_submitted_at",
    "fix_due_at",
    "rectified_at",
    "verified_at",
    "escalated_at",
    "closed_at",
)


def _violation(row: dict[str, Any]) -> dict[str, Any]:
    entry = KITCHEN_CATALOGUE.get(row["code"])
    return {
        "record": "violation",
        **{k: row[k] for k in ("alert_id", "case_id", "code")},
        "name_zh": entry.name_zh if entry else "",
        **{k: row[k] for k in ("tier", "site_id", "site_name", "district", "kitchen_type")},
        "camera_id": row["camera_id"],
        "started_at": _iso(row["started_at"]),
        "resolved_at": _iso(row["resolved_at"]),
        "confirmed_at": _iso(row["confirmed_at"]),
    }


def _case(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "record": "rectification",
        **{k: row[k] for k in ("case_id", "alert_id", "site_id", "code", "tier", "state")},
        "closed": row["state"] == "closed",
        "card": row["card"],
        **{k: _iso(row[k]) for k in CASE_TIMES},
    }


@exporter("kitchens", "brightwatch.kitchens/1")
def kitchens(
    conn: psycopg.Connection[Any], context: ExportContext, window: Window
) -> dict[str, Any]:
    """Confirmed violations, their rectification cases and the coverage of the window."""
    params = {"since": window.since, "until": window.until}
    with conn.cursor(row_factory=dict_row) as cur:
        violations = [_violation(r) for r in cur.execute(VIOLATIONS, params).fetchall()]
        cases = [_case(r) for r in cur.execute(CASES, params).fetchall()]
    coverage = kitchen_coverage(conn, window, context.stats)
    return envelope(
        "kitchens",
        window,
        coverage={"min_online_rate": context.stats.coverage_min_online_rate, **coverage},
        items=violations + cases,
    )
