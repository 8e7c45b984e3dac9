"""The `alerts` component: the loops that carry changes out of the database.

Each loop is `loop(runtime, stop)` and runs in its own thread: the outbox relay (alert
and ticket messages to MQTT), the delivery worker (webhooks, e-mail, SMS ...), and the
clocks of later capabilities (SLA timers, escalations) registered in LOOPS.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from alerts.delivery import DeliveryWorker
from alerts.outbox import OutboxRelay
from brightwatch.runtime import Runtime
from dashboards import rollup as fleet_rollup
from mqttlink.publisher import Publisher

log = logging.getLogger(__name__)

Loop = Callable[[Runtime, threading.Event], None]


def outbox_loop(runtime: Runtime, stop: threading.Event) -> None:
    publisher = Publisher(runtime.broker, runtime.client_id("alerts-relay"))
    runtime.health["mqtt-alerts"] = publisher.connected.is_set
    relay = OutboxRelay(runtime.database_url, publisher, batch=runtime.settings.alerts.outbox_batch)
    try:
        relay.run(stop)
    finally:
        publisher.close()


def delivery_loop(runtime: Runtime, stop: threading.Event) -> None:
    DeliveryWorker(runtime.database_url, runtime.clock).run(stop)


LOOPS: dict[str, Loop] = {
    "outbox": outbox_loop,
    "delivery": delivery_loop,
    "fleet_rollup": fleet_rollup.loop,  # the city dashboard's per-district hourly rollup
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
