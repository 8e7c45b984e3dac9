"""Late samples re-roll the fleet hours they change (issue 16 (d)): ingest marks the
hour, the time-series upkeep recomputes the per-elevator hour and passes it on, the
fleet upkeep re-sums the district; native PostgreSQL end to end."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from brightwatch.dashboards import rollup
from brightwatch.db.timeseries import refresh_rollups
from brightwatch.registry import store
from brightwatch.registry.models import ElevatorRecord
from tests.ingest.test_writer import NOW, status_sample, worker


def _fleet(conn: psycopg.Connection, bucket: object) -> tuple[int, int] | None:
    return conn.execute(
        "SELECT elevators, samples FROM elevator_fleet_hourly"
        " WHERE district = 'Futian' AND bucket = %s",
        (bucket,),
    ).fetchone()


def test_a_late_sample_changes_its_fleet_hour(db_url: str) -> None:
    hour = (NOW - timedelta(hours=30)).replace(minute=0, second=0)
    w = worker(db_url)
    conn = w.db.connection()
    conn.autocommit = True
    store.upsert_elevator(conn, "A1", ElevatorRecord(district="Futian"))
    store.upsert_elevator(conn, "A2", ElevatorRecord(district="Futian"))
    w.writer.write(
        conn, [status_sample("A1", i, hour + timedelta(minutes=i)) for i in range(3)], [], []
    )
    refresh_rollups(conn, NOW)
    rollup.refresh_marked(conn)
    assert _fleet(conn, hour) == (1, 3)

    # the loop's periodic pass only looks back rollup.RECENT: this hour is outside it
    assert NOW - hour > rollup.RECENT
    rollup.refresh(conn, NOW - rollup.RECENT, NOW + timedelta(hours=1))
    # a terminal that was offline delivers its samples of that hour now
    late = [status_sample("A2", i, hour + timedelta(minutes=10 + i)) for i in range(2)]
    late.append(status_sample("A1", 3, hour + timedelta(minutes=30)))
    w.writer.write(conn, late, [], [])
    refresh_rollups(conn, NOW)
    assert rollup.refresh_marked(conn) == 1
    assert _fleet(conn, hour) == (2, 6)
    assert conn.execute("SELECT count(*) FROM fleet_rollup_dirty").fetchone() == (0,)
    assert rollup.refresh_marked(conn) == 0  # the marks went with the refresh
    w.close()


def test_a_failed_fleet_refresh_keeps_its_marks(db_url: str) -> None:
    hour = (NOW - timedelta(days=3)).replace(minute=0, second=0)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO fleet_rollup_dirty (bucket) VALUES (%s)", (hour,))
        conn.execute(
            "ALTER FUNCTION bw_refresh_fleet_hourly(timestamptz, timestamptz) RENAME TO gone"
        )
        with pytest.raises(psycopg.errors.UndefinedFunction):
            rollup.refresh_marked(conn)
        assert conn.execute("SELECT bucket FROM fleet_rollup_dirty").fetchone() == (hour,)
