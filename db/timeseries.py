"""Upkeep of the time-series tables, the same calls for both flavours.

Native PostgreSQL: daily partitions created ahead and dropped past retention, the
hourly rollup refreshed for the hours ingest marked dirty. TimescaleDB: chunks,
retention and the continuous aggregate look after themselves; only the retention
interval is re-applied from the settings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from brightwatch.db.migrate import flavor_of

log = logging.getLogger(__name__)

TIME_SERIES_TABLES = ("elevator_status", "elevator_event", "elevator_stats")


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


def refresh_rollups(conn: psycopg.Connection[Any], now: datetime) -> int:
    """Recompute the hourly rollup for every hour marked dirty by ingest."""
    with conn.transaction():
        buckets = [
            r[0] for r in conn.execute("DELETE FROM rollup_dirty RETURNING bucket").fetchall()
        ]
        refreshed = 0
        for bucket in sorted(buckets):
            row = conn.execute(
                "SELECT bw_refresh_status_hourly(%s, %s)", (bucket, bucket + timedelta(hours=1))
            ).fetchone()
            refreshed += int(row[0]) if row else 0
    return refreshed


def apply_retention(conn: psycopg.Connection[Any], retention_days: int, now: datetime) -> int:
    """Drop raw telemetry older than the retention (native) or re-apply the policy (Timescale)."""
    if flavor_of(conn) == "timescale":
        for table in TIME_SERIES_TABLES:
            conn.execute("SELECT remove_retention_policy(%s, if_exists => true)", (table,))
            conn.execute(
                "SELECT add_retention_policy(%s, %s::interval)", (table, f"{retention_days} days")
            )
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
