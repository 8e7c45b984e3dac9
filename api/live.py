"""The live alert stream's wake-up call: one MQTT client per API process.

The alerts component's outbox publishes every alert change on `<root>/alerts/{kind}/
{device_id}` after its commit. Each API process (each worker of `brightwatch serve`)
subscribes there with a client id of its own (instance, host and pid: two workers never
take each other's session over), and wakes its stream clients, which then read the new
alert events from the database from their own cursor. The database stays the record:
a client gets every event once whichever worker it is connected to, a message lost
while the broker is away only delays an event until the next poll (`live_poll_s`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from typing import Any

from brightwatch.contract.topics import TOPIC_SPECS
from brightwatch.mqttlink.client import BrokerAddress, make_client

log = logging.getLogger(__name__)

# polling interval of the stream while the broker is away
AWAY_POLL_S = 1.0


def process_client_id(base: str) -> str:
    """`base` made unique to this process: host and pid (API workers share `base`)."""
    return f"{base}-{socket.gethostname()}-{os.getpid()}"


class LiveFeed:
    """Announces alert changes to the coroutines of one event loop.

    A coroutine takes `signal()` before it reads the database and, when it found
    nothing new, waits on it: a change announced in between is not missed.
    """

    def __init__(self, address: BrokerAddress, client_id: str, topic_root: str) -> None:
        self.client_id = client_id
        self.topic_filter = TOPIC_SPECS["alert"].filter(topic_root)
        self.connected = threading.Event()
        self.announced = 0  # alert messages received, for the tests and the logs
        self._loop: asyncio.AbstractEventLoop | None = None
        self._signal = asyncio.Event()
        self._address = address
        self.client, self._connect_kwargs = make_client(address, client_id)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self._started = False

    # ---- the paho network thread

    def _on_connect(self, client, userdata, flags, reason_code, properties=None):
        if reason_code.is_failure:
            log.warning("%s: connection refused: %s", self.client_id, reason_code)
            return
        self.connected.set()
        # QoS 0: a wake-up call, the events themselves are read from the database
        client.subscribe(self.topic_filter, qos=0)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):
        self.connected.clear()

    def _on_message(self, client, userdata, msg):
        self.announced += 1
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(self._wake)

    # ---- the event loop

    def _wake(self) -> None:
        current, self._signal = self._signal, asyncio.Event()
        current.set()

    def signal(self) -> asyncio.Event:
        """Set at the next alert change announced after this call."""
        return self._signal

    def poll_interval(self, fallback_s: float) -> float:
        """How long a stream waits for a wake-up call before reading anyway."""
        return fallback_s if self.connected.is_set() else min(fallback_s, AWAY_POLL_S)

    async def wait(self, signal: asyncio.Event, fallback_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(signal.wait(), self.poll_interval(fallback_s))

    def start(self) -> LiveFeed:
        """Connect in the background (called on the app's event loop)."""
        if not self._started:
            self._loop = asyncio.get_running_loop()
            kwargs: dict[str, Any] = self._connect_kwargs
            self.client.connect_async(self._address.host, self._address.port, **kwargs)
            self.client.loop_start()
            self._started = True
        return self

    def close(self) -> None:
        if self._started:
            self.client.disconnect()
            self.client.loop_stop()
            self._started = False
        self._loop = None
