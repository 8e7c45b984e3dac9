"""Upkeep of the time-series store, run by the ingest component in its own thread:
daily partitions kept ready ahead, the hourly rollup refreshed from the hours ingest
marked dirty, raw telemetry and dead letters past their retention dropped once a day.

Replicas: every ingest process runs this loop, one at a time: a pass runs under a
session-level advisory lock (`LOCK_KEY`), and a replica that finds it taken skips the
pass and tries at its next tick, so two replicas never create the same partition or
drop the same one at once (concurrent DDL on one table fails or deadlocks).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from brightwatch.db.timeseries import apply_retention, ensure_partitions_ahead, refresh_rollups
from brightwatch.ingest.settings import IngestSettings

log = logging.getLogger(__name__)

RETENTION_EVERY = timedelta(days=1)
LOCK_KEY = "bw_ingest_upkeep"


@dataclass
class Due:
    """When each job runs next (deadlines, so a test can drive the loop with a clock)."""

    partitions: datetime
    rollups: datetime
    retention: datetime


def run_due(
    conn: psycopg.Connection[Any], settings: IngestSettings, due: Due, now: datetime
) -> list[str]:
    """Run the jobs whose time has come; returns their names. Each advances its deadline
    only when it succeeded, so a failed job is tried again at the next tick. Nothing
    runs (and nothing advances) while another replica holds the upkeep lock; `conn`
    must be in autocommit mode (the lock is the session's)."""
    if not (now >= due.partitions or now >= due.rollups or now >= due.retention):
        return []
    got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (LOCK_KEY,)).fetchone()
    if not (got and got[0]):
        return []
    try:
        return _run_due(conn, settings, due, now)
    finally:
        if not conn.broken:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (LOCK_KEY,))


def _run_due(
    conn: psycopg.Connection[Any], settings: IngestSettings, due: Due, now: datetime
) -> list[str]:
    ran: list[str] = []
    if now >= due.partitions:
        with conn.transaction():
            created = ensure_partitions_ahead(conn, settings.partitions_ahead_days, now)
        if created:
            log.info("maintenance: created %d daily partitions ahead", created)
        due.partitions = now + timedelta(seconds=settings.maintenance_interval_s)
        ran.append("partitions")
    if now >= due.rollups:
        refreshed = refresh_rollups(conn, now)
        log.debug("maintenance: %d hourly rollup rows refreshed", refreshed)
        due.rollups = now + timedelta(seconds=settings.rollup_refresh_s)
        ran.append("rollups")
    if now >= due.retention:
        with conn.transaction():
            apply_retention(conn, settings.raw_retention_days, now)
            cutoff = now - timedelta(days=settings.dead_letter_retention_days)
            conn.execute("DELETE FROM dead_letter_suppressed WHERE hour < %s", (cutoff,))
            cur = conn.execute("DELETE FROM dead_letter WHERE received_at < %s", (cutoff,))
        if cur.rowcount:
            log.info("maintenance: %d dead letters past retention deleted", cur.rowcount)
        due.retention = now + RETENTION_EVERY
        ran.append("retention")
    return ran


def maintenance_loop(
    database_url: str,
    settings: IngestSettings,
    stop: threading.Event,
    clock: Callable[[], datetime],
    tick_s: float = 1.0,
) -> None:
    """Until `stop`: run what is due; database outages are waited out, never fatal."""
    now = clock()
    due = Due(partitions=now, rollups=now, retention=now)
    conn: psycopg.Connection[Any] | None = None
    while not stop.is_set():
        try:
            if conn is None or conn.closed or conn.broken:
                conn = psycopg.connect(
                    database_url, autocommit=True, application_name="brightwatch-maintenance"
                )
            run_due(conn, settings, due, clock())
        except psycopg.Error as exc:
            log.warning("maintenance: %s; trying again later", exc)
            if conn is not None and conn.broken:
                conn.close()
                conn = None
            stop.wait(min(30.0, settings.rollup_refresh_s))
        stop.wait(tick_s)
    if conn is not None:
        conn.close()
