"""Ingest's duplicate fallback (ingest/writer.py: COPY, and on a unique violation
INSERT ... ON CONFLICT DO NOTHING from a staging table): a terminal replaying days of
data, some of it stored already, gets every new row stored and every old one counted as
a duplicate. On TimescaleDB 2.17.2 the same statement stored nothing when one row lay in
a compressed chunk (issue 16 (a)); migrate now refuses versions before 2.19.0
(tests/db/test_migrate_timescale.py), this checks the behaviour the fallback relies on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from brightwatch.contract.payloads import ElevatorEvent, ElevatorStats
from brightwatch.contract.topics import Channel
from brightwatch.ingest.classify import Sample
from tests.ingest.test_writer import NOW, status_sample, worker

OFFLINE = timedelta(days=10)  # past the 7 days after which TimescaleDB compresses


def _status(seq: int, ts: datetime) -> Sample:
    return status_sample("R1", seq, ts)


def _event(seq: int, ts: datetime) -> Sample:
    ms = int(ts.timestamp() * 1000)
    msg = ElevatorEvent(ts=ms, seq=seq, code="DOOR_CLOSE_FAIL", state="raise")
    return Sample(Channel.EVENT, "R1", ts, seq, NOW, msg, None, "bw/elevators/R1/event", b"{}")


def _stats(seq: int, ts: datetime) -> Sample:
    msg = ElevatorStats(ts=int(ts.timestamp() * 1000), seq=seq, run_count=100 + seq)
    return Sample(Channel.STATS, "R1", ts, seq, NOW, msg, None, "bw/elevators/R1/stats", b"{}")


@pytest.mark.parametrize(
    ("table", "make"),
    [
        ("elevator_status", _status),
        ("elevator_event", _event),
        ("elevator_stats", _stats),
    ],
)
def test_a_replay_of_stored_and_new_rows_stores_the_new_ones(
    db_url: str, table: str, make: Callable[[int, datetime], Sample]
) -> None:
    w = worker(db_url)
    conn = w.db.connection()
    old = NOW - OFFLINE
    stored = [make(i, old + timedelta(minutes=i)) for i in range(3)]
    assert w.writer.write(conn, stored, [], []).stored == {table: 3}
    # the terminal comes back and sends its whole buffer: the old rows again, then new ones
    replay = [*stored, make(3, old + timedelta(minutes=3)), make(4, NOW)]
    result = w.writer.write(conn, replay, [], [])
    assert result.stored == {table: 2}
    assert result.duplicates == 3
    count = conn.execute(f"SELECT count(*), max(seq) FROM {table}").fetchone()
    assert count == (5, 4)
    w.close()
