"""Webhook channel: HTTP POST of the JSON payload; any 2xx is delivered.

Alert notifications are rendered as Alertmanager's webhook payload (version 4), so
receivers written for Alertmanager work unchanged. Firms' ticket webhooks
(`firm.webhook_url`) go out through this channel too.

Every request carries `Idempotency-Key: bw-delivery-<delivery id>`, the same on every
attempt of one delivery: a receiver that keeps the keys it has seen (a day is plenty)
drops the repeat that follows a crash between sending and recording (at-least-once).
"""

from __future__ import annotations

from typing import Any

import httpx

from brightwatch.alerts.channels.base import (
    ChannelContext,
    DeliveryError,
    register_channel,
)
from brightwatch.alerts.routing.notification import Notification


@register_channel("webhook")
class WebhookChannel:
    key = "webhook"

    def __init__(
        self, context: ChannelContext | None = None, timeout_s: float | None = None
    ) -> None:
        settings = (context or ChannelContext()).channel_settings("webhook")
        self.headers = {"User-Agent": "brightwatch", **settings.headers}
        self.client = httpx.Client(timeout=timeout_s or settings.timeout_s, follow_redirects=False)

    @staticmethod
    def render(notification: Notification) -> dict[str, Any]:
        return notification.alertmanager()

    def send(self, target: str, payload: dict[str, Any], subject: str | None) -> None:
        self._post(target, payload, self.headers)

    def send_keyed(
        self, target: str, payload: dict[str, Any], subject: str | None, key: str
    ) -> None:
        self._post(target, payload, {**self.headers, "Idempotency-Key": key})

    def _post(self, target: str, payload: dict[str, Any], headers: dict[str, str]) -> None:
        try:
            r = self.client.post(target, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
        if not 200 <= r.status_code < 300:
            raise DeliveryError(f"HTTP {r.status_code}")
