"""A kitchen's hygiene record for the public page and the console (kitchens.md,
Public feed and Statistics): recent violations by category, open or closed, and a score.

The score follows Fuzhou's credit-point practice: each violation in the window costs
points by tier (T1 10, T2 5, T3 1) from 100; grades A >= 90, B >= 75, C >= 60, else D.
Only confirmed violations count (a flag waiting for review or dismissed as a false
positive does not); camera faults are not hygiene.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from brightwatch.contract.codes import KITCHEN_CATALOGUE

TIER_POINTS = {"T1": 10, "T2": 5, "T3": 1}
NOT_HYGIENE = ("CAMERA_OFFLINE", "CAMERA_OBSTRUCTED")
WINDOW_DAYS = 90
# only confirmed violations reach the public record: a flag waiting for review or
# dismissed as a false positive stays off it (kitchens.md, public feed)
CONFIRMED = "EXISTS (SELECT 1 FROM review r WHERE r.alert_id = a.id AND r.decision = 'confirm')"


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
    score: int
    grade: str
    window_days: int
    categories: list[Category] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(c.open + c.closed for c in self.categories)


def grade(score: int) -> str:
    return "A" if score >= 90 else "B" if score >= 75 else "C" if score >= 60 else "D"


def hygiene_record(
    conn: psycopg.Connection[Any], site_id: str, now: datetime, days: int = WINDOW_DAYS
) -> HygieneRecord:
    sql = (
        "SELECT a.code, a.severity,"  # noqa: S608 - condition built from constants
        " count(*) FILTER (WHERE a.state <> 'resolved') AS open,"
        " count(*) FILTER (WHERE a.state = 'resolved') AS closed,"
        " max(a.started_at) AS last_at"
        " FROM alert a WHERE a.kind = 'kitchen' AND a.site_id = %s AND a.started_at >= %s"
        " AND a.code <> ALL(%s) AND " + CONFIRMED + " GROUP BY 1, 2"
    )
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql, (site_id, now - timedelta(days=days), list(NOT_HYGIENE))).fetchall()
    by_code: dict[str, Category] = {}
    points = 0
    for r in rows:
        entry = KITCHEN_CATALOGUE.get(r["code"])
        cat = by_code.setdefault(
            r["code"],
            Category(r["code"], entry.name_zh if entry else r["code"], r["severity"]),
        )
        cat.open += r["open"]
        cat.closed += r["closed"]
        cat.last_at = max(filter(None, (cat.last_at, r["last_at"])), default=None)
        points += TIER_POINTS.get(r["severity"], 1) * (r["open"] + r["closed"])
    score = max(0, 100 - points)
    cats = sorted(by_code.values(), key=lambda c: (c.tier, -(c.open + c.closed), c.code))
    return HygieneRecord(score, grade(score), days, cats)
