"""DingTalk (钉钉) group robot: POST JSON to /robot/send?access_token=TOKEN, signed.

With "加签" on, the URL carries `timestamp` (ms) and `sign` (signing.dingtalk_sign,
URL-encoded). Markdown messages need a `title` (the notification list preview). The
answer is `{"errcode": 0}`; errcode 130101 means more than 20 messages a minute (the robot
is then muted for 10 minutes): the message waits for the next batch.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote_plus

from brightwatch.alerts.channels.base import DeliveryDeferred, DeliveryError, register_channel
from brightwatch.alerts.channels.robots import RobotChannel, markdown
from brightwatch.alerts.channels.signing import dingtalk_sign

RATE_LIMITED = {130101, 660026}


@register_channel("dingtalk")
class DingtalkChannel(RobotChannel):
    key = "dingtalk"

    def url(self, robot: Any, now_ms: int | None = None) -> str:
        base = f"{self.settings.base_url.rstrip('/')}/robot/send"
        url = f"{base}?access_token={robot.access_token.get_secret_value()}"
        if robot.secret is not None:
            ts = now_ms if now_ms is not None else int(time.time() * 1000)
            sign = dingtalk_sign(robot.secret.get_secret_value(), ts)
            url += f"&timestamp={ts}&sign={quote_plus(sign)}"
        return url

    def post(self, robot: Any, message: dict[str, Any]) -> None:
        body = {
            "msgtype": "markdown",
            "markdown": {"title": str(message.get("title", ""))[:64], "text": markdown(message)},
        }
        answer = self.call(self.url(robot), body)
        code = answer.get("errcode")
        if code in RATE_LIMITED:
            raise DeliveryDeferred(f"dingtalk: errcode {code} (rate limit)", 60.0)
        if code != 0:
            raise DeliveryError(f"dingtalk refused: errcode {code} {answer.get('errmsg', '')}")
