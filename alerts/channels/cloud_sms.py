"""What the template SMS channels (Aliyun, Tencent Cloud) share: the phone number, the
approved template for a delivery, the HTTP client."""

from __future__ import annotations

from typing import Any

import httpx

from brightwatch.alerts.channels.base import ChannelContext, DeliveryError
from brightwatch.alerts.channels.sms_templates import pick_template, sms_payload
from brightwatch.alerts.routing.notification import Notification


def phone(target: str) -> str:
    """A mainland or +CC number; anything else is refused before it costs a message."""
    to = target.strip().replace(" ", "").replace("-", "")
    digits = to[1:] if to.startswith("+") else to
    if not digits.isdigit() or not 5 <= len(digits) <= 20:
        raise DeliveryError(f"not a phone number: {target!r}")
    return to


class TemplateSmsChannel:
    key = ""

    def __init__(self, context: ChannelContext) -> None:
        self.settings = context.channel_settings(self.key)
        self.client = httpx.Client(timeout=self.settings.timeout_s, follow_redirects=False)

    @staticmethod
    def render(notification: Notification) -> dict[str, Any]:
        return sms_payload(notification)

    def template(self, payload: dict[str, Any]) -> str:
        s = self.settings
        if not s.sign_name:
            raise DeliveryError(f"no sign name (alerts.channels.{self.key}.sign_name)")
        kind, tier = str(payload.get("template", "alert")), str(payload.get("tier", ""))
        locale = str(payload.get("locale") or s.fallback_locale)
        found = pick_template(s.templates, kind, tier, locale, s.fallback_locale)
        if found is None:
            raise DeliveryError(
                f"no approved template for {kind} {tier} in {locale}"
                f" (alerts.channels.{self.key}.templates)"
            )
        return found

    def answer(self, r: httpx.Response) -> dict[str, Any]:
        try:
            body = r.json()
        except ValueError:
            raise DeliveryError(f"{self.key}: HTTP {r.status_code}, answer is not JSON") from None
        return body if isinstance(body, dict) else {}
