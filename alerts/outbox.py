"""Transactional outbox: messages written with the change they announce, relayed to MQTT.

The relay wakes on NOTIFY (and polls as a fallback), publishes pending rows in id order
with QoS 1, waits for the broker's acknowledgement, then marks them published. A crash
between publish and mark re-sends: consumers see at-least-once delivery, as MQTT QoS 1
promises anyway.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg

from mqttlink.publisher import Publisher, PublishTimeout

log = logging.getLogger(__name__)


def enqueue(
    conn: psycopg.Connection[Any], topic: str, payload: bytes, qos: int = 1, retain: bool = False
) -> None:
    conn.execute(
        "INSERT INTO outbox (topic, payload, qos, retain) VALUES (%s, %s, %s, %s)",
        (topic, payload, qos, retain),
    )


class OutboxRelay:
    def __init__(self, database_url: str, publisher: Publisher, batch: int = 500) -> None:
        self.database_url = database_url
        self.publisher = publisher
        self.batch = batch
        self.published = 0
        self.failures = 0

    def relay_once(self, conn: psycopg.Connection[Any]) -> int:
        """Publish one batch of pending messages; returns how many were published."""
        with conn.transaction():
            rows = conn.execute(
                "SELECT id, topic, payload, qos, retain FROM outbox WHERE published_at IS NULL"
                " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                (self.batch,),
            ).fetchall()
            if not rows:
                return 0
            self.publisher.publish_confirmed([(t, bytes(p), q, r) for _, t, p, q, r in rows])
            conn.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY(%s)", ([r[0] for r in rows],)
            )
        self.published += len(rows)
        return len(rows)

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
