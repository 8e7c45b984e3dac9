"""The `alerts` component: the loops that carry changes out of the database.

Each loop is `loop(runtime, stop)` and runs in its own thread: the outbox relay (alert
and ticket messages to MQTT), the delivery worker (webhooks, e-mail, SMS ...), and the
clocks of later capabilities (SLA timers, escalations) registered in LOOPS. Each reports
its progress (`alerts.outbox`, `alerts.delivery`, `alerts.<clock>`) for /healthz.

A clock loop (`clock_loop`) calls its steps, each `step(conn) -> work done`, every tick
on one autocommit connection; the steps read the time from the runtime's clock and keep
their deadlines in the database, so a restart resumes where it stopped.

Replicas (2-3 `alerts` processes, each with its own BW_INSTANCE) never do one piece of
work twice: deliveries are leased with FOR UPDATE SKIP LOCKED (`alerts.delivery`), the
outbox relay publishes under a transaction-level advisory lock (`alerts.outbox`), the
clocks claim each due row FOR UPDATE SKIP LOCKED and re-check it is still due
(`alerts.due.claim_due`), the camera-hours rollup runs each batch under a transaction-
level advisory lock, and the fleet rollup beside this component runs in one replica at a
time (`exclusive_loop`: a session-level advisory lock, taken over within `LEADER_RETRY_S`
when its holder goes away).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from brightwatch.alerts.delivery import ChannelContext, DeliveryWorker
from brightwatch.alerts.outbox import OutboxRelay
from brightwatch.mqttlink.publisher import Publisher
from brightwatch.progress import Beat, loop_progress
from brightwatch.runtime import Runtime

log = logging.getLogger(__name__)

Loop = Callable[[Runtime, threading.Event], None]

STATS_LOCK = "bw_camera_hours_rollup"
FLEET_ROLLUP_LOCK = "bw_fleet_rollup"
LEADER_RETRY_S = 5.0


def try_xact_lock(conn: psycopg.Connection[Any], key: str) -> bool:
    """A transaction-level advisory lock on `key`, if free (call inside a transaction)."""
    got = conn.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", (key,)).fetchone()
    return bool(got and got[0])


def exclusive_loop(
    runtime: Runtime,
    stop: threading.Event,
    key: str,
    loop: Loop,
    retry_s: float = LEADER_RETRY_S,
) -> None:
    """Run `loop(runtime, inner_stop)` only while this process holds the session-level
    advisory lock `key`, so one replica runs it at a time. The others try for the lock
    every `retry_s`; the holder's lock goes with its connection (a crash, a lost
    database), checked every `retry_s`, after which the loop is stopped and the lock
    sought again. A loop that ends by itself fails the process, as upkeep does."""
    while not stop.is_set():
        try:
            with psycopg.connect(
                runtime.database_url, autocommit=True, application_name=f"brightwatch-{key}"
            ) as conn:
                while not stop.is_set():
                    got = conn.execute(
                        "SELECT pg_try_advisory_lock(hashtext(%s))", (key,)
                    ).fetchone()
                    if got and got[0]:
                        break
                    stop.wait(retry_s)
                if stop.is_set():
                    return
                log.info("%s: this replica (%s) runs it", key, runtime.settings.instance)
                inner = threading.Event()
                thread = threading.Thread(
                    target=loop, args=(runtime, inner), name=f"bw-{key}", daemon=True
                )
                thread.start()
                try:
                    while not stop.wait(retry_s):
                        if not thread.is_alive():
                            raise RuntimeError(f"{key}: the loop ended by itself")
                        conn.execute("SELECT 1")  # the lock lives as long as this connection
                finally:
                    inner.set()
                    thread.join(15)
        except psycopg.Error as exc:
            log.warning("%s: lock connection lost (%s); trying again", key, exc)
            stop.wait(retry_s)


def fleet_rollup_loop(runtime: Runtime, stop: threading.Event) -> None:
    """The dashboards' fleet rollup (`dashboards.rollup.loop`) in one replica at a time."""
    from brightwatch.dashboards.rollup import loop

    exclusive_loop(runtime, stop, FLEET_ROLLUP_LOCK, loop)


class ReportingRelay(OutboxRelay):
    """The outbox relay, reporting each pass that went through (progress
    `alerts.outbox`; its failures are the relay's own count)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.beat = Beat(failures=lambda: self.failures)

    def relay_once(self, conn: psycopg.Connection[Any]) -> int:
        published = super().relay_once(conn)
        self.beat.good()
        return published


def outbox_loop(runtime: Runtime, stop: threading.Event) -> None:
    publisher = Publisher(runtime.broker, runtime.client_id("alerts-relay"))
    runtime.health["mqtt-alerts"] = publisher.connected.is_set
    relay = ReportingRelay(
        runtime.database_url,
        publisher,
        batch=runtime.settings.alerts.outbox_batch,
        dead_letter_max_bytes=runtime.settings.ingest.dead_letter_max_bytes,
    )
    runtime.progress["alerts.outbox"] = relay.beat
    try:
        relay.run(stop)
    finally:
        publisher.close()


Step = Callable[[psycopg.Connection[Any]], Any]


def clock_loop(
    runtime: Runtime, stop: threading.Event, name: str, tick_s: float, steps: Sequence[Step]
) -> None:
    """Run `steps` every `tick_s` until stopped, reconnecting after database errors.
    Progress: `alerts.<name>`, a good pass when every step went through."""
    beat = runtime.progress[f"alerts.{name}"] = Beat()
    while not stop.is_set():
        try:
            with psycopg.connect(runtime.database_url, autocommit=True) as conn:
                while not stop.is_set():
                    for step in steps:
                        step(conn)
                    beat.good()
                    stop.wait(tick_s)
        except psycopg.Error as exc:
            beat.failed()
            log.warning("%s clock: %s; retrying", name, exc)
            stop.wait(min(5.0, tick_s * 2))


def delivery_loop(runtime: Runtime, stop: threading.Event) -> None:

    context = ChannelContext(
        runtime.settings.alerts.channels, runtime.broker, runtime.client_id("alerts-delivery")
    )
    worker = DeliveryWorker(
        runtime.database_url,
        runtime.clock,
        context=context,
        on_outcome=runtime.pipeline.on_delivery_outcome,
    )
    runtime.progress["alerts.delivery"] = loop_progress(worker)
    worker.run(stop)


def notify_loop(runtime: Runtime, stop: threading.Event) -> None:
    """Silences coming into force and running out, group flushes, escalation chains."""

    p = runtime.pipeline
    tick = runtime.settings.alerts.notify.tick_s
    clock_loop(runtime, stop, "notify", tick, [p.silence_clock, p.flush_due, p.escalate_due])


def review_loop(runtime: Runtime, stop: threading.Event) -> None:
    """Kitchen cases: late plans, overdue rectifications, yellow and red cards."""

    desk = runtime.reviews
    clock_loop(runtime, stop, "review", runtime.settings.alerts.review.tick_s, [desk.clock_step])


def camera_hours_step(runtime: Runtime, stop: threading.Event) -> Step:
    """The stats loop's step: camera hours rolled up in batches, each under a transaction-
    level advisory lock (a replica that finds it taken leaves the tick to the other)."""
    from brightwatch.alerts.stats import queries

    def rollup(conn: psycopg.Connection[Any]) -> int:
        added = 0
        for _ in range(100):  # a backfill goes in batches; bounded per tick
            with conn.transaction():
                if not try_xact_lock(conn, STATS_LOCK):
                    break  # another replica is rolling up
                batch = queries.rollup_camera_hours(conn, runtime.clock())
            added += batch
            if batch == 0 or stop.is_set():
                break
        return added

    return rollup


def stats_loop(runtime: Runtime, stop: threading.Event) -> None:
    """Roll up camera hours of the days that are over, for the kitchen statistics."""
    step = camera_hours_step(runtime, stop)
    clock_loop(runtime, stop, "stats", runtime.settings.alerts.stats.rollup_every_s, [step])


def tickets_loop(runtime: Runtime, stop: threading.Event) -> None:
    """Ticket SLA deadlines (breach alerts, escalation), arrival from telemetry, verification."""

    desk = runtime.tickets
    steps = [desk.clock_step, desk.arrival_step, desk.verify_step]
    clock_loop(runtime, stop, "tickets", runtime.settings.alerts.tickets.tick_s, steps)


LOOPS: dict[str, Loop] = {
    "outbox": outbox_loop,
    "delivery": delivery_loop,
    "notify": notify_loop,
    "review": review_loop,
    "stats": stats_loop,
    "tickets": tickets_loop,
}


def run(runtime: Runtime, stop: threading.Event) -> None:
    threads = []
    failed = threading.Event()

    def guard(name: str, loop: Loop) -> None:
        try:
            loop(runtime, stop)
        except Exception:
            log.exception("alerts loop %s failed", name)
            failed.set()
            stop.set()

    for name, loop in LOOPS.items():
        t = threading.Thread(target=guard, args=(name, loop), name=f"bw-alerts-{name}", daemon=True)
        t.start()
        threads.append(t)
    stop.wait()
    for t in threads:
        t.join(15)
    if failed.is_set():
        raise RuntimeError("an alerts loop failed")
