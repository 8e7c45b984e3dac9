"""The channels Chinese offices use: WeCom, DingTalk and Feishu group robots, Aliyun and
Tencent Cloud SMS.

Signatures are checked two ways so that signer and receiver cannot be wrong together:
against the vendors' published worked examples as fixed vectors (Aliyun's SendSms
example, Tencent Cloud's TC3-HMAC-SHA256 example), and by a local receiver in this file
that recomputes each signature from the vendor's written rules (DingTalk and Feishu
publish the rule and sample code but no expected output). Each channel delivers a test
alert to its local receiver, which checks the signature and the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import pytest

from brightwatch.alerts.channels import CHANNELS, ChannelContext, DeliveryError
from brightwatch.alerts.channels.settings import ChannelSettings
from brightwatch.alerts.channels.signing import (
    Tc3Request,
    aliyun_signature,
    aliyun_string_to_sign,
    tc3_canonical_request,
    tc3_signature,
    tc3_string_to_sign,
)
from brightwatch.alerts.routing.notification import AlertView, Notification
from tests.support.http import JsonServer

T_ALERT = datetime(2026, 12, 5, 18, 14, tzinfo=UTC)  # 02:14 in Shanghai, next day


# --- the vendors' published worked examples -------------------------------------------

# Aliyun SMS, "HTTP协议及签名" (SendSms): AccessKeySecret testSecret, these parameters,
# documented StringToSign and Signature zJDF+Lrzhj/ThnlvIToysFRq6t4=
ALIYUN_EXAMPLE = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
ALIYUN_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123"
    "%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF"
    "%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF"
    "%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce"
    "%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode"
    "%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D"
    "%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
)


def test_aliyun_signature_matches_the_published_example() -> None:
    assert aliyun_string_to_sign(ALIYUN_EXAMPLE, "GET") == ALIYUN_STRING_TO_SIGN
    assert aliyun_signature(ALIYUN_EXAMPLE, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert aliyun_signature(ALIYUN_EXAMPLE, "otherSecret", "GET") != "zJDF+Lrzhj/ThnlvIToysFRq6t4="


# Tencent Cloud API 3.0, "签名方法 v3": CVM DescribeInstances at 1551113065 with this
# payload; the documented hashes and signatures (the page's current edition masks the key
# as "Gu5t9xGARNpq86cd98joQYCN3*******", the earlier one used "...EXAMPLE").
TC3_PAYLOAD = (
    b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
)
TC3_EXAMPLE = Tc3Request(
    host="cvm.tencentcloudapi.com", service="cvm", payload=TC3_PAYLOAD, timestamp=1551113065
)


@pytest.mark.parametrize(
    ("secret_key", "signature"),
    [
        (
            "Gu5t9xGARNpq86cd98joQYCN3*******",
            "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c",
        ),
        (
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
        ),
    ],
)
def test_tc3_signature_matches_the_published_example(secret_key: str, signature: str) -> None:
    canonical = tc3_canonical_request(TC3_EXAMPLE)
    assert canonical.endswith(
        "content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )
    assert tc3_string_to_sign(TC3_EXAMPLE) == (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    assert tc3_signature(TC3_EXAMPLE, secret_key) == signature


# --- local receivers that check signatures from the vendors' written rules --------------


@dataclass
class Receiver:
    """An HTTP server on loopback; `check(path, headers, body)` answers (status, json)."""

    check: Callable[[str, dict[str, str], bytes], tuple[int, dict[str, Any]]]
    seen: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = JsonServer(self._respond)

    def _respond(self, path: str, headers: Message, body: bytes) -> tuple[int, Any]:
        try:
            status, answer = self.check(path, {k.lower(): v for k, v in headers.items()}, body)
        except AssertionError as exc:  # a wrong request: refuse it and remember why
            status, answer = 400, {"errcode": 400, "error": str(exc)}
        self.seen.append({"path": path, "status": status, "answer": answer})
        return status, answer

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for r in made:
        r.close()


def serve(made: list[Receiver], check: Callable[..., tuple[int, dict[str, Any]]]) -> Receiver:
    r = Receiver(check)
    made.append(r)
    return r


def notification(locale: str = "zh-CN", n: int = 1, severity: str = "T1") -> Notification:
    alerts = tuple(
        AlertView(
            id=100 + i,
            status="firing",
            labels={
                "kind": "kitchen",
                "code": "RODENT",
                "severity": severity,
                "device_id": f"cam{i}",
                "site_id": "K1",
            },
            annotations={"summary": "rat", "count": "1", "evidence_url": f"https://e.x/{i}"},
            starts_at=T_ALERT,
            ends_at=None,
            fingerprint=f"fp{i}",
        )
        for i in range(n)
    )
    return Notification(
        receiver="kitchen-operator",
        group_key="g",
        group_labels={"kind": "kitchen", "location": "K1"},
        alerts=alerts,
        reason="group",
        external_url="https://console.example",
        locale=locale,
        zone="Asia/Shanghai",
    )


def channel(key: str, **settings: Any) -> Any:
    return CHANNELS[key](ChannelContext(settings=ChannelSettings(**{key: settings})))


def recent(ts: float, unit: float) -> None:
    assert abs(time.time() - ts / unit) < 300, "timestamp is not current"


def test_wecom_robot_delivers_markdown_in_the_readers_language(receivers: list[Receiver]) -> None:
    def check(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        url = urlsplit(path)
        assert url.path == "/cgi-bin/webhook/send"
        assert dict(parse_qsl(url.query)) == {"key": "k-123"}
        msg = json.loads(body)
        assert msg["msgtype"] == "markdown"
        assert len(msg["markdown"]["content"].encode()) <= 4096
        return 200, {"errcode": 0, "errmsg": "ok"}

    r = serve(receivers, check)
    ch = channel("wecom", base_url=r.url, robots={"ops": {"key": "k-123"}})
    ch.send("ops", ch.render(notification("zh-CN")), None)
    assert [s["status"] for s in r.seen] == [200]
    content = ch.render(notification("zh-CN"))
    text = "\n".join(content["lines"])
    assert "RODENT" in text and "鼠" in text  # the code verbatim beside its Chinese name
    assert "2026-12-06 02:14" in text and "+08:00" in text  # the reader's zone, offset shown
    english = "\n".join(ch.render(notification("en"))["lines"])
    assert "since 2026-12-06 02:14" in english and "鼠" not in english
    with pytest.raises(DeliveryError, match="no wecom robot"):
        ch.send("nobody", content, None)


def dingtalk_check(secret: str) -> Callable[..., tuple[int, dict[str, Any]]]:
    """DingTalk's rule: HmacSHA256(key=secret, "timestamp\\nsecret"), base64, urlEncode."""

    def check(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        url = urlsplit(path)
        assert url.path == "/robot/send"
        q = dict(parse_qsl(url.query))
        assert q["access_token"] == "tok"
        ts = q["timestamp"]
        recent(int(ts), 1000)
        want = base64.b64encode(
            hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        raw_sign = url.query.split("sign=")[1].split("&")[0]
        assert unquote(raw_sign) == want, "sign mismatch"
        msg = json.loads(body)
        assert msg["msgtype"] == "markdown" and msg["markdown"]["title"]
        assert "RODENT" in msg["markdown"]["text"]
        return 200, {"errcode": 0, "errmsg": "ok"}

    return check


def test_dingtalk_robot_signs_and_the_receiver_verifies(receivers: list[Receiver]) -> None:
    r = serve(receivers, dingtalk_check("SECabc"))
    ch = channel(
        "dingtalk", base_url=r.url, robots={"duty": {"access_token": "tok", "secret": "SECabc"}}
    )
    ch.send("duty", ch.render(notification()), None)
    assert [s["status"] for s in r.seen] == [200]
    # a wrong secret is refused by the receiver and the delivery fails (to be retried)
    bad = channel(
        "dingtalk", base_url=r.url, robots={"duty": {"access_token": "tok", "secret": "SECxyz"}}
    )
    with pytest.raises(DeliveryError, match="HTTP 400"):
        bad.send("duty", bad.render(notification()), None)


def test_feishu_bot_signs_and_the_receiver_verifies(receivers: list[Receiver]) -> None:
    secret = "fs-secret"

    def check(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        assert path == "/open-apis/bot/v2/hook/hook-1"
        msg = json.loads(body)
        ts = msg["timestamp"]
        recent(int(ts), 1)
        key = f"{ts}\n{secret}".encode()  # Feishu: the key is "timestamp\nsecret", no message
        want = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        if msg["sign"] != want:
            return 200, {"code": 19021, "msg": "sign match fail"}
        post = msg["content"]["post"]["zh_cn"]
        assert post["title"] and any("RODENT" in row[0]["text"] for row in post["content"])
        return 200, {"code": 0, "msg": "success", "data": {}}

    r = serve(receivers, check)
    ch = channel("feishu", base_url=r.url, robots={"g": {"hook": "hook-1", "secret": secret}})
    ch.send("g", ch.render(notification()), None)
    assert r.seen[-1]["answer"]["code"] == 0
    bad = channel("feishu", base_url=r.url, robots={"g": {"hook": "hook-1", "secret": "nope"}})
    with pytest.raises(DeliveryError, match="19021"):
        bad.send("g", bad.render(notification()), None)


TEMPLATES = {
    "zh-CN": {"alert": "SMS_100", "T1": "SMS_101", "alert.P1": "SMS_102", "resolved": "SMS_103"},
    "en": {"alert": "SMS_200"},
}


def test_aliyun_sms_sends_the_approved_template_signed(receivers: list[Receiver]) -> None:
    def check(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        signature = params.pop("Signature")
        # the written rule: sorted, RFC 3986 encoded, "POST&%2F&" + encoded query, HMAC-SHA1
        enc = lambda s: quote(s, safe="~")  # noqa: E731
        query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
        to_sign = f"POST&{enc('/')}&{enc(query)}"
        want = base64.b64encode(
            hmac.new(b"ak-secret&", to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        if signature != want:
            return 200, {"Code": "SignatureDoesNotMatch"}
        assert params["Action"] == "SendSms" and params["Version"] == "2017-05-25"
        assert params["SignName"] == "某市市场监管" and params["PhoneNumbers"] == "13800000000"
        assert params["TemplateCode"] == "SMS_101"  # the T1 template of zh-CN
        values = json.loads(params["TemplateParam"])
        assert values["code"] == "RODENT" and values["time"] == "02:14"
        assert values["date"] == "12-06" and values["site"] == "K1"
        return 200, {"Code": "OK", "Message": "OK", "BizId": "1"}

    r = serve(receivers, check)
    settings = {
        "base_url": r.url,
        "access_key_id": "ak",
        "access_key_secret": "ak-secret",
        "sign_name": "某市市场监管",
        "templates": TEMPLATES,
    }
    ch = channel("aliyun_sms", **settings)
    ch.send("13800000000", ch.render(notification()), None)
    assert r.seen[-1]["answer"]["Code"] == "OK"
    bad = channel("aliyun_sms", **{**settings, "access_key_secret": "wrong"})
    with pytest.raises(DeliveryError, match="SignatureDoesNotMatch"):
        bad.send("13800000000", bad.render(notification()), None)
    # no approved template for this language and kind: refused before anything is sent
    none = channel("aliyun_sms", **{**settings, "templates": {"zh-CN": {"resolved": "SMS_1"}}})
    with pytest.raises(DeliveryError, match="no approved template"):
        none.send("13800000000", none.render(notification()), None)


def test_tencent_sms_signs_tc3_and_the_receiver_verifies(receivers: list[Receiver]) -> None:
    def check(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        auth = headers["authorization"]
        ts = int(headers["x-tc-timestamp"])
        recent(ts, 1)
        date = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
        canonical = "\n".join(
            [
                "POST",
                "/",
                "",
                f"content-type:{headers['content-type']}\nhost:{headers['host']}\n",
                "content-type;host",
                hashlib.sha256(body).hexdigest(),
            ]
        )
        scope = f"{date}/sms/tc3_request"
        to_sign = "\n".join(
            ["TC3-HMAC-SHA256", str(ts), scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )

        def h(key: bytes, msg: str) -> bytes:
            return hmac.new(key, msg.encode(), hashlib.sha256).digest()

        key = h(h(h(b"TC3tc-secret", date), "sms"), "tc3_request")
        want = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        expected = (
            f"TC3-HMAC-SHA256 Credential=AKIDtest/{scope}, SignedHeaders=content-type;host,"
            f" Signature={want}"
        )
        if auth != expected:
            return 200, {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure"}}}
        assert headers["x-tc-action"] == "SendSms" and headers["x-tc-version"] == "2021-01-11"
        msg = json.loads(body)
        assert msg["PhoneNumberSet"] == ["+8613800000000"] and msg["TemplateId"] == "SMS_200"
        assert msg["SmsSdkAppId"] == "1400000000" and msg["SignName"] == "City SAMR"
        assert msg["TemplateParamSet"][:3] == ["RODENT", "RODENT", "T1"]  # code, name, tier
        return 200, {"Response": {"SendStatusSet": [{"Code": "Ok"}], "RequestId": "r"}}

    r = serve(receivers, check)
    settings = {
        "base_url": r.url,
        "secret_id": "AKIDtest",
        "secret_key": "tc-secret",
        "sdk_app_id": "1400000000",
        "sign_name": "City SAMR",
        "templates": TEMPLATES,
    }
    ch = channel("tencent_sms", **settings)
    ch.send("13800000000", ch.render(notification("en")), None)  # English: SMS_200
    assert r.seen[-1]["answer"]["Response"]["SendStatusSet"][0]["Code"] == "Ok"
    bad = channel("tencent_sms", **{**settings, "secret_key": "wrong"})
    with pytest.raises(DeliveryError, match="SignatureFailure"):
        bad.send("13800000000", bad.render(notification("en")), None)


def test_template_keys_are_checked_when_the_settings_load() -> None:
    with pytest.raises(ValueError, match="not a template key"):
        ChannelSettings(aliyun_sms={"templates": {"zh-CN": {"P9": "SMS_1"}}})
