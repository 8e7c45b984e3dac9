"""Publish spooled messages over MQTT, in order, acknowledging them back to the spool.

A `Link` is one MQTT connection (paho, MQTT 5 or 3.1.1) carrying one lane of the spool:
one terminal (then it carries that terminal's will: `offline`, retained) or, for large
simulated fleets, many terminals (a pool: 20,000 connections with a thread each would
measure the simulator, not the service). The `Forwarder` hands each lane's messages to
its link in spool order, at most `window` unacknowledged at a time, and deletes them
from the spool when the broker's PUBACK comes. While a link is down nothing new is
handed to it; paho re-sends what was in flight when it reconnects, then the spool
continues where it stopped: order is kept and nothing is lost. A message whose PUBACK
was lost in the cut may reach the broker twice (MQTT QoS 1 is at least once); terminals
number their messages (`seq`) so the service drops such duplicates.

Shared by the agents at the site. A link may carry a birth message (`online`, retained),
published on every connection so the retained availability is right again after the
broker published the will of a cut connection; MQTT 5 user properties of spooled
messages travel with them (3.1.1 has none: the broker's receive time stands in).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
import uuid
from collections import deque

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from brightwatch.edge.spool import Spool, UserProperties
from brightwatch.mqttlink.client import BrokerAddress

log = logging.getLogger(__name__)


class Link:
    def __init__(
        self,
        broker: BrokerAddress,
        client_id: str,
        lane: int,
        will: tuple[str, bytes] | None = None,
        window: int = 200,
        birth: tuple[str, bytes] | None = None,
    ) -> None:
        self.lane = lane
        self.birth = birth
        self.window = window
        self.connected = threading.Event()
        self.closing = False
        # messages unacknowledged when a connection dropped: paho sends them again, and
        # the broker may already have had them (QoS 1 is at least once)
        self.in_flight_at_cuts = 0
        # touched only by the forwarder's thread: paho's network thread just queues the
        # acknowledged packet ids (it calls back holding its own locks)
        self.inflight: dict[int, int] = {}  # paho mid -> spool id
        self.cursor = 0  # last spool id handed to paho
        self.acked_mids: deque[int] = deque()
        self.acked: list[int] = []  # spool ids acknowledged, not yet deleted
        v5 = broker.protocol == "5"
        self.v5 = v5
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        )
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self.client.tls_set_context(ssl.create_default_context(cafile=broker.ca_file))
        if will is not None:
            self.client.will_set(will[0], will[1], qos=1, retain=True)
        self.client.max_inflight_messages_set(window)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        kwargs: dict[str, object] = {"keepalive": 30}
        if v5:
            kwargs["clean_start"] = True
            kwargs["properties"] = Properties(PacketTypes.CONNECT)
        self._broker = broker
        self._connect_kwargs = kwargs

    def _on_connect(self, client, userdata, flags, reason_code, properties=None):
        if reason_code.is_failure:
            log.warning("link %d: connection refused: %s", self.lane, reason_code)
            return
        if self.birth is not None:
            # its PUBACK carries a packet id the forwarder does not know, and is ignored
            client.publish(self.birth[0], self.birth[1], qos=1, retain=True)
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):
        if self.connected.is_set() and not self.closing:
            self.in_flight_at_cuts += len(self.inflight)
            log.warning(
                "link %d: disconnected (%s); messages wait in the spool", self.lane, reason_code
            )
        self.connected.clear()

    def _on_publish(self, client, userdata, mid, reason_code=None, properties=None):
        self.acked_mids.append(mid)

    def take_acknowledged(self) -> list[int]:
        while self.acked_mids:
            spool_id = self.inflight.pop(self.acked_mids.popleft(), None)
            if spool_id is not None:
                self.acked.append(spool_id)
        done, self.acked = self.acked, []
        return done

    def start(self) -> None:
        self.client.connect_async(self._broker.host, self._broker.port, **self._connect_kwargs)  # type: ignore[arg-type]
        self.client.loop_start()

    def room(self) -> int:
        return self.window - len(self.inflight)

    def publish(
        self,
        spool_id: int,
        topic: str,
        payload: bytes,
        qos: int,
        retain: bool,
        properties: UserProperties = (),
    ) -> None:
        props = None
        if properties and self.v5:
            props = Properties(PacketTypes.PUBLISH)
            props.UserProperty = list(properties)
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            raise RuntimeError(f"publish failed: {mqtt.error_string(info.rc)}")
        # NO_CONN: paho keeps it and sends it after reconnecting, in order
        if qos > 0:
            self.inflight[info.mid] = spool_id
        else:
            self.acked.append(spool_id)
        self.cursor = spool_id

    def publish_now(self, topic: str, payload: bytes, retain: bool, timeout: float = 2.0) -> bool:
        """Outside the spool, QoS 1, waiting for the PUBACK; False when not connected."""
        if not self.connected.is_set():
            return False
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError):
            return False
        return info.is_published()

    def close(self, clean: bool = True) -> None:
        self.closing = True
        if clean:
            self.client.disconnect()
        self.client.loop_stop()


class Forwarder:
    """Moves spooled messages to their links; run it in its own thread."""

    def __init__(self, spool: Spool, links: list[Link]) -> None:
        self.spool = spool
        self.links = links
        self.published = 0
        self.acknowledged = 0
        self._wake = threading.Event()

    def notify(self) -> None:
        self._wake.set()

    def pump(self) -> int:
        """One pass over the links; returns how many messages were handed over."""
        handed = 0
        for link in self.links:
            acked = link.take_acknowledged()
            if acked:
                self.spool.acknowledge(acked)
                self.acknowledged += len(acked)
            if not link.connected.is_set():
                continue
            room = link.room()
            if room <= 0:
                continue
            for row in self.spool.pending(link.lane, link.cursor, room):
                link.publish(row.id, row.topic, row.payload, row.qos, row.retain, row.properties)
                handed += 1
        self.published += handed
        return handed

    def run(self, stop: threading.Event, idle_s: float = 0.05) -> None:
        while not stop.is_set():
            if not self.pump():
                self._wake.wait(idle_s)
                self._wake.clear()

    def drain(self, timeout: float) -> bool:
        """Publish what is spooled and wait for the acknowledgements (clean shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            if len(self.spool) == 0:
                return True
            time.sleep(0.02)
        return len(self.spool) == 0


def client_id(prefix: str, lane: int) -> str:
    return f"{prefix}-{lane}-{uuid.uuid4().hex[:6]}"
