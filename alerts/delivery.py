"""Deliveries to the outside world, retried with backoff, one channel never blocking another.

A delivery is a row in `delivery` written in the transaction of the change it reports
(a ticket dispatched, an alert notified), so nothing is lost. The worker claims due rows,
hands each to its channel plugin on that channel's own thread pool (a dead SMTP server
or a slow webhook delays only its own channel), records the outcome and reschedules
failures with exponential backoff until `max_attempts`.

Replicas: a due row is leased (`CLAIM_LEASE`) in the statement that picks it, skipping
rows another replica holds, so without crashes every delivery is sent once. A replica
that dies between sending and recording leaves a lease that runs out, and the row is
sent again (at-least-once); channels that can (`send_keyed`: webhook, sms, email) hand
the receiver the same idempotency key on every attempt (`idempotency_key`), so it can
drop the repeat.

The channels are the plugins of `alerts.channels` (webhook, mqtt, email, sms), each built
once with the worker's `ChannelContext` (channel settings, broker address); importing
this module registers them. The worker reports every outcome to an optional `on_outcome`
callback, which the notification pipeline uses to write the alert history.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import psycopg
from prometheus_client import Counter
from psycopg.types.json import Jsonb

from brightwatch.alerts.channels import (
    CHANNELS,
    Channel,
    ChannelContext,
    DeliveryDeferred,
    DeliveryError,
    idempotency_key,
)

if TYPE_CHECKING:
    from brightwatch.alerts.routing.notification import Notification

log = logging.getLogger(__name__)

# how long a claimed delivery is left to its worker before another may try it: longer
# than any channel's request timeout (seconds), short enough to survive a lost replica
CLAIM_LEASE = timedelta(minutes=2)

DELIVERIES = Counter(
    "brightwatch_deliveries_total",
    "Delivery attempts by channel and outcome",
    ["channel", "outcome"],
)


def enqueue(
    conn: psycopg.Connection[Any],
    channel: str,
    target: str,
    payload: dict[str, Any],
    subject: str | None = None,
    *,
    at: datetime,
    notification_id: int | None = None,
) -> int:
    """Queue one delivery, first due at `at` (the caller's clock, never the database's:
    the worker compares due times with its own clock)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown delivery channel {channel!r}")
    row = conn.execute(
        "INSERT INTO delivery (channel, target, subject, payload, next_attempt_at, notification_id)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (channel, target, subject, Jsonb(payload), at, notification_id),
    ).fetchone()
    assert row is not None
    return int(row[0])


def render(channel: str, notification: Notification) -> dict[str, Any]:
    """The delivery payload of an alert notification for this channel."""
    renderer = getattr(CHANNELS[channel], "render", None)
    if renderer is None:
        return notification.alertmanager()
    return renderer(notification)


@dataclass
class Backoff:
    base_s: float = 2.0
    max_s: float = 600.0
    max_attempts: int = 12

    def delay(self, attempts: int) -> timedelta:
        d = min(self.base_s * 2 ** max(attempts - 1, 0), self.max_s)
        return timedelta(seconds=d * random.uniform(0.8, 1.2))


@dataclass(frozen=True)
class DeliveryOutcome:
    """One finished attempt, as reported to `on_outcome`."""

    delivery_id: int
    channel: str
    target: str
    subject: str | None
    notification_id: int | None
    outcome: str  # delivered | retry | failed
    attempts: int
    error: str | None
    next_attempt_at: datetime | None
    at: datetime


OutcomeHook = Callable[[psycopg.Connection[Any], DeliveryOutcome], None]


class DeliveryWorker:
    def __init__(
        self,
        database_url: str,
        clock: Callable[[], datetime],
        backoff: Backoff | None = None,
        batch: int = 100,
        threads_per_channel: int = 4,
        context: ChannelContext | None = None,
        on_outcome: OutcomeHook | None = None,
    ) -> None:
        self.database_url = database_url
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.batch = batch
        self.threads = threads_per_channel
        self.context = context or ChannelContext()
        self.on_outcome = on_outcome
        self._channels: dict[str, Channel] = {}
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._in_flight: dict[int, Future[None]] = {}
        # progress, the figures mqttlink's consumers keep (the service's /healthz reads them)
        self.batches = 0
        self.failures = 0
        self.consecutive_failures = 0
        self.failing_since: float | None = None
        self.last_commit_at: float | None = None

    @property
    def backlog(self) -> int:
        """Attempts in flight."""
        return len(self._in_flight)

    def _channel(self, key: str) -> tuple[Channel, ThreadPoolExecutor]:
        if key not in self._channels:
            self._channels[key] = CHANNELS[key](self.context)
            self._pools[key] = ThreadPoolExecutor(
                self.threads, thread_name_prefix=f"bw-deliver-{key}"
            )
        return self._channels[key], self._pools[key]

    def _finish(self, conn: psycopg.Connection[Any]) -> int:
        """Record the outcome of every finished attempt."""
        done = [i for i, f in self._in_flight.items() if f.done()]
        now = self.clock()
        for delivery_id in done:
            fut = self._in_flight.pop(delivery_id)
            exc = fut.exception()
            row = conn.execute(
                "SELECT channel, attempts, target, subject, notification_id FROM delivery"
                " WHERE id = %s",
                (delivery_id,),
            ).fetchone()
            if row is None:
                continue
            channel, attempts = row[0], row[1] + 1

            outcome = partial(DeliveryOutcome, delivery_id, channel, row[2], row[3], row[4])

            if exc is None:
                conn.execute(
                    "UPDATE delivery SET state = 'delivered', attempts = %s, delivered_at = %s,"
                    " last_error = NULL WHERE id = %s",
                    (attempts, now, delivery_id),
                )
                DELIVERIES.labels(channel, "delivered").inc()
                self._report(conn, outcome("delivered", attempts, None, None, now))
                continue
            error = (
                str(exc)[:500]
                if isinstance(exc, DeliveryError)
                else f"{type(exc).__name__}: {exc}"[:500]
            )
            if isinstance(exc, DeliveryDeferred):
                # held on purpose (a robot's rate limit; it rides in a later batch to the same
                # target): not a failed attempt, so a long storm cannot use the attempts up
                next_at = now + timedelta(seconds=exc.retry_after_s)
                conn.execute(
                    "UPDATE delivery SET last_error = %s, next_attempt_at = %s WHERE id = %s",
                    (error, next_at, delivery_id),
                )
                DELIVERIES.labels(channel, "deferred").inc()
                self._report(conn, outcome("retry", row[1], error, next_at, now))
                continue
            if attempts >= self.backoff.max_attempts:
                conn.execute(
                    "UPDATE delivery SET state = 'failed', attempts = %s, last_error = %s WHERE id = %s",
                    (attempts, error, delivery_id),
                )
                DELIVERIES.labels(channel, "failed").inc()
                log.warning("delivery %d over %s failed for good: %s", delivery_id, channel, error)
                self._report(conn, outcome("failed", attempts, error, None, now))
            else:
                next_at = now + self.backoff.delay(attempts)
                conn.execute(
                    "UPDATE delivery SET attempts = %s, last_error = %s, next_attempt_at = %s WHERE id = %s",
                    (attempts, error, next_at, delivery_id),
                )
                DELIVERIES.labels(channel, "retry").inc()
                self._report(conn, outcome("retry", attempts, error, next_at, now))
        return len(done)

    def _report(self, conn: psycopg.Connection[Any], outcome: DeliveryOutcome) -> None:
        if self.on_outcome is None:
            return
        try:
            self.on_outcome(conn, outcome)
        except psycopg.Error:
            raise
        except Exception:  # a faulty hook must not stop deliveries
            log.exception("delivery outcome hook failed for delivery %d", outcome.delivery_id)

    def step(self, conn: psycopg.Connection[Any]) -> int:
        """Finish completed attempts and start due ones; returns how many were started."""
        self._finish(conn)
        busy = list(self._in_flight) or [0]
        now = self.clock()
        # claimed, not only read: the due rows are leased (next_attempt_at moved past the
        # attempt's longest run) in one statement that skips rows another replica holds,
        # so two delivery workers never send one delivery twice; the attempt's outcome
        # (_finish) replaces the lease, and a replica that dies mid-attempt leaves a lease
        # that runs out, after which another replica tries again
        rows = conn.execute(
            "UPDATE delivery SET next_attempt_at = %s WHERE id IN ("
            " SELECT id FROM delivery"
            " WHERE state = 'pending' AND next_attempt_at <= %s AND id <> ALL(%s)"
            " ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED)"
            " RETURNING id, channel, target, payload, subject",
            (now + CLAIM_LEASE, now, busy, self.batch),
        ).fetchall()
        rows.sort(key=lambda r: r[0])
        for delivery_id, channel_key, target, payload, subject in rows:
            if channel_key not in CHANNELS:
                conn.execute(
                    "UPDATE delivery SET state = 'failed', last_error = %s WHERE id = %s",
                    (f"unknown channel {channel_key}", delivery_id),
                )
                DELIVERIES.labels(channel_key, "failed").inc()
                continue
            channel, pool = self._channel(channel_key)
            keyed = getattr(channel, "send_keyed", None)
            if keyed is not None:
                key = idempotency_key(delivery_id)
                self._in_flight[delivery_id] = pool.submit(keyed, target, payload, subject, key)
            else:
                self._in_flight[delivery_id] = pool.submit(channel.send, target, payload, subject)
        return len(rows)

    def _went_through(self) -> None:
        self.batches += 1
        self.consecutive_failures = 0
        self.failing_since = None
        self.last_commit_at = time.time()

    def drain(self, conn: psycopg.Connection[Any], timeout: float = 30.0) -> None:
        """Wait for attempts in flight and record them (tests, shutdown)."""
        for fut in list(self._in_flight.values()):
            with contextlib.suppress(Exception):  # the outcome is recorded by _finish
                fut.result(timeout)
        self._finish(conn)

    def run(self, stop: threading.Event, poll_s: float = 0.5) -> None:
        while not stop.is_set():
            try:
                with psycopg.connect(self.database_url, autocommit=True) as conn:
                    while not stop.is_set():
                        self.step(conn)
                        self._went_through()
                        stop.wait(poll_s)
                    self.drain(conn, timeout=5.0)
            except psycopg.Error as exc:
                self.failures += 1
                self.consecutive_failures += 1
                if self.failing_since is None:
                    self.failing_since = time.time()
                log.warning("delivery worker: %s; retrying", exc)
                stop.wait(1.0)
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
