"""SMS channel: a generic HTTP SMS gateway.

Every vendor's API differs, so the request is a template (URL, method, body fields,
headers, an Authorization header kept secret) with `{to}` (the target phone number) and
`{text}` filled in. Many gateways answer HTTP 200 with an error code in their JSON; set
`success_field` / `success_value` to check it.

The delivery row keeps, beside the localized `text` this gateway sends, the notification
as a template kind and its parameters (`sms_templates`), for the vendors that send only
approved templates (Aliyun, Tencent Cloud).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from brightwatch.alerts.channels.base import ChannelContext, DeliveryError, register_channel
from brightwatch.alerts.channels.sms_templates import template_of
from brightwatch.alerts.routing.notification import Notification


def _dig(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


@register_channel("sms")
class SmsChannel:
    key = "sms"

    def __init__(self, context: ChannelContext) -> None:
        self.settings = context.channel_settings("sms")
        self.client = httpx.Client(timeout=self.settings.timeout_s, follow_redirects=False)

    @staticmethod
    def render(notification: Notification) -> dict[str, Any]:
        template = template_of(notification)
        return {
            "text": notification.short_text(),
            "template": template.kind,
            "params": template.params,
        }

    def send(self, target: str, payload: dict[str, Any], subject: str | None) -> None:
        self.send_keyed(target, payload, subject, None)

    def send_keyed(
        self, target: str, payload: dict[str, Any], subject: str | None, key: str | None
    ) -> None:
        """`key` goes out as the Idempotency-Key header (gateways that honour it drop
        the repeat after a crash between sending and recording)."""
        s = self.settings
        if not s.url:
            raise DeliveryError("no SMS gateway configured (alerts.channels.sms.url)")
        to = target.strip()
        if not to or len(to) > 32 or not all(c.isdigit() or c in "+-() " for c in to):
            raise DeliveryError(f"not a phone number: {target!r}")
        text = str(payload.get("text", ""))[: s.max_chars]
        url = s.url.replace("{to}", quote(to)).replace("{text}", quote(text))
        body = {k: v.replace("{to}", to).replace("{text}", text) for k, v in s.body.items()}
        headers = {"User-Agent": "brightwatch", **s.headers}
        if key is not None:
            headers["Idempotency-Key"] = key
        if s.auth_header is not None:
            headers["Authorization"] = s.auth_header.get_secret_value()
        kwargs: dict[str, Any] = {"headers": headers}
        if s.method == "POST" and s.body_format == "json":
            kwargs["json"] = body
        elif s.method == "POST" and s.body_format == "form":
            kwargs["data"] = body
        elif s.method == "GET" and s.body_format != "none":
            kwargs["params"] = body
        try:
            r = self.client.request(s.method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"SMS gateway: {type(exc).__name__}: {exc}") from None
        if not 200 <= r.status_code < 300:
            raise DeliveryError(f"SMS gateway: HTTP {r.status_code}")
        if s.success_field:
            try:
                answer = r.json()
            except ValueError:
                raise DeliveryError("SMS gateway: answer is not JSON") from None
            got = _dig(answer, s.success_field)
            if str(got) != s.success_value:
                raise DeliveryError(f"SMS gateway refused: {s.success_field}={got!r}")
