"""The SQLite spool: order per lane, acknowledged rows leave, capacity drops the oldest."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from brightwatch.edge.spool import Outgoing, Spool


def test_rows_come_back_in_order_per_lane_and_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite"
    spool = Spool(path)
    spool.append((i % 2, f"t/{i}", f"m{i}".encode(), 1, i == 0) for i in range(10))
    lane0 = spool.pending(0, 0, 100)
    assert [r.topic for r in lane0] == ["t/0", "t/2", "t/4", "t/6", "t/8"]
    assert lane0[0].retain and not lane0[1].retain
    assert [r.topic for r in spool.pending(0, lane0[1].id, 2)] == ["t/4", "t/6"]
    spool.acknowledge([r.id for r in lane0[:3]])
    assert len(spool) == 7
    spool.close()
    reopened = Spool(path)  # an agent restarted after a crash finds what was not acknowledged
    assert len(reopened) == 7
    assert [r.topic for r in reopened.pending(0, 0, 100)] == ["t/6", "t/8"]
    assert [r.payload for r in reopened.pending(1, 0, 100)] == [b"m1", b"m3", b"m5", b"m7", b"m9"]


def test_capacity_drops_the_oldest(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite", capacity=5)
    spool.append((0, "t", str(i).encode(), 1, False) for i in range(8))
    assert len(spool) == 5 and spool.dropped == 3
    assert [r.payload for r in spool.pending(0, 0, 100)] == [b"3", b"4", b"5", b"6", b"7"]


def test_user_properties_are_kept_with_their_message(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    spool = Spool(path)
    spool.append(
        [
            Outgoing(0, "cam/frame", b"\xff\xd8jpeg", 1, False, (("ts", "1763800000123"),)),
            (0, "cam/availability", b"online", 1, True),  # a plain tuple: no properties
        ]
    )
    spool.close()
    rows = Spool(path).pending(0, 0, 10)
    assert [(r.topic, r.properties) for r in rows] == [
        ("cam/frame", (("ts", "1763800000123"),)),
        ("cam/availability", ()),
    ]


def test_a_spool_from_before_user_properties_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE spool (id INTEGER PRIMARY KEY AUTOINCREMENT, lane INTEGER NOT NULL,"
        " topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL,"
        " retain INTEGER NOT NULL, created REAL NOT NULL)"
    )
    db.execute(
        "INSERT INTO spool (lane, topic, payload, qos, retain, created) VALUES (0, 't', x'01', 1, 0, 0)"
    )
    db.commit()
    db.close()
    spool = Spool(path)
    spool.append([Outgoing(0, "u", b"2", 1, False, (("ts", "5"),))])
    rows = spool.pending(0, 0, 10)
    assert [(r.topic, r.payload, r.properties) for r in rows] == [
        ("t", b"\x01", ()),
        ("u", b"2", (("ts", "5"),)),
    ]
