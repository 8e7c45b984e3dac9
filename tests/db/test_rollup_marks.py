"""Every hour ingest marks is recomputed, however old (issue 16 (c)), and passed on to
the fleet rollup; on native PostgreSQL end to end, and the TimescaleDB path's logic with
a recording refresh in place of refresh_continuous_aggregate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from brightwatch.db.timeseries import ensure_partitions, hour_runs, refresh_rollups

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
H = timedelta(hours=1)


def _status(conn: psycopg.Connection, elevator: str, ts: datetime, running: bool) -> None:
    conn.execute(
        "INSERT INTO elevator_status (elevator_id, ts, seq, received_at, service_mode,"
        " run_state, floor, door_zone, door_state, has_person, speed)"
        " VALUES (%s, %s, 0, %s, 'normal', %s, 1, false, 'closed', false, 1.0)",
        (elevator, ts, NOW, "running" if running else "stopped"),
    )


def _mark(conn: psycopg.Connection, *buckets: datetime) -> None:
    conn.execute(
        "INSERT INTO rollup_dirty (bucket) SELECT unnest(%s::timestamptz[])", (list(buckets),)
    )


def test_hour_runs_merge_neighbours() -> None:
    b = NOW.replace(minute=0)
    assert hour_runs([b, b - H, b - 5 * H, b]) == [(b - 5 * H, b - 4 * H), (b - H, b + H)]
    assert hour_runs([]) == []


def test_native_recomputes_an_hour_weeks_old_and_marks_it_for_the_fleet(db_url: str) -> None:
    old = (NOW - timedelta(days=20)).replace(minute=0)
    with psycopg.connect(db_url, autocommit=True) as conn:
        ensure_partitions(conn, [old.date()])
        _status(conn, "E1", old + timedelta(minutes=5), running=True)
        _mark(conn, old)
        assert refresh_rollups(conn, NOW) == 1
        row = conn.execute(
            "SELECT samples, running_samples FROM elevator_status_hourly WHERE bucket = %s",
            (old,),
        ).fetchone()
        assert row == (1, 1)
        assert conn.execute("SELECT count(*) FROM rollup_dirty").fetchone() == (0,)
        fleet = [r[0] for r in conn.execute("SELECT bucket FROM fleet_rollup_dirty")]
        assert fleet == [old]


def test_timescale_path_refreshes_every_settled_marked_hour(db_url: str) -> None:
    """The continuous aggregate's policy looks 3 days back; marks older than that used to
    be dropped. Here every settled marked hour reaches the refresh, in merged ranges;
    the open hour and the one before stay marked for a later pass."""
    current = NOW.replace(minute=0)
    old = current - timedelta(days=10)
    recent = current - timedelta(days=1)
    calls: list[tuple[datetime, datetime]] = []

    def refresh(conn: psycopg.Connection, a: datetime, b: datetime) -> int:
        assert not conn.info.transaction_status  # never inside a transaction block
        calls.append((a, b))
        return 1

    with psycopg.connect(db_url, autocommit=True) as conn:
        _mark(conn, old, old + H, old + 2 * H, recent, current - H, current)
        assert refresh_rollups(conn, NOW, refresh=refresh) == 2
        assert calls == [(old, old + 3 * H), (recent, recent + H)]
        left = [r[0] for r in conn.execute("SELECT bucket FROM rollup_dirty ORDER BY 1")]
        assert left == [current - H, current]
        fleet = [r[0] for r in conn.execute("SELECT bucket FROM fleet_rollup_dirty ORDER BY 1")]
        assert fleet == [old, old + H, old + 2 * H, recent]


def test_timescale_path_keeps_a_mark_touched_during_the_refresh(db_url: str) -> None:
    old = NOW.replace(minute=0) - timedelta(days=10)
    with psycopg.connect(db_url, autocommit=True) as conn:
        _mark(conn, old)

        def refresh(c: psycopg.Connection, a: datetime, b: datetime) -> int:
            # ingest stores another late sample of that hour meanwhile
            with psycopg.connect(db_url, autocommit=True) as other:
                other.execute(
                    "UPDATE rollup_dirty SET touched_at = clock_timestamp() WHERE bucket = %s",
                    (a,),
                )
            return 1

        refresh_rollups(conn, NOW, refresh=refresh)
        assert [r[0] for r in conn.execute("SELECT bucket FROM rollup_dirty")] == [old]


def test_a_failed_refresh_keeps_the_marks(db_url: str) -> None:
    old = NOW.replace(minute=0) - timedelta(days=10)

    def refresh(c: psycopg.Connection, a: datetime, b: datetime) -> int:
        raise psycopg.OperationalError("server went away")

    with psycopg.connect(db_url, autocommit=True) as conn:
        _mark(conn, old)
        with pytest.raises(psycopg.OperationalError):
            refresh_rollups(conn, NOW, refresh=refresh)
        assert [r[0] for r in conn.execute("SELECT bucket FROM rollup_dirty")] == [old]
        assert conn.execute("SELECT count(*) FROM fleet_rollup_dirty").fetchone() == (0,)
