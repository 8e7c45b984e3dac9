"""Feishu / Lark (飞书) custom bot: POST JSON to /open-apis/bot/v2/hook/HOOK, signed.

With signature verification on, the body carries `timestamp` (s) and `sign`
(signing.feishu_sign). Messages are rich text (`post`) in the reader's language. The
answer is `{"code": 0}` (older bots: `{"StatusCode": 0}`); code 9499 or 11232 means too
many messages (100 a minute, 5 a second): the message waits for the next batch. Lark
(open.larksuite.com) is the same API under another base URL.
"""

from __future__ import annotations

import time
from typing import Any

from brightwatch.alerts.channels.base import DeliveryDeferred, DeliveryError, register_channel
from brightwatch.alerts.channels.robots import RobotChannel
from brightwatch.alerts.channels.signing import feishu_sign

RATE_LIMITED = {9499, 11232}


def post_content(message: dict[str, Any]) -> dict[str, Any]:
    """Feishu's rich text: a title, a paragraph per line, the links in the last one."""
    rows: list[list[dict[str, str]]] = [
        [{"tag": "text", "text": str(line).replace("**", "")}] for line in message["lines"]
    ]
    links = [{"tag": "a", "text": x["text"] + " ", "href": x["url"]} for x in message["links"]]
    if links:
        rows.append(links)
    lang = "en_us" if str(message.get("locale", "")).startswith("en") else "zh_cn"
    return {"post": {lang: {"title": message.get("title", ""), "content": rows}}}


@register_channel("feishu")
class FeishuChannel(RobotChannel):
    key = "feishu"

    def body(self, robot: Any, message: dict[str, Any], now_s: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"msg_type": "post", "content": post_content(message)}
        if robot.secret is not None:
            ts = now_s if now_s is not None else int(time.time())
            body["timestamp"] = str(ts)
            body["sign"] = feishu_sign(robot.secret.get_secret_value(), ts)
        return body

    def post(self, robot: Any, message: dict[str, Any]) -> None:
        url = f"{self.settings.base_url.rstrip('/')}/open-apis/bot/v2/hook/"
        url += robot.hook.get_secret_value()
        answer = self.call(url, self.body(robot, message))
        code = answer.get("code", answer.get("StatusCode"))
        if code in RATE_LIMITED:
            raise DeliveryDeferred(f"feishu: code {code} (rate limit)", 60.0)
        if code != 0:
            raise DeliveryError(f"feishu refused: code {code} {answer.get('msg', '')}")
