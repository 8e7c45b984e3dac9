"""The service's publishing connection (alerts, tickets), reconnecting by itself."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import paho.mqtt.client as mqtt

from brightwatch.mqttlink.client import BrokerAddress, make_client

log = logging.getLogger(__name__)


class PublishTimeout(RuntimeError):
    pass


class PublishRefused(RuntimeError):
    """Some messages were not published and sending them again will not help: the broker
    acknowledged them with a failure reason (MQTT 5, e.g. 0x87 Not authorized) or the
    client refused to send one (a wildcard in the topic, ...). `failed` are their indexes
    in the batch; every message before `unsent_from` not in `failed` was published, none
    from `unsent_from` on was sent."""

    def __init__(self, message: str, failed: list[int], unsent_from: int | None) -> None:
        super().__init__(message)
        self.failed = failed
        self.unsent_from = unsent_from


class Publisher:
    def __init__(self, address: BrokerAddress, client_id: str, max_inflight: int = 1000) -> None:
        self.address = address
        self.client_id = client_id
        self.connected = threading.Event()
        self.client, self._connect_kwargs = make_client(address, client_id)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self._refused: dict[int, str] = {}  # mid -> the broker's reason, until read
        self._started = False

    def _on_connect(self, client, userdata, flags, reason_code, properties=None):
        if not reason_code.is_failure:
            self.connected.set()
        else:
            log.warning("%s: connection refused: %s", self.client_id, reason_code)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):
        self.connected.clear()

    def _on_publish(self, client, userdata, mid, reason_code, properties=None):
        if getattr(reason_code, "is_failure", False):
            if len(self._refused) > 10_000:  # plain publish() callers never read theirs
                self._refused.clear()
            self._refused[mid] = str(reason_code)

    def start(self) -> Publisher:
        if not self._started:
            self.client.connect_async(self.address.host, self.address.port, **self._connect_kwargs)  # type: ignore[arg-type]
            self.client.loop_start()
            self._started = True
        return self

    def wait_connected(self, timeout: float) -> bool:
        return self.connected.wait(timeout)

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False
    ) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=qos, retain=retain)

    def publish_confirmed(
        self, messages: Sequence[tuple[str, bytes, int, bool]], timeout: float = 10.0
    ) -> None:
        """Publish and wait until the broker acknowledged every QoS > 0 message."""
        if not self.connected.wait(timeout):
            raise PublishTimeout("not connected to the broker")
        infos: list[mqtt.MQTTMessageInfo] = []
        unsent: tuple[int, Exception] | None = None
        for i, (t, p, q, r) in enumerate(messages):
            try:
                infos.append(self.client.publish(t, p, qos=q, retain=r))
            except ValueError as exc:  # paho refuses the topic or payload before sending
                unsent = (i, exc)
                break
        deadline = time.monotonic() + timeout
        for info in infos:
            remaining = deadline - time.monotonic()
            if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
                raise PublishTimeout(f"publish failed: {mqtt.error_string(info.rc)}")
            try:
                info.wait_for_publish(max(remaining, 0.001))
            except (RuntimeError, ValueError) as exc:
                raise PublishTimeout(str(exc)) from None
            if not info.is_published():
                raise PublishTimeout("broker did not acknowledge in time")
        failed = [i for i, info in enumerate(infos) if info.mid in self._refused]
        reasons = [f"{messages[i][0][:200]}: {self._refused.pop(infos[i].mid)}" for i in failed]
        if unsent is not None:
            failed.append(unsent[0])
            reasons.append(f"{messages[unsent[0]][0][:200]}: {unsent[1]}")
        if failed:
            raise PublishRefused(
                f"{len(failed)} message(s) not published, first on " + reasons[0],
                failed,
                unsent[0] if unsent is not None else None,
            )

    def close(self) -> None:
        if self._started:
            self.client.disconnect()
            self.client.loop_stop()
            self._started = False
