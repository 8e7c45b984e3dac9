"""MQTT channel: publish the notification (Alertmanager JSON) on a topic, QoS 1 by default.

The target is the topic, e.g. `{topic_root}/notices/{site_id}` (placeholders are filled
when the notification is routed). The publish waits for the broker's acknowledgement, so
a delivery counts as delivered only once the broker has it.

A target must be a topic the contract's table (`contract.topics.TOPICS`) lets the alerts
component publish, below `{topic_root}`: the broker's ACL is derived from the same table
and would refuse anything else (PUBACK "Not authorized", a delivery retried until it
fails). `mqtt_target.check_target` says so when the settings are loaded, before anything
starts.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from brightwatch.alerts.channels.base import ChannelContext, DeliveryError, register_channel
from brightwatch.alerts.routing.notification import Notification
from brightwatch.mqttlink.publisher import Publisher, PublishTimeout


@register_channel("mqtt")
class MqttChannel:
    key = "mqtt"

    def __init__(self, context: ChannelContext) -> None:
        self.settings = context.channel_settings("mqtt")
        self.broker = context.broker
        self.client_id = f"{context.client_id}-mqtt"
        self._publisher: Publisher | None = None
        self._lock = threading.Lock()

    @staticmethod
    def render(notification: Notification) -> dict[str, Any]:
        return notification.alertmanager()

    def _connected(self) -> Publisher:
        with self._lock:
            if self._publisher is None:
                if self.broker is None:
                    raise DeliveryError("no MQTT broker configured for the mqtt channel")
                self._publisher = Publisher(self.broker, self.client_id).start()
            return self._publisher

    def send(self, target: str, payload: dict[str, Any], subject: str | None) -> None:
        if not target or any(c in target for c in "+#") or target.startswith("$"):
            raise DeliveryError(f"not a topic one may publish on: {target!r}")
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            self._connected().publish_confirmed(
                [(target, body, self.settings.qos, self.settings.retain)],
                timeout=self.settings.timeout_s,
            )
        except PublishTimeout as exc:
            raise DeliveryError(f"MQTT: {exc}") from None

    def close(self) -> None:
        with self._lock:
            if self._publisher is not None:
                self._publisher.close()
                self._publisher = None
