"""Dead letters from every consumer, written to `dead_letter` with a per-device cap.

Ingest writes the messages it refuses in its own batch transaction (`insert`); the other
consumers hand theirs to a `DeadLetterSink` (the `Isolation.dead_letter` of mqttlink). A
flood from one device (a broken camera, an attacker) stores at most `per_hour` letters
per device and hour; the others are counted in `dead_letter_suppressed`, so the table
stays bounded and nothing goes uncounted. Retention: ingest's maintenance job.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

import psycopg
from prometheus_client import Counter

from brightwatch.contract.deadletter import DeadLetter, dead_letter

DEAD_LETTERS = Counter(
    "brightwatch_dead_letters",
    "Messages dead-lettered, by component, topic kind and reason class",
    ["component", "topic_kind", "reason"],
)
SUPPRESSED = Counter(
    "brightwatch_dead_letters_suppressed",
    "Dead letters counted but not stored (over a device's hourly cap)",
    ["component", "topic_kind"],
)

COPY = (
    "COPY dead_letter (received_at, topic, payload, payload_size, reason, worker, topic_kind,"
    " device_key, reason_class) FROM STDIN (FORMAT BINARY)"
)
TYPES = ("timestamptz", "text", "bytea", "int4", "text", "text", "text", "text", "text")
SUPPRESS = (
    "INSERT INTO dead_letter_suppressed AS s (hour, device_key, topic_kind, reason_class,"
    " suppressed) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (hour, device_key, topic_kind,"
    " reason_class) DO UPDATE SET suppressed = s.suppressed + EXCLUDED.suppressed"
)

SuppressedKey = tuple[datetime, str, str, str]  # hour, device key, topic kind, reason class


class FloodCap:
    """At most `per_hour` dead letters stored per device and hour (in this process)."""

    def __init__(self, per_hour: int = 100) -> None:
        self.per_hour = per_hour
        self._counts: dict[tuple[datetime, str], int] = {}

    def split(self, letters: Iterable[DeadLetter]) -> tuple[list[DeadLetter], Tally[SuppressedKey]]:
        keep: list[DeadLetter] = []
        over: Tally[SuppressedKey] = Tally()
        for d in letters:
            hour = d.received_at.replace(minute=0, second=0, microsecond=0)
            key = (hour, d.device_key)
            n = self._counts.get(key, 0) + 1
            if n > self.per_hour:
                over[(hour, d.device_key, d.topic_kind, d.reason_class)] += 1
                continue
            self._counts[key] = n
            keep.append(d)
        if len(self._counts) > 100_000:  # forget the hours that are over
            newest = max(h for h, _ in self._counts)
            self._counts = {k: v for k, v in self._counts.items() if k[0] >= newest}
        return keep, over


def insert(
    conn: psycopg.Connection[Any],
    letters: Sequence[DeadLetter],
    worker: str,
    component: str,
    cap: FloodCap | None = None,
) -> int:
    """Write dead letters in the caller's transaction; returns how many were stored."""
    if not letters:
        return 0
    keep, over = cap.split(letters) if cap is not None else (list(letters), Tally())
    if keep:
        with conn.cursor() as cur, cur.copy(COPY) as copy:
            copy.set_types(list(TYPES))
            for d in keep:
                copy.write_row(
                    (
                        d.received_at,
                        d.topic,
                        d.payload,
                        d.size,
                        d.reason,
                        worker,
                        d.topic_kind,
                        d.device_key,
                        d.reason_class,
                    )
                )
    if over:
        with conn.cursor() as cur:
            cur.executemany(SUPPRESS, [(*k, n) for k, n in sorted(over.items())])
    for (kind, reason), n in Tally((d.topic_kind, d.reason_class) for d in letters).items():
        DEAD_LETTERS.labels(component, kind, reason).inc(n)
    for (_, _, kind, _), n in over.items():
        SUPPRESSED.labels(component, kind).inc(n)
    return len(keep)


class Received(Protocol):
    """What a dead letter reads of a received message (mqttlink.Inbound has it)."""

    topic: str
    payload: bytes
    received_at: datetime


class DeadLetterSink:
    """`Isolation.dead_letter` of a consumer: one transaction per call, on a connection
    kept between calls (a flood must not open a connection per batch) and opened again
    after it broke."""

    def __init__(
        self,
        database_url: str,
        component: str,
        worker: str,
        max_bytes: int = 4096,
        per_device_per_hour: int = 100,
        topic_kind: str | None = None,
    ) -> None:
        self.database_url = database_url
        self.component = component
        self.worker = worker
        self.max_bytes = max_bytes
        self.cap = FloodCap(per_device_per_hour)
        self.topic_kind = topic_kind
        self.stored = 0
        self._conn: psycopg.Connection[Any] | None = None

    def letters(self, rejected: Sequence[tuple[Received, str]]) -> list[DeadLetter]:
        return [
            dead_letter(m.topic, m.payload, reason, m.received_at, self.max_bytes, self.topic_kind)
            for m, reason in rejected
        ]

    def __call__(self, rejected: Sequence[tuple[Received, str]], consumer: str) -> None:
        letters = self.letters(rejected)
        conn = self._connection()
        try:
            with conn.transaction():
                self.stored += insert(conn, letters, self.worker, self.component, self.cap)
        except psycopg.Error:
            if conn.broken or conn.closed:
                self._conn = None
                conn.close()
            raise

    def _connection(self) -> psycopg.Connection[Any]:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            conn = self._conn = psycopg.connect(
                self.database_url,
                autocommit=True,
                connect_timeout=10,
                application_name="brightwatch-dead-letters",
            )
        return conn
