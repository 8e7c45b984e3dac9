"""Transactional outbox: messages written with the change they announce, relayed to MQTT.

The relay wakes on NOTIFY (and polls as a fallback), publishes pending rows in id order
with QoS 1, waits for the broker's acknowledgement, then marks them published. A crash
between publish and mark re-sends: consumers see at-least-once delivery, as MQTT QoS 1
promises anyway.

A row that cannot be sent must not hold back the rows behind it. A broker that is away
is waited for without limit (nothing is counted against the rows); a batch that fails
while the broker is there is sent again row by row, and a row that fails on its own
`max_attempts` times is set aside (`dead_at`) with a dead letter (topic kind `outbox`).

Replicas: each batch is published inside one transaction that holds a transaction-level
advisory lock (`LOCK_KEY`) as well as the rows (FOR UPDATE), and the rows are marked
published before it commits. Two relays therefore never publish one row twice, and only
one relay publishes at a time: SKIP LOCKED alone would let a second relay publish the
rows behind a batch in flight (or behind a row that keeps failing) before it, out of
order. A relay that finds the lock taken does nothing this pass and tries again at the
next NOTIFY or poll; when the holder dies its transaction ends and the lock with it.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

import psycopg

from brightwatch.contract.deadletter import dead_letter
from brightwatch.db import deadletters
from brightwatch.mqttlink.publisher import Publisher, PublishRefused, PublishTimeout

log = logging.getLogger(__name__)


def enqueue(
    conn: psycopg.Connection[Any], topic: str, payload: bytes, qos: int = 1, retain: bool = False
) -> None:
    conn.execute(
        "INSERT INTO outbox (topic, payload, qos, retain) VALUES (%s, %s, %s, %s)",
        (topic, payload, qos, retain),
    )


Row = tuple[int, str, bytes, int, bool, int]  # id, topic, payload, qos, retain, attempts

LOCK_KEY = "bw_outbox_relay"


class OutboxRelay:
    def __init__(
        self,
        database_url: str,
        publisher: Publisher,
        batch: int = 500,
        max_attempts: int = 5,
        worker: str = "alerts-relay",
        timeout_s: float = 10.0,
        dead_letter_max_bytes: int = 4096,
    ) -> None:
        self.database_url = database_url
        self.publisher = publisher
        self.batch = batch
        self.max_attempts = max_attempts
        self.worker = worker
        self.timeout_s = timeout_s  # for the broker's acknowledgements
        self.dead_letter_max_bytes = dead_letter_max_bytes
        self.published = 0
        self.failures = 0
        self.dead = 0

    def relay_once(self, conn: psycopg.Connection[Any]) -> int:
        """Publish one batch of pending messages; returns how many rows were settled
        (published, or set aside as dead letters); 0 as well when another relay is
        publishing (the lock is taken)."""
        with conn.transaction():
            got = conn.execute(
                "SELECT pg_try_advisory_xact_lock(hashtext(%s))", (LOCK_KEY,)
            ).fetchone()
            if not (got and got[0]):
                return 0
            rows: list[Row] = [
                (i, t, bytes(p), q, r, a)
                for i, t, p, q, r, a in conn.execute(
                    "SELECT id, topic, payload, qos, retain, attempts FROM outbox"
                    " WHERE published_at IS NULL AND dead_at IS NULL"
                    " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                    (self.batch,),
                )
            ]
            if not rows:
                return 0
            try:
                self.publisher.publish_confirmed(
                    [(t, p, q, r) for _, t, p, q, r, _ in rows], self.timeout_s
                )
                published, dead = [r[0] for r in rows], 0
            except PublishRefused as exc:
                stop = len(rows) if exc.unsent_from is None else exc.unsent_from
                failed = set(exc.failed)
                published = [r[0] for i, r in enumerate(rows[:stop]) if i not in failed]
                dead = sum(self._failed(conn, rows[i], exc) for i in sorted(failed))
            except PublishTimeout:
                if not self.publisher.connected.is_set():
                    raise  # the broker is away: wait for it, nothing is the rows' fault
                published, dead = self._one_by_one(conn, rows)
            if published:
                conn.execute(
                    "UPDATE outbox SET published_at = now() WHERE id = ANY(%s)", (published,)
                )
        self.published += len(published)
        return len(published) + dead

    def _one_by_one(self, conn: psycopg.Connection[Any], rows: list[Row]) -> tuple[list[int], int]:
        """After a timeout with the broker there: find the row it will not take."""
        published: list[int] = []
        for row in rows:
            try:
                self.publisher.publish_confirmed([row[1:5]], self.timeout_s)
            except PublishRefused as exc:
                return published, int(self._failed(conn, row, exc))
            except PublishTimeout as exc:
                if not self.publisher.connected.is_set():
                    raise
                return published, int(self._failed(conn, row, exc))
            published.append(row[0])
        return published, 0

    def _failed(self, conn: psycopg.Connection[Any], row: Row, exc: Exception) -> bool:
        """Count a failed try of a row; after max_attempts set it aside as a dead letter
        (True). Until then it stays first in line: the rows behind it wait, order kept."""
        row_id, topic, payload, _, _, attempts = row
        self.failures += 1
        reason = f"refused by {self.worker}: {type(exc).__name__}: {str(exc)[:300]}"
        log.warning("outbox row %d on %s failed: %s", row_id, topic[:200], reason)
        if attempts + 1 < self.max_attempts:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = %s WHERE id = %s",
                (reason, row_id),
            )
            return False
        conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = %s, dead_at = now()"
            " WHERE id = %s",
            (reason, row_id),
        )
        letter = dead_letter(
            topic, payload, reason, datetime.now(UTC), self.dead_letter_max_bytes, "outbox"
        )
        deadletters.insert(conn, [letter], self.worker, "alerts")
        self.dead += 1
        return True

    def run(self, stop: threading.Event, poll_s: float = 1.0) -> None:
        self.publisher.start()
        while not stop.is_set():
            try:
                with psycopg.connect(self.database_url, autocommit=True) as conn:
                    conn.execute("LISTEN bw_outbox")
                    while not stop.is_set():
                        while self.relay_once(conn):
                            if stop.is_set():
                                return
                        # wait for a NOTIFY (or poll)
                        for _ in conn.notifies(timeout=poll_s, stop_after=1):
                            pass
            except (psycopg.Error, PublishTimeout) as exc:
                self.failures += 1
                log.warning("outbox relay: %s; retrying", exc)
                stop.wait(1.0)

    @staticmethod
    def purge_published(conn: psycopg.Connection[Any], keep_days: int = 7) -> int:
        cur = conn.execute(
            "DELETE FROM outbox WHERE published_at < now() - make_interval(days => %s)",
            (keep_days,),
        )
        return cur.rowcount
