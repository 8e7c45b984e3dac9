"""Broker address from a URL and configured paho clients."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    protocol: str = "5"  # "5" or "3.1.1"
    ca_file: Path | None = None

    def __repr__(self) -> str:  # never show the password
        return f"BrokerAddress({self.host}:{self.port}, tls={self.tls}, protocol={self.protocol})"

    @property
    def mqtt_protocol(self) -> mqtt.MQTTProtocolVersion:
        return mqtt.MQTTv5 if self.protocol == "5" else mqtt.MQTTv311


def parse_mqtt_url(url: str, protocol: str = "5", ca_file: Path | None = None) -> BrokerAddress:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError("MQTT URL must be mqtt://host[:port] or mqtts://host[:port]")
    tls = parts.scheme == "mqtts"
    return BrokerAddress(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
        protocol=protocol,
        ca_file=ca_file,
    )


def make_client(
    address: BrokerAddress,
    client_id: str,
    *,
    persistent: bool = False,
    manual_ack: bool = False,
    receive_maximum: int | None = None,
    will: tuple[str, bytes, int, bool] | None = None,
    session_expiry_s: int = 7 * 24 * 3600,
) -> tuple[mqtt.Client, dict[str, object]]:
    """A configured client and the keyword arguments to pass to `connect`.

    `persistent`: the broker keeps the session (subscriptions and unacknowledged QoS 1
    messages) while the client is away: clean_start false with a session expiry on MQTT
    5, clean_session false on 3.1.1.
    """
    v5 = address.protocol == "5"
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=address.mqtt_protocol,
        clean_session=None if v5 else not persistent,
        manual_ack=manual_ack,
    )
    if address.username:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        ctx = ssl.create_default_context(cafile=str(address.ca_file) if address.ca_file else None)
        client.tls_set_context(ctx)
    if will:
        topic, payload, qos, retain = will
        client.will_set(topic, payload, qos=qos, retain=retain)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    connect_kwargs: dict[str, object] = {"keepalive": 30}
    if v5:
        props = Properties(PacketTypes.CONNECT)
        if persistent:
            props.SessionExpiryInterval = session_expiry_s
        if receive_maximum:
            props.ReceiveMaximum = receive_maximum
        connect_kwargs["clean_start"] = not persistent
        connect_kwargs["properties"] = props
    elif receive_maximum:
        # MQTT 3.1.1 has no receive maximum: the broker's max_inflight_messages applies
        pass
    return client, connect_kwargs
