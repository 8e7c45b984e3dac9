"""Notification channel plugins behind one interface (`alerts.channels.base.Channel`).

A channel is one module here that registers its class by key with `@register_channel`,
plus its import below (and, when it has settings, its section in `settings.py`):
`webhook` (Alertmanager-compatible payload), `mqtt`, `email` (SMTP), `sms` (a generic
HTTP gateway), the group robots Chinese offices work in (`wecom`, `dingtalk`, `feishu`:
rate-limited per robot, storms batched, `robots.py`) and mainland template SMS
(`aliyun_sms`, `tencent_sms`: approved templates per tier and language). Vendor
signatures are pure functions in `signing.py`. Importing this package registers them all; the delivery worker
(`alerts.delivery`) does. A plugin is built with the worker's `ChannelContext` and sends
one rendered payload to one target, raising `DeliveryError` on failure; retries, backoff
and isolation between channels are the delivery worker's job. Receivers name channels by
key, checked against `CHANNELS` when the settings load.

May import: alerts.channels.base, alerts.routing.notification, alerts.words, i18n, mqttlink,
contract, httpx, the standard library (never alerts.delivery, which imports the channels).
"""

from __future__ import annotations

from brightwatch.alerts.channels import (
    aliyun_sms,
    dingtalk,
    email,
    feishu,
    mqtt,
    sms,
    tencent_sms,
    webhook,
    wecom,
)
from brightwatch.alerts.channels.base import (
    CHANNELS,
    Channel,
    ChannelContext,
    DeliveryDeferred,
    DeliveryError,
    KeyedChannel,
    idempotency_key,
    register_channel,
)

__all__ = [
    "CHANNELS",
    "Channel",
    "ChannelContext",
    "DeliveryDeferred",
    "DeliveryError",
    "aliyun_sms",
    "dingtalk",
    "KeyedChannel",
    "email",
    "feishu",
    "idempotency_key",
    "mqtt",
    "register_channel",
    "sms",
    "tencent_sms",
    "webhook",
    "wecom",
]
