"""The `alerts` component: the loops that carry changes out of the database.

Each loop is `loop(runtime, stop)` and runs in its own thread: the outbox relay (alert
and ticket messages to MQTT), the delivery worker (webhooks, e-mail, SMS ...), and the
clocks of later capabilities (SLA timers, escalations) registered in LOOPS. Each reports
its progress (`alerts.outbox`, `alerts.delivery`, `alerts.<clock>`) for /healthz.

A clock loop (`clock_loop`) calls its steps, each `step(conn) -> work done`, every tick
on one autocommit connection; the steps read the time from the runtime's clock and keep
their deadlines in the database, so a restart resumes where it stopped.
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


def stats_loop(runtime: Runtime, stop: threading.Event) -> None:
    """Roll up camera hours of the days that are over, for the kitchen statistics."""
    from brightwatch.alerts.stats.queries import rollup_camera_hours

    def rollup(conn: psycopg.Connection[Any]) -> int:
        added = 0
        for _ in range(100):  # a backfill goes in batches; bounded per tick
            batch = rollup_camera_hours(conn, runtime.clock())
            added += batch
            if batch == 0 or stop.is_set():
                break
        return added

    clock_loop(runtime, stop, "stats", runtime.settings.alerts.stats.rollup_every_s, [rollup])


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
