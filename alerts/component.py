"""The `alerts` component: relays the outbox (alert and ticket messages) to the broker."""

from __future__ import annotations

import threading

from alerts.outbox import OutboxRelay
from brightwatch.runtime import Runtime
from mqttlink.publisher import Publisher


def run(runtime: Runtime, stop: threading.Event) -> None:
    publisher = Publisher(runtime.broker, runtime.client_id("alerts-relay"))
    runtime.health["mqtt-alerts"] = publisher.connected.is_set
    relay = OutboxRelay(runtime.database_url, publisher, batch=runtime.settings.alerts.outbox_batch)
    try:
        relay.run(stop)
    finally:
        publisher.close()
