"""Store-and-forward spool: an SQLite queue of outgoing MQTT messages at the edge.

Shared by the agents at the site (simulated elevator terminals, the camera agent).

Every message is written here before it is handed to the MQTT client and deleted only
once the broker acknowledged it (PUBACK), so a broker that is away for minutes, or an
agent that crashes, loses nothing: the rows wait, in order, and are published again from
the oldest. Each message belongs to a lane (one MQTT connection); order is kept per lane.

Beyond `capacity` rows the oldest are dropped (and counted): an edge box must not fill
its disk during a week-long outage.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)


UserProperties = tuple[tuple[str, str], ...]


class Outgoing(NamedTuple):
    """One message to spool; `properties` are MQTT 5 user properties (a camera frame's
    capture time `ts`), dropped on MQTT 3.1.1 connections."""

    lane: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: UserProperties = ()


@dataclass(frozen=True, slots=True)
class Spooled:
    id: int
    lane: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: UserProperties = ()


class Spool:
    def __init__(self, path: Path, capacity: int = 1_000_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.capacity = capacity
        self.dropped = 0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # WAL + NORMAL: a commit survives a crash of the agent; only a power cut may lose
        # the last moments, the usual trade-off for an edge box writing all day
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS spool ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " lane INTEGER NOT NULL,"
            " topic TEXT NOT NULL,"
            " payload BLOB NOT NULL,"
            " qos INTEGER NOT NULL,"
            " retain INTEGER NOT NULL,"
            " created REAL NOT NULL,"
            " properties TEXT)"
        )
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(spool)")}
        if "properties" not in columns:  # a spool written before user properties existed
            self._db.execute("ALTER TABLE spool ADD COLUMN properties TEXT")
        self._db.execute("CREATE INDEX IF NOT EXISTS spool_lane ON spool (lane, id)")
        self._count = self._db.execute("SELECT count(*) FROM spool").fetchone()[0]

    def append(self, rows: Iterable[Outgoing | tuple[int, str, bytes, int, bool]]) -> int:
        """Store `Outgoing` rows (or plain (lane, topic, payload, qos, retain) tuples) in
        one transaction."""
        now = time.time()
        outgoing = [row if isinstance(row, Outgoing) else Outgoing(*row) for row in rows]
        batch = [
            (o.lane, o.topic, o.payload, o.qos, int(o.retain), now, _encode_properties(o))
            for o in outgoing
        ]
        if not batch:
            return 0
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO spool (lane, topic, payload, qos, retain, created, properties)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
            self._count += len(batch)
            excess = self._count - self.capacity
            if excess > 0:
                self._db.execute(
                    "DELETE FROM spool WHERE id IN (SELECT id FROM spool ORDER BY id LIMIT ?)",
                    (excess,),
                )
                self._count -= excess
                self.dropped += excess
            self._db.execute("COMMIT")
        if excess > 0:
            log.warning("spool full (%d): dropped the %d oldest messages", self.capacity, excess)
        return len(batch)

    def pending(self, lane: int, after_id: int, limit: int) -> list[Spooled]:
        """The lane's messages after `after_id`, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, lane, topic, payload, qos, retain, properties FROM spool"
                " WHERE lane = ? AND id > ? ORDER BY id LIMIT ?",
                (lane, after_id, limit),
            ).fetchall()
        return [
            Spooled(i, ln, t, bytes(p), q, bool(r), _decode_properties(props))
            for i, ln, t, p, q, r, props in rows
        ]

    def acknowledge(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self._lock:
            self._db.execute("BEGIN")
            cur = self._db.executemany("DELETE FROM spool WHERE id = ?", [(i,) for i in ids])
            self._db.execute("COMMIT")
            self._count = max(0, self._count - max(cur.rowcount, 0))

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _encode_properties(o: Outgoing) -> str | None:
    return json.dumps(o.properties) if o.properties else None


def _decode_properties(text: str | None) -> UserProperties:
    if not text:
        return ()
    return tuple((str(k), str(v)) for k, v in json.loads(text))
