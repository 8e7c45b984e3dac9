"""Upkeep of the dashboards' own rollup (`elevator_fleet_hourly`, migration 0070).

`loop` runs beside the alerts component (`brightwatch.components.UPKEEP`): once at start
it fills the hours it has never seen (up to `BACKFILL_DAYS`), then every `PERIOD_S` it
recomputes the last few hours, which the per-elevator hourly rollup may still be changing,
and every older hour the time-series upkeep marked in `fleet_rollup_dirty` after a late
sample changed it (issue 16 (d): late data used to be ignored on both flavours).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

import psycopg

log = logging.getLogger(__name__)

PERIOD_S = 60.0
RECENT = timedelta(hours=3)
BACKFILL_DAYS = 35


def refresh(conn: psycopg.Connection[Any], since: datetime, until: datetime) -> int:
    row = conn.execute("SELECT bw_refresh_fleet_hourly(%s, %s)", (since, until)).fetchone()
    return int(row[0]) if row else 0


def refresh_marked(conn: psycopg.Connection[Any]) -> int:
    """Recompute every hour marked in `fleet_rollup_dirty`; the marks go with the same
    transaction, so a failure leaves them for the next pass (and a second replica finds
    them taken)."""
    with conn.transaction():
        buckets = [r[0] for r in conn.execute("DELETE FROM fleet_rollup_dirty RETURNING bucket")]
        return sum(refresh(conn, b, b + timedelta(hours=1)) for b in sorted(buckets))


def backfill_start(conn: psycopg.Connection[Any], now: datetime) -> datetime:
    """Where the rollup has nothing yet: its newest hour, or BACKFILL_DAYS ago."""
    row = conn.execute("SELECT max(bucket) FROM elevator_fleet_hourly").fetchone()
    oldest = now - timedelta(days=BACKFILL_DAYS)
    return max(row[0], oldest) if row and row[0] else oldest


def loop(runtime: Any, stop: threading.Event) -> None:
    first = True
    while not stop.is_set():
        now = runtime.clock()
        try:
            with psycopg.connect(runtime.database_url, autocommit=True) as conn:
                since = backfill_start(conn, now) if first else now - RECENT
                n = refresh(conn, since, now + timedelta(hours=1))
                first = False
                n += refresh_marked(conn)
                log.debug("fleet rollup: %d rows since %s", n, since)
        except psycopg.Error as exc:
            # the database may be restarting: try again next period, never stop the loop
            log.warning("fleet rollup not refreshed: %s", type(exc).__name__)
        stop.wait(PERIOD_S)
