from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from brightwatch.embedded import wait_for_port


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool
    properties: dict[str, str] = field(default_factory=dict)  # MQTT 5 user properties


@dataclass
class Collector:
    """A test subscriber that records every message on its filters."""

    port: int
    filters: list[str]
    messages: list[Received] = field(default_factory=list)
    # a persistent session: the broker keeps the messages while the collector is away
    # (across a broker restart with persistence on)
    session_expiry_s: int | None = None

    def __post_init__(self) -> None:
        self._ready = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"collector-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_connect = lambda c, u, f, rc, p=None: c.subscribe(
            [(t, 1) for t in self.filters]
        )
        self.client.on_subscribe = lambda c, u, mid, rcs, p=None: self._ready.set()
        self.client.reconnect_delay_set(0.2, 1)  # back soon after a broker restart
        self.client.on_message = lambda c, u, m: self.messages.append(
            Received(m.topic, m.payload, m.retain, dict(getattr(m.properties, "UserProperty", ())))
        )

    def __enter__(self) -> Collector:
        wait_for_port(self.port)
        if self.session_expiry_s is None:
            self.client.connect("127.0.0.1", self.port)
        else:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self.session_expiry_s
            self.client.connect("127.0.0.1", self.port, clean_start=False, properties=props)
        self.client.loop_start()
        assert self._ready.wait(10), "collector did not subscribe"
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def on(self, prefix: str) -> list[Received]:
        return [m for m in self.messages if m.topic.startswith(prefix)]


def publish(
    port: int,
    messages: list[tuple[str, bytes]],
    qos: int = 1,
    protocol: int = mqtt.MQTTv5,
    ts_ms: int | None = None,
    client_id: str | None = None,
) -> None:
    """Publish and wait until the broker acknowledged each message."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id or f"pub-{uuid.uuid4().hex[:8]}",
        protocol=protocol,
    )
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    props = None
    if ts_ms is not None and protocol == mqtt.MQTTv5:
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = ("ts", str(ts_ms))
    infos = [client.publish(t, p, qos=qos, properties=props) for t, p in messages]
    for info in infos:
        info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()
