"""Run a dashboard's queries the way Grafana would: resolve the template variables with
their own queries, expand the macros for the dashboard's default time range, execute."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from brightwatch.dashboards.macros import expand, interval_seconds
from brightwatch.dashboards.model import Dashboard, Panel
from brightwatch.i18n import DEFAULT_LOCALE


def time_range(spec: str, now: datetime) -> tuple[datetime, datetime]:
    """'now-7d' -> (now - 7 days, now)."""
    m = re.fullmatch(r"now-(\d+[smhdw])", spec)
    if not m:
        raise ValueError(f"unsupported time range {spec!r}")
    return now - timedelta(seconds=interval_seconds(m.group(1))), now


def variable_values(
    conn: psycopg.Connection[Any], dashboard: Dashboard
) -> dict[str, str | list[str]]:
    """Each variable's options from its query: all of them for "All", else the first."""
    values: dict[str, str | list[str]] = {}
    for v in dashboard.variables:
        rows = [
            str(r[0]) for r in conn.execute(expand(v.sql, datetime.now(), datetime.now(), values))
        ]
        if not rows:
            raise LookupError(f"variable ${v.name} of {dashboard.uid} has no options")
        values[v.name] = rows if v.multi or v.include_all else rows[0]
    return values


@dataclass(frozen=True)
class PanelQuery:
    dashboard: Dashboard
    panel: Panel
    sql: str


def panel_queries(
    conn: psycopg.Connection[Any],
    dashboard: Dashboard,
    now: datetime,
    locale: str = DEFAULT_LOCALE,
) -> Iterator[PanelQuery]:
    """Each panel's query as the board in `locale` sends it."""
    values = variable_values(conn, dashboard)
    for panel in dashboard.panels:
        spec = f"now-{panel.time_from}" if panel.time_from else dashboard.time_from
        start, end = time_range(spec, now)
        yield PanelQuery(dashboard, panel, expand(panel.sql_in(locale), start, end, values))


def run(conn: psycopg.Connection[Any], sql: str) -> tuple[list[str], list[tuple[Any, ...]], float]:
    """Column names, rows and seconds taken."""
    t0 = time.perf_counter()
    cur = conn.execute(sql)
    rows = cur.fetchall()
    elapsed = time.perf_counter() - t0
    names = [d.name for d in cur.description or ()]
    return names, rows, elapsed
