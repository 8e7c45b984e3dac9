"""A kitchen's hygiene record for the public page and the console (kitchens.md,
Public feed and Statistics): recent violations by category, open or closed, and a score.

The score is the statistics' hygiene score (alerts.stats: violations per camera-hour,
on-time rectification, camera online rate) over the statistics' default window, from
the one function every page and list uses (alerts.stats.queries.kitchen_score), so
that the public page, the console and the red/black lists agree; grades A >= 90,
B >= 75, C >= 60, else D. A kitchen observed for less than the `min_observed_hours`
setting has no score and no grade ("no data"). The record lists confirmed violations
only (a flag waiting for review or dismissed as a false positive does not count);
camera faults are not hygiene.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from brightwatch.alerts.review.workflow import OPEN_CASE
from brightwatch.alerts.stats.queries import default_window, kitchen_score
from brightwatch.alerts.stats.settings import StatsSettings
from brightwatch.contract.codes import KITCHEN_CATALOGUE

NOT_HYGIENE = ("CAMERA_OFFLINE", "CAMERA_OBSTRUCTED")
NO_DATA = "—"  # no score, no grade: too little observed time (language-neutral)
# only confirmed violations reach the public record: a flag waiting for review or
# dismissed as a false positive stays off it (kitchens.md, public feed)
CONFIRMED = "EXISTS (SELECT 1 FROM review r WHERE r.alert_id = a.id AND r.decision = 'confirm')"
# open or closed by the case, not the alert: a T3 case is closed at confirmation (routine
# supervision, no notice) while its alert may still be firing
OPEN = (
    "EXISTS (SELECT 1 FROM review r WHERE r.alert_id = a.id AND r.decision = 'confirm'"
    " AND r.state = ANY(%s))"
)
OPEN_CASES = sorted(state.value for state in OPEN_CASE)


@dataclass
class Category:
    code: str
    name_zh: str
    tier: str
    open: int = 0
    closed: int = 0
    last_at: datetime | None = None


@dataclass
class HygieneRecord:
    """score and grade as pages show them: NO_DATA for both when the kitchen was observed
    too little (`graded` False), so that no page shows a grade that was not earned."""

    score: float | str
    grade: str
    window_days: int
    categories: list[Category] = field(default_factory=list)

    @property
    def graded(self) -> bool:
        return self.grade != NO_DATA

    @property
    def total(self) -> int:
        return sum(c.open + c.closed for c in self.categories)


def grade(score: float | None) -> str | None:
    """The letter of a score; None for no score ("no data": never a grade not earned)."""
    if score is None:
        return None
    return "A" if score >= 90 else "B" if score >= 75 else "C" if score >= 60 else "D"


def hygiene_record(
    conn: psycopg.Connection[Any],
    site_id: str,
    now: datetime,
    settings: StatsSettings | None = None,
) -> HygieneRecord:
    """The kitchen's score (kitchen_score, as in the lists) and its confirmed violations
    by category over the statistics' window; `settings`: the deployment's
    `[alerts.stats]` (defaults when not given)."""
    settings = settings or StatsSettings()
    days = settings.window_days
    figures = kitchen_score(conn, site_id, now, settings)
    score = figures["hygiene_score"] if figures else None
    sql = (
        "SELECT a.code, a.severity,"  # noqa: S608 - condition built from constants
        " count(*) FILTER (WHERE " + OPEN + ") AS open,"
        " count(*) FILTER (WHERE NOT " + OPEN + ") AS closed,"
        " max(a.started_at) AS last_at"
        " FROM alert a WHERE a.kind = 'kitchen' AND a.site_id = %s AND a.started_at >= %s"
        " AND a.code <> ALL(%s) AND " + CONFIRMED + " GROUP BY 1, 2"
    )
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            sql,
            (
                OPEN_CASES,
                OPEN_CASES,
                site_id,
                default_window(now, settings).since,
                list(NOT_HYGIENE),
            ),
        ).fetchall()
    by_code: dict[str, Category] = {}
    for r in rows:
        entry = KITCHEN_CATALOGUE.get(r["code"])
        cat = by_code.setdefault(
            r["code"],
            Category(r["code"], entry.name_zh if entry else r["code"], r["severity"]),
        )
        cat.open += r["open"]
        cat.closed += r["closed"]
        cat.last_at = max(filter(None, (cat.last_at, r["last_at"])), default=None)
    cats = sorted(by_code.values(), key=lambda c: (c.tier, -(c.open + c.closed), c.code))
    if score is None:
        return HygieneRecord(NO_DATA, NO_DATA, days, cats)
    return HygieneRecord(score, grade(score) or NO_DATA, days, cats)
