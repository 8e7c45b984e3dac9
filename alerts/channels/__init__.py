"""Notification channel plugins behind one interface (`alerts.delivery.Channel`).

Each plugin registers by key with `@register_channel`: `webhook` (in alerts.delivery,
Alertmanager-compatible payload), `mqtt`, `email` (SMTP) and `sms` (a generic HTTP
gateway). Importing this package registers them all. A plugin is built with the
delivery worker's `ChannelContext` and sends one rendered payload to one target, raising
`DeliveryError` on failure; retries, backoff and isolation between channels are the
delivery worker's job.

May import: alerts.delivery, alerts.routing.notification, mqttlink, the standard library.
"""

from __future__ import annotations

from alerts.channels import email, mqtt, sms
from alerts.delivery import CHANNELS, ChannelContext, DeliveryError, register_channel

__all__ = [
    "CHANNELS",
    "ChannelContext",
    "DeliveryError",
    "email",
    "mqtt",
    "register_channel",
    "sms",
]
