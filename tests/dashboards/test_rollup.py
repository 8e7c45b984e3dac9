"""The per-district fleet rollup the city dashboard reads (migration 0070)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import psycopg

from brightwatch.dashboards import rollup
from brightwatch.registry import store
from brightwatch.registry.models import ElevatorRecord
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime

HOUR = datetime(2026, 11, 20, 8, tzinfo=UTC)


def _hourly(
    conn: psycopg.Connection, elevator: str, bucket: datetime, samples: int, running: int
) -> None:
    conn.execute(
        "INSERT INTO elevator_status_hourly VALUES (%s, %s, %s, %s, 0, 0, 0, 1, 30, 0.1, 0.2, %s, %s)"
        " ON CONFLICT (elevator_id, bucket) DO UPDATE SET samples = EXCLUDED.samples,"
        " running_samples = EXCLUDED.running_samples",
        (elevator, bucket, samples, running, bucket, bucket + timedelta(minutes=59)),
    )


def test_refresh_sums_per_district_and_follows_changes(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        store.upsert_elevator(conn, "A1", ElevatorRecord(district="Futian"))
        store.upsert_elevator(conn, "A2", ElevatorRecord(district="Futian"))
        store.upsert_elevator(conn, "B1", ElevatorRecord())  # no district recorded
        _hourly(conn, "A1", HOUR, 60, 20)
        _hourly(conn, "A2", HOUR, 60, 10)
        _hourly(conn, "B1", HOUR, 30, 3)
        _hourly(conn, "A1", HOUR + timedelta(hours=5), 60, 60)  # outside the window
        assert rollup.refresh(conn, HOUR, HOUR + timedelta(hours=1)) == 2
        rows = conn.execute(
            "SELECT district, elevators, samples, running_samples FROM elevator_fleet_hourly ORDER BY 1"
        ).fetchall()
        assert rows == [("(none)", 1, 30, 3), ("Futian", 2, 120, 30)]
        _hourly(conn, "A2", HOUR, 60, 40)  # the hour changed: a refresh follows
        rollup.refresh(conn, HOUR, HOUR + timedelta(hours=1))
        row = conn.execute(
            "SELECT running_samples FROM elevator_fleet_hourly WHERE district = 'Futian'"
        ).fetchone()
        assert row == (60,)


def test_loop_backfills_then_stops_when_asked(settings: Settings) -> None:
    db_url = settings.database_url.get_secret_value()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with psycopg.connect(db_url, autocommit=True) as conn:
        store.upsert_elevator(conn, "A1", ElevatorRecord(district="Luohu"))
        for days in (1, 20):
            _hourly(conn, "A1", now - timedelta(days=days), 60, 6)
    stop = threading.Event()
    runtime = build_runtime(settings)
    t = threading.Thread(target=rollup.loop, args=(runtime, stop), daemon=True)
    t.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        count = 0
        while datetime.now(UTC) < deadline and count < 2:
            with psycopg.connect(db_url) as conn:
                count = conn.execute("SELECT count(*) FROM elevator_fleet_hourly").fetchone()[0]
        assert count == 2  # both hours, the 20-day-old one by the first run's backfill
    finally:
        stop.set()
        t.join(10)
    assert not t.is_alive()
