"""Tencent Cloud SMS (腾讯云短信, API 3.0 SendSms, version 2021-01-11), TC3-HMAC-SHA256.

A JSON POST (PhoneNumberSet, SmsSdkAppId, SignName, TemplateId, TemplateParamSet) with
the X-TC-* headers and an Authorization header signed over content-type and host
(signing.tc3_authorization: the vendor's published worked example is a test vector).
Template parameters are positional ({1}, {2}, ...): their order is the kind's order in
sms_templates, or `params` per template id in the settings. Each number's `Code` is "Ok"
when accepted; a request error comes back as `Response.Error`.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from brightwatch.alerts.channels.base import DeliveryDeferred, DeliveryError, register_channel
from brightwatch.alerts.channels.cloud_sms import TemplateSmsChannel, phone
from brightwatch.alerts.channels.signing import Tc3Request, tc3_authorization
from brightwatch.alerts.channels.sms_templates import TEMPLATE_PARAMS

VERSION = "2021-01-11"
THROTTLED = ("LimitExceeded", "RequestLimitExceeded")


def e164(number: str) -> str:
    """Tencent wants +CC: an 11-digit mainland mobile number gets +86."""
    if number.startswith("+"):
        return number
    if len(number) == 11 and number.startswith("1"):
        return "+86" + number
    return "+" + number


@register_channel("tencent_sms")
class TencentSmsChannel(TemplateSmsChannel):
    key = "tencent_sms"

    def body(self, to: str, template: str, payload: dict[str, Any]) -> dict[str, Any]:
        s = self.settings
        kind = str(payload.get("template", "alert"))
        names = s.params.get(template) or list(TEMPLATE_PARAMS.get(kind, ()))
        values = dict(payload.get("params", {}))
        return {
            "PhoneNumberSet": [e164(to)],
            "SmsSdkAppId": s.sdk_app_id,
            "SignName": s.sign_name,
            "TemplateId": template,
            "TemplateParamSet": [str(values.get(n, "")) for n in names],
        }

    def headers(self, raw: bytes, now_s: int) -> dict[str, str]:
        s = self.settings
        host = urlsplit(s.base_url).netloc
        req = Tc3Request(host=host, service="sms", payload=raw, timestamp=now_s)
        return {
            "Authorization": tc3_authorization(req, s.secret_id, s.secret_key.get_secret_value()),
            "Content-Type": req.content_type,
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(now_s),
            "X-TC-Version": VERSION,
            "X-TC-Region": s.region,
        }

    def send(self, target: str, payload: dict[str, Any], subject: str | None) -> None:
        s = self.settings
        body = self.body(phone(target), self.template(payload), payload)
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            r = self.client.post(
                s.base_url.rstrip("/") + "/",
                content=raw,
                headers=self.headers(raw, int(time.time())),
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"tencent_sms: {type(exc).__name__}") from None
        response = self.answer(r).get("Response") or {}
        error = response.get("Error")
        if isinstance(error, dict):
            code = str(error.get("Code", ""))
            if code.startswith(THROTTLED):
                raise DeliveryDeferred(f"tencent_sms: {code}", 60.0)
            raise DeliveryError(f"tencent_sms refused: {code} {error.get('Message', '')}")
        statuses = response.get("SendStatusSet") or [{}]
        code = str(statuses[0].get("Code", ""))
        if r.status_code != 200 or code != "Ok":
            if "limit" in code.lower():
                raise DeliveryDeferred(f"tencent_sms: {code}", 60.0)
            raise DeliveryError(f"tencent_sms refused: HTTP {r.status_code} {code}")
