"""Upkeep of the time-series tables, the same calls for both flavours.

Native PostgreSQL: daily partitions created ahead and dropped past retention, the
hourly rollup refreshed for the hours ingest marked dirty. TimescaleDB: chunks and
retention look after themselves (the retention job is reconciled with the settings, never
re-created), and the continuous aggregate is refreshed for every marked hour its policy's
window does not reach. Both flavours pass the refreshed hours on to the fleet rollup.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from brightwatch.db.migrate import flavor_of
from brightwatch.db.timescale import TIME_SERIES_TABLES, reconcile_retention

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)


def ensure_partitions(conn: psycopg.Connection[Any], days: Iterable[date]) -> int:
    """Create the daily partitions covering `days` (no-op on TimescaleDB)."""
    wanted = sorted(set(days))
    if not wanted:
        return 0
    created = 0
    # contiguous runs keep the number of calls small for replays spanning many days
    start = prev = wanted[0]
    runs: list[tuple[date, date]] = []
    for d in wanted[1:]:
        if d != prev + timedelta(days=1):
            runs.append((start, prev))
            start = d
        prev = d
    runs.append((start, prev))
    for table in TIME_SERIES_TABLES:
        for a, b in runs:
            row = conn.execute(
                "SELECT bw_ensure_daily_partitions(%s, %s, %s)", (table, a, b)
            ).fetchone()
            created += row[0] if row else 0
    return created


def ensure_partitions_ahead(conn: psycopg.Connection[Any], days_ahead: int, now: datetime) -> int:
    today = now.astimezone(UTC).date()
    return ensure_partitions(conn, (today + timedelta(days=i) for i in range(-1, days_ahead + 1)))


def hour_runs(buckets: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Hour buckets merged into contiguous [start, end) ranges, oldest first."""
    runs: list[tuple[datetime, datetime]] = []
    for b in sorted(set(buckets)):
        if runs and runs[-1][1] == b:
            runs[-1] = (runs[-1][0], b + HOUR)
        else:
            runs.append((b, b + HOUR))
    return runs


def _native_refresh(conn: psycopg.Connection[Any], start: datetime, end: datetime) -> int:
    row = conn.execute("SELECT bw_refresh_status_hourly(%s, %s)", (start, end)).fetchone()
    return int(row[0]) if row else 0


def _cagg_refresh(conn: psycopg.Connection[Any], start: datetime, end: datetime) -> int:
    # a procedure that commits as it goes: never inside a transaction block (autocommit)
    conn.execute(
        "CALL refresh_continuous_aggregate('elevator_status_hourly', %s, %s)", (start, end)
    )
    return 0


RefreshRange = Callable[[psycopg.Connection[Any], datetime, datetime], int]


def refresh_rollups(
    conn: psycopg.Connection[Any], now: datetime, refresh: RefreshRange | None = None
) -> int:
    """Recompute the hourly rollup for every hour marked dirty by ingest, however old.

    Native: the marks are taken and their hours recomputed in one transaction.
    TimescaleDB: the continuous aggregate's policy only looks `start_offset` (3 days)
    back, so an hour marked by a late sample older than that never reached the rollup
    (issue 16 (c)); every marked hour is refreshed explicitly, once complete (the open
    hour and the one before are read in real time by the aggregate), and its mark
    removed only afterwards unless ingest touched it again meanwhile. Either way the
    refreshed hours are marked for the fleet rollup (dashboards/rollup.py).
    `refresh` replaces the per-range recompute (tests)."""
    if refresh is None:
        refresh = _cagg_refresh if flavor_of(conn) == "timescale" else _native_refresh
    if refresh is _native_refresh:
        with conn.transaction():
            buckets = [
                r[0] for r in conn.execute("DELETE FROM rollup_dirty RETURNING bucket").fetchall()
            ]
            refreshed = sum(refresh(conn, a, b) for a, b in hour_runs(buckets))
            _mark_fleet(conn, buckets)
        return refreshed
    settled = hour_bucket(now.astimezone(UTC)) - HOUR
    marks = conn.execute(
        "SELECT bucket, touched_at FROM rollup_dirty WHERE bucket < %s ORDER BY bucket",
        (settled,),
    ).fetchall()
    refreshed = 0
    for a, b in hour_runs(m[0] for m in marks):
        refreshed += refresh(conn, a, b)
    with conn.transaction():
        for bucket, touched_at in marks:
            conn.execute(
                "DELETE FROM rollup_dirty WHERE bucket = %s AND touched_at = %s",
                (bucket, touched_at),
            )
        _mark_fleet(conn, [m[0] for m in marks])
    return refreshed


def _mark_fleet(conn: psycopg.Connection[Any], buckets: list[datetime]) -> None:
    if buckets:
        conn.execute(
            "INSERT INTO fleet_rollup_dirty (bucket) SELECT unnest(%s::timestamptz[])"
            " ON CONFLICT (bucket) DO UPDATE SET touched_at = now()",
            (sorted(set(buckets)),),
        )


def apply_retention(conn: psycopg.Connection[Any], retention_days: int, now: datetime) -> int:
    """Drop raw telemetry older than the retention (native), or make sure each hypertable
    has one retention job with this interval (TimescaleDB): added when missing, altered
    when the interval changed, left alone otherwise, so its id, history and any tuning
    survive restarts (issue 16 (e))."""
    if flavor_of(conn) == "timescale":
        reconcile_retention(conn, timedelta(days=retention_days))
        return 0
    cutoff = (now.astimezone(UTC) - timedelta(days=retention_days)).date()
    dropped = 0
    for table in TIME_SERIES_TABLES:
        row = conn.execute(
            "SELECT bw_drop_daily_partitions_before(%s, %s)", (table, cutoff)
        ).fetchone()
        dropped += row[0] if row else 0
    if dropped:
        log.info("retention: dropped %d daily partitions before %s", dropped, cutoff)
    return dropped


def hour_bucket(ts: datetime) -> datetime:
    return ts.replace(minute=0, second=0, microsecond=0)
