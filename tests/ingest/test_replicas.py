"""Two ingest replicas on one database: an older message must not overwrite a newer
latest state (a replica that wrote a newer report first), and the upkeep loop runs in one
replica at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from brightwatch.contract.topics import Channel, DeviceKind, DeviceTopic
from brightwatch.db.deadletters import FloodCap
from brightwatch.ingest.classify import AvailabilityReport
from brightwatch.ingest.maintenance import LOCK_KEY, Due, run_due
from brightwatch.ingest.settings import IngestSettings
from brightwatch.ingest.writer import BatchWriter
from tests.ingest.test_writer import status_sample

NOW = datetime.now(UTC).replace(microsecond=0)


def report(device: str, state: str, at: datetime) -> AvailabilityReport:
    topic = DeviceTopic(DeviceKind.ELEVATOR, Channel.AVAILABILITY, device)
    return AvailabilityReport(
        topic, state, at, f"bw/elevators/{device}/availability", state.encode()
    )


def presence(conn: psycopg.Connection, device: str) -> tuple:
    row = conn.execute(
        "SELECT availability, availability_at, last_status->>'floor', last_status_at, last_ts"
        " FROM device_presence WHERE device_key = %s",
        (device,),
    ).fetchone()
    assert row is not None
    return row


def test_an_older_availability_report_does_not_overwrite_a_newer_one(db_url: str) -> None:
    # replica A received 'offline' at t1, replica B 'online' at t2 > t1 and committed first
    newer, older = BatchWriter("ingest-b", FloodCap(10)), BatchWriter("ingest-a", FloodCap(10))
    t1, t2 = NOW - timedelta(seconds=5), NOW
    with psycopg.connect(db_url, autocommit=True) as conn:
        newer.write(conn, [], [report("E1", "offline", t1 - timedelta(minutes=1))], [])
        newer.write(conn, [], [report("E1", "online", t2)], [])
        older.write(conn, [], [report("E1", "offline", t1)], [])
        state, at, *_ = presence(conn, "E1")
        log = conn.execute(
            "SELECT availability FROM availability_log WHERE device_key = 'E1' ORDER BY received_at"
        ).fetchall()
    assert (state, at) == ("online", t2)
    # the late report is no transition either: the log stays the devices' own order
    assert [r[0] for r in log] == ["offline", "online"]


def test_an_older_status_does_not_overwrite_a_newer_latest_status(db_url: str) -> None:
    a, b = BatchWriter("ingest-a", FloodCap(10)), BatchWriter("ingest-b", FloodCap(10))
    with psycopg.connect(db_url, autocommit=True) as conn:
        b.write(conn, [status_sample("E2", 8, NOW, floor=8)], [], [])  # the newer first
        a.write(conn, [status_sample("E2", 7, NOW - timedelta(seconds=10), floor=7)], [], [])
        _, _, floor, status_at, last_ts = presence(conn, "E2")
        stored = conn.execute("SELECT count(*) FROM elevator_status WHERE elevator_id = 'E2'")
        assert stored.fetchone() == (2,)  # the older sample is kept as history
    assert (floor, status_at, last_ts) == ("8", NOW, NOW)


def test_upkeep_runs_in_one_replica_at_a_time(db_url: str) -> None:
    settings = IngestSettings()
    due = Due(partitions=NOW, rollups=NOW, retention=NOW)
    with (
        psycopg.connect(db_url, autocommit=True) as other,
        psycopg.connect(db_url, autocommit=True) as conn,
    ):
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", (LOCK_KEY,))
        # another replica is at it: nothing runs and nothing is postponed
        assert run_due(conn, settings, due, NOW) == []
        assert due == Due(partitions=NOW, rollups=NOW, retention=NOW)
        other.execute("SELECT pg_advisory_unlock(hashtext(%s))", (LOCK_KEY,))
        assert run_due(conn, settings, due, NOW) == ["partitions", "rollups", "retention"]
        # and it let go of the lock
        got = other.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (LOCK_KEY,)).fetchone()
        assert got == (True,)
