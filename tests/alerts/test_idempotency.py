"""Outside receivers and replicas of the delivery worker, against a real local HTTP
receiver that keeps the idempotency keys it has seen (as integrators are told to):

(a) without crashes, two workers send every delivery once;
(b) a worker that dies after sending and before recording leaves a lease that runs out;
    another worker sends the row again with the same Idempotency-Key, and the receiver
    drops the repeat (at-least-once, deduplicated by the receiver)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from brightwatch.alerts.channels import idempotency_key
from brightwatch.alerts.delivery import CLAIM_LEASE, DeliveryWorker, enqueue
from tests.alerts.test_channels import HttpReceiver


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def keys(hook: HttpReceiver) -> list[str]:
    return [r["headers"]["Idempotency-Key"] for r in hook.requests]


def test_two_workers_send_each_delivery_once_with_a_stable_key(db_url: str) -> None:
    hook = HttpReceiver()
    clock = Clock()
    a, b = DeliveryWorker(db_url, clock, batch=3), DeliveryWorker(db_url, clock, batch=3)
    try:
        with (
            psycopg.connect(db_url, autocommit=True) as ca,
            psycopg.connect(db_url, autocommit=True) as cb,
        ):
            ids = [
                enqueue(ca, "webhook", hook.url + "/n", {"n": n}, at=clock.now) for n in range(10)
            ]
            for _ in range(4):  # interleaved, as two replicas polling at once
                a.step(ca)
                b.step(cb)
            a.drain(ca)
            b.drain(cb)
            states = ca.execute("SELECT DISTINCT state FROM delivery").fetchall()
    finally:
        hook.close()
    assert states == [("delivered",)]
    assert sorted(keys(hook)) == sorted(idempotency_key(i) for i in ids)  # each once


def test_a_crash_between_send_and_record_resends_with_the_same_key(db_url: str) -> None:
    hook = HttpReceiver()
    clock = Clock()
    dying = DeliveryWorker(db_url, clock)
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            row = enqueue(conn, "webhook", hook.url + "/n", {"n": 1}, at=clock.now)
            assert dying.step(conn) == 1
            # it sent; it dies before recording (its _finish never runs)
            dying._in_flight[row].result(10)
            dying._in_flight.clear()
            assert len(hook.requests) == 1
            other = DeliveryWorker(db_url, clock)
            assert other.step(conn) == 0  # still leased to the dead worker
            clock.now += CLAIM_LEASE + timedelta(seconds=1)
            assert other.step(conn) == 1  # the lease ran out: sent again
            other.drain(conn)
            state = conn.execute("SELECT state FROM delivery WHERE id = %s", (row,)).fetchone()
    finally:
        hook.close()
    assert state == ("delivered",)
    assert keys(hook) == [idempotency_key(row)] * 2  # at-least-once, one key
    assert len(set(keys(hook))) == 1  # what a deduplicating receiver keeps
