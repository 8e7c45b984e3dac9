"""Notification channel plugins behind one interface (`alerts.channels.base.Channel`).

A channel is one module here that registers its class with `@register_channel` under the
module's own name, plus that name in `PLUGINS` below (and, when it has settings, its
section in `settings.py`): `webhook` (Alertmanager-compatible payload), `mqtt`, `email`
(SMTP), `sms` (a generic HTTP gateway), the group robots Chinese offices work in
(`wecom`, `dingtalk`, `feishu`: rate-limited per robot, storms batched, `robots.py`) and
mainland template SMS (`aliyun_sms`, `tencent_sms`: approved templates per tier and
language). Vendor signatures are pure functions in `signing.py`.

The first use of `CHANNELS` (or of a plugin module by its name here) imports, and so
registers, them all; the delivery worker (`alerts.delivery`) does. Until then the package
imports no plugin, so that the settings (`alerts.channels.settings`) load without httpx
or paho-mqtt. A plugin is built with the worker's `ChannelContext` and sends one rendered
payload to one target, raising `DeliveryError` on failure; retries, backoff and isolation
between channels are the delivery worker's job. Receivers name channels by key, checked
against `known_channels()` when the settings load.

May import: alerts.channels.base, alerts.routing.notification, alerts.words, i18n, mqttlink,
contract, httpx, the standard library (never alerts.delivery, which imports the channels).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from brightwatch.alerts.channels import base
from brightwatch.alerts.channels.base import (
    Channel,
    ChannelContext,
    DeliveryDeferred,
    DeliveryError,
    KeyedChannel,
    idempotency_key,
    register_channel,
)

if TYPE_CHECKING:
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
    from brightwatch.alerts.channels.base import CHANNELS

PLUGINS = (
    "aliyun_sms",
    "dingtalk",
    "email",
    "feishu",
    "mqtt",
    "sms",
    "tencent_sms",
    "webhook",
    "wecom",
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
    "known_channels",
    "mqtt",
    "register_channel",
    "sms",
    "tencent_sms",
    "webhook",
    "wecom",
]


def known_channels() -> frozenset[str]:
    """The keys `CHANNELS` holds once loaded (each plugin registers under its module's
    name, plus any plugin registered from elsewhere), without importing the plugins: what
    the settings check a receiver's channel against."""
    return frozenset(PLUGINS) | frozenset(base.CHANNELS)


def __getattr__(name: str) -> object:
    """`CHANNELS` and the plugin modules: importing every plugin registers it."""
    if name != "CHANNELS" and name not in PLUGINS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    for plugin in PLUGINS:
        importlib.import_module(f"{__name__}.{plugin}")  # binds the plugin's name here
    globals()["CHANNELS"] = base.CHANNELS
    return globals()[name]
