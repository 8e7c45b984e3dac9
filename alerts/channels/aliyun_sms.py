"""Aliyun SMS (阿里云短信, Dysmsapi 2017-05-25 SendSms), RPC style, signature v1.0.

The request is a form POST of the common parameters (AccessKeyId, Timestamp in UTC,
SignatureNonce, ...) and SendSms's (PhoneNumbers, SignName, TemplateCode, TemplateParam
as JSON), signed with HMAC-SHA1 over the canonical query (signing.aliyun_signature: the
vendor's published worked example is a test vector). The answer's `Code` is "OK" when
the message was accepted.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from brightwatch.alerts.channels.base import DeliveryDeferred, DeliveryError, register_channel
from brightwatch.alerts.channels.cloud_sms import TemplateSmsChannel, phone
from brightwatch.alerts.channels.signing import aliyun_signature

# the vendor's flow control: wait and retry, the template and number are fine
THROTTLED = {"isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "Throttling"}


@register_channel("aliyun_sms")
class AliyunSmsChannel(TemplateSmsChannel):
    key = "aliyun_sms"

    def params(self, to: str, template: str, values: dict[str, str]) -> dict[str, str]:
        s = self.settings
        return {
            "AccessKeyId": s.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": to,
            "RegionId": s.region,
            "SignName": s.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": template,
            "TemplateParam": json.dumps(values, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }

    def send(self, target: str, payload: dict[str, Any], subject: str | None) -> None:
        s = self.settings
        params = self.params(phone(target), self.template(payload), dict(payload.get("params", {})))
        secret = s.access_key_secret.get_secret_value()
        params["Signature"] = aliyun_signature(params, secret, "POST")
        try:
            r = self.client.post(s.base_url.rstrip("/") + "/", data=params)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"aliyun_sms: {type(exc).__name__}") from None
        answer = self.answer(r)
        code = str(answer.get("Code", ""))
        if code in THROTTLED:
            raise DeliveryDeferred(f"aliyun_sms: {code}", 60.0)
        if r.status_code != 200 or code != "OK":
            raise DeliveryError(
                f"aliyun_sms refused: HTTP {r.status_code} {code} {answer.get('Message', '')}"
            )
