"""Request signatures of the Chinese robot and SMS vendors, as pure functions.

Kept apart from the channels so that the tests check each one against the vendor's own
published worked example (a fixed vector: secret, time, request, expected signature), and
so that the test receivers and the channels cannot share a mistake.

- DingTalk group robot: HMAC-SHA256 keyed with the secret over "timestamp\\nsecret"
  (milliseconds), base64, sent URL-encoded as the `timestamp` / `sign` query parameters.
- Feishu / Lark custom bot: HMAC-SHA256 keyed with "timestamp\\nsecret" (seconds) over an
  empty message, base64, sent in the JSON body as `timestamp` / `sign`.
- Aliyun RPC (Dysmsapi SendSms): signature version 1.0, HMAC-SHA1 keyed with
  "AccessKeySecret&" over "METHOD&%2F&" + percent-encoded canonical query, base64.
- Tencent Cloud API 3.0 (SMS SendSms 2021-01-11): TC3-HMAC-SHA256 over the canonical
  request, with a key derived from the date and the service.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's `sign` before URL encoding (the caller's HTTP client encodes it)."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    return _b64(hmac.new(secret.encode(), to_sign, hashlib.sha256).digest())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's `sign`: the key is "timestamp\\nsecret", the message is empty."""
    key = f"{timestamp_s}\n{secret}".encode()
    return _b64(hmac.new(key, b"", hashlib.sha256).digest())


def percent_encode(value: str) -> str:
    """Aliyun's POP encoding: RFC 3986 (space %20, * %2A, ~ kept), UTF-8."""
    return quote(value, safe="-_.~")


def aliyun_canonical_query(params: Mapping[str, str]) -> str:
    """Parameters sorted by name, each name and value percent-encoded."""
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def aliyun_string_to_sign(params: Mapping[str, str], method: str = "GET") -> str:
    return f"{method}&{percent_encode('/')}&{percent_encode(aliyun_canonical_query(params))}"


def aliyun_signature(params: Mapping[str, str], secret: str, method: str = "GET") -> str:
    """Aliyun RPC signature v1.0 (HMAC-SHA1) of every parameter but `Signature`."""
    to_sign = aliyun_string_to_sign(params, method).encode()
    return _b64(hmac.new(f"{secret}&".encode(), to_sign, hashlib.sha1).digest())


@dataclass(frozen=True)
class Tc3Request:
    """What TC3-HMAC-SHA256 signs of a POST request to Tencent Cloud API 3.0."""

    host: str
    service: str
    payload: bytes
    timestamp: int
    content_type: str = "application/json; charset=utf-8"
    method: str = "POST"
    uri: str = "/"
    query: str = ""

    @property
    def date(self) -> str:
        return datetime.fromtimestamp(self.timestamp, UTC).strftime("%Y-%m-%d")

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.service}/tc3_request"


TC3_SIGNED_HEADERS = "content-type;host"


def tc3_canonical_request(req: Tc3Request) -> str:
    headers = f"content-type:{req.content_type}\nhost:{req.host}\n"
    payload_hash = hashlib.sha256(req.payload).hexdigest()
    return "\n".join([req.method, req.uri, req.query, headers, TC3_SIGNED_HEADERS, payload_hash])


def tc3_string_to_sign(req: Tc3Request) -> str:
    digest = hashlib.sha256(tc3_canonical_request(req).encode()).hexdigest()
    return f"TC3-HMAC-SHA256\n{req.timestamp}\n{req.scope}\n{digest}"


def _hmac256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def tc3_signature(req: Tc3Request, secret_key: str) -> str:
    """The hex signature: the key derived from date, service and "tc3_request"."""
    key = _hmac256(f"TC3{secret_key}".encode(), req.date)
    key = _hmac256(_hmac256(key, req.service), "tc3_request")
    return hmac.new(key, tc3_string_to_sign(req).encode(), hashlib.sha256).hexdigest()


def tc3_authorization(req: Tc3Request, secret_id: str, secret_key: str) -> str:
    """The `Authorization` header value."""
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{req.scope}, "
        f"SignedHeaders={TC3_SIGNED_HEADERS}, Signature={tc3_signature(req, secret_key)}"
    )
