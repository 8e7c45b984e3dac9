"""The SQL adapter against the real PostgreSQL: exactly-once rows, presence equal to the
pure model, a value the database refuses isolated and dead-lettered."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import psycopg

from brightwatch.contract.payloads import ElevatorEvent, ElevatorStatus
from brightwatch.contract.topics import Channel
from brightwatch.ingest.classify import Sample
from brightwatch.ingest.presence import Presence, advance
from brightwatch.ingest.settings import IngestSettings
from brightwatch.ingest.worker import IngestWorker

NOW = datetime.now(UTC).replace(microsecond=0)


def status_sample(elevator: str, seq: int, ts: datetime, floor: int = 1) -> Sample:
    msg = ElevatorStatus(
        ts=int(ts.timestamp() * 1000), seq=seq, service_mode="normal", run_state="stopped",
        floor=floor, door_zone=True, door_state="closed", has_person=False, speed=0.0,
    )  # fmt: skip
    topic = f"bw/elevators/{elevator}/status"
    return Sample(Channel.STATUS, elevator, ts, seq, NOW, msg, None, topic, b"{}")


def worker(db_url: str) -> IngestWorker:
    return IngestWorker(IngestSettings(), db_url, "bw", "test", "accept")


def test_presence_in_the_database_follows_the_pure_model(db_url: str) -> None:
    """Random batches with late, duplicate and rebooting traffic: the set-based update
    and the locked path together give what presence.advance gives."""
    rng = random.Random(11)
    w = worker(db_url)
    conn = w.db.connection()
    expected: dict[str, Presence] = {}
    stored_keys: set[tuple[str, int, datetime]] = set()
    for _ in range(30):
        batch = []
        for e in range(5):
            eid = f"E{e}"
            for _ in range(rng.randint(0, 4)):
                seq = rng.randint(0, 40)
                ts = NOW - timedelta(seconds=400 - seq * 5 + rng.choice([0, 0, 0, 1]))
                batch.append(status_sample(eid, seq, ts))
        w.writer.write(conn, batch, [], [])
        for eid in {s.elevator_id for s in batch}:
            new, seen_in_batch = [], set()
            for s in batch:
                key = (s.elevator_id, s.seq, s.ts)
                if s.elevator_id == eid and key not in stored_keys and key not in seen_in_batch:
                    seen_in_batch.add(key)
                    new.append((s.ts, s.seq))
            stored_keys |= seen_in_batch
            expected[eid] = advance(expected.get(eid, Presence()), new, NOW)
    rows = conn.execute(
        "SELECT device_key, messages, seq_gaps, last_seq, last_ts FROM device_presence"
    ).fetchall()
    got = {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}
    want = {k: (p.messages, p.seq_gaps, p.last_seq, p.last_ts) for k, p in expected.items()}
    assert got == want
    total = conn.execute("SELECT count(*) FROM elevator_status").fetchone()
    assert total is not None and total[0] == len(stored_keys)
    w.close()


def test_duplicates_stored_once_and_counted(db_url: str) -> None:
    w = worker(db_url)
    conn = w.db.connection()
    a = [status_sample("E1", i, NOW - timedelta(seconds=60 - i)) for i in range(10)]
    first = w.writer.write(conn, a, [], [])
    again = w.writer.write(conn, a[5:] + [status_sample("E1", 10, NOW)], [], [])
    assert first.stored == {"elevator_status": 10} and first.duplicates == 0
    assert again.stored == {"elevator_status": 1} and again.duplicates == 5
    row = conn.execute("SELECT messages, seq_gaps, last_seq FROM device_presence").fetchone()
    assert row == (11, 0, 10)
    w.close()


def test_old_days_get_their_partition_and_rollup_marks(db_url: str) -> None:
    w = worker(db_url)
    conn = w.db.connection()
    old = (NOW - timedelta(days=20)).replace(minute=7)
    w.writer.write(conn, [status_sample("E1", 0, old)], [], [])
    assert conn.execute("SELECT count(*) FROM elevator_status").fetchone() == (1,)
    marks = [r[0] for r in conn.execute("SELECT bucket FROM rollup_dirty")]
    assert marks == [old.replace(minute=0, second=0, microsecond=0)]
    w.close()


def test_a_value_the_database_refuses_is_dead_lettered_alone(db_url: str) -> None:
    w = worker(db_url)
    good = [status_sample("E1", i, NOW - timedelta(seconds=30 - i)) for i in range(20)]
    # U+0000 in text never passes classification; forged here to prove the last line of
    # defence: the stream goes on and only this message is dead-lettered
    bad_msg = ElevatorEvent(ts=1, seq=99, code="X\x00", state="raise")
    bad = Sample(Channel.EVENT, "E1", NOW, 99, NOW, bad_msg, None, "bw/elevators/E1/event", b"x")
    w([])  # opens the connection
    result = w._write(w.db.connection(), [*good[:7], bad, *good[7:]], [], [])
    assert sum(result.stored.values()) == 20
    assert [d.reason_class for d in result.dead] == ["internal"]
    with psycopg.connect(db_url) as conn:
        reasons = [r[0] for r in conn.execute("SELECT reason FROM dead_letter")]
    assert len(reasons) == 1 and reasons[0].startswith("database refused")
    w.close()
