"""Deliveries against real local receivers: an HTTP server, and one that is down."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import psycopg
import pytest

from brightwatch.alerts.delivery import Backoff, DeliveryWorker, enqueue
from brightwatch.embedded import free_port


class Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_webhook_delivered_and_dead_receiver_retried_without_blocking(
    db_url: str, receiver: str
) -> None:
    clock = Clock()
    dead = f"http://127.0.0.1:{free_port()}/nobody"
    worker = DeliveryWorker(db_url, clock, Backoff(base_s=10, max_s=60, max_attempts=3))
    with psycopg.connect(db_url, autocommit=True) as conn:
        dead_id = enqueue(conn, "webhook", dead, {"n": 0}, subject="ticket:1", at=clock.now)
        ok_id = enqueue(conn, "webhook", receiver, {"n": 1}, subject="ticket:2", at=clock.now)
        worker.step(conn)
        worker.drain(conn)
        assert Receiver.received == [{"n": 1}]
        rows = dict(conn.execute("SELECT id, state FROM delivery").fetchall())
        assert rows == {dead_id: "pending", ok_id: "delivered"}
        # not due yet: nothing is attempted before the backoff elapses
        assert worker.step(conn) == 0
        for _ in range(2):
            clock.now += timedelta(minutes=5)
            assert worker.step(conn) == 1
            worker.drain(conn)
        state, attempts, error = conn.execute(
            "SELECT state, attempts, last_error FROM delivery WHERE id = %s", (dead_id,)
        ).fetchone()
        assert (state, attempts) == ("failed", 3) and "ConnectError" in error


def test_unknown_channel_refused(db_url: str) -> None:
    with (
        psycopg.connect(db_url) as conn,
        pytest.raises(ValueError, match="unknown delivery channel"),
    ):
        enqueue(conn, "pigeon", "x", {}, at=datetime.now(UTC))


def test_two_workers_never_send_one_delivery_twice(db_url: str, receiver: str) -> None:
    """Replicas of the alerts component: each claims its rows (leased, SKIP LOCKED)."""
    clock = Clock()
    workers = [DeliveryWorker(db_url, clock, Backoff(), batch=7) for _ in range(2)]
    with psycopg.connect(db_url, autocommit=True) as conn:
        ids = [
            enqueue(conn, "webhook", receiver, {"n": i}, subject=f"t:{i}", at=clock.now)
            for i in range(30)
        ]
        for _ in range(10):  # bounded: each pass both workers claim, then record
            started = [w.step(conn) for w in workers]
            for w in workers:
                w.drain(conn)
            if not any(started):
                break
        assert sorted(r["n"] for r in Receiver.received) == list(range(30))
        states = conn.execute(
            "SELECT count(*) FILTER (WHERE state = 'delivered'), max(attempts) FROM delivery"
            " WHERE id = ANY(%s)",
            (ids,),
        ).fetchone()
        assert states == (30, 1)
        # a claim held by a worker that went away runs out, and another worker sends it
        lost = enqueue(conn, "webhook", receiver, {"n": "lost"}, subject="t:lost", at=clock.now)
        conn.execute(
            "UPDATE delivery SET next_attempt_at = %s WHERE id = %s",
            (clock.now + timedelta(minutes=2), lost),
        )
        assert workers[1].step(conn) == 0
        clock.now += timedelta(minutes=3)
        assert workers[1].step(conn) == 1
        workers[1].drain(conn)
        assert {"n": "lost"} in Receiver.received
