"""The upkeep loop's jobs: partitions ahead, rollups, retention; deadlines as data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from brightwatch.db.migrate import flavor_of
from brightwatch.ingest.maintenance import Due, run_due
from brightwatch.ingest.settings import IngestSettings


def test_jobs_run_when_due_and_move_their_deadlines(db_url: str) -> None:
    now = datetime.now(UTC)
    settings = IngestSettings(partitions_ahead_days=10, dead_letter_retention_days=30)
    due = Due(partitions=now, rollups=now, retention=now)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO dead_letter (received_at, topic, payload_size, reason)"
            " VALUES (%s, 't', 0, 'old'), (%s, 't', 0, 'recent')",
            (now - timedelta(days=31), now - timedelta(days=1)),
        )
        hour = now.replace(minute=0, second=0, microsecond=0)
        conn.execute(
            "INSERT INTO elevator_status (elevator_id, ts, seq, received_at, service_mode,"
            " run_state, floor, door_zone, door_state, has_person, speed)"
            " VALUES ('E1', %s, 0, %s, 'normal', 'running', 1, false, 'closed', true, 1.5)",
            (hour, now),
        )
        conn.execute("INSERT INTO rollup_dirty (bucket) VALUES (%s)", (hour,))

        assert run_due(conn, settings, due, now) == ["partitions", "rollups", "retention"]
        assert run_due(conn, settings, due, now + timedelta(seconds=1)) == []
        if flavor_of(conn) == "native":  # TimescaleDB makes its chunks itself
            ahead = (now + timedelta(days=10)).strftime("%Y%m%d")
            part = conn.execute("SELECT to_regclass(%s)", (f"elevator_status_p{ahead}",))
            assert part.fetchone() != (None,)
        assert [r[0] for r in conn.execute("SELECT reason FROM dead_letter")] == ["recent"]
        assert conn.execute(
            "SELECT samples, running_samples FROM elevator_status_hourly WHERE elevator_id = 'E1'"
        ).fetchone() == (1, 1)
        assert conn.execute("SELECT count(*) FROM rollup_dirty").fetchone() == (0,)
        later = now + timedelta(seconds=settings.rollup_refresh_s)
        assert run_due(conn, settings, due, later) == ["rollups"]
        assert run_due(conn, settings, due, now + timedelta(days=1)) == [
            "partitions", "rollups", "retention"
        ]  # fmt: skip
