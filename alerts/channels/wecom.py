"""WeCom (企业微信) group robot: POST JSON to /cgi-bin/webhook/send?key=KEY.

The robot authenticates by the key in its URL and signs nothing. Markdown messages (4096
bytes at most); the answer is `{"errcode": 0, "errmsg": "ok"}`, errcode 45009 means too
many messages (20 a minute per robot): the message waits for the next batch.
"""

from __future__ import annotations

from typing import Any

from brightwatch.alerts.channels.base import DeliveryDeferred, DeliveryError, register_channel
from brightwatch.alerts.channels.robots import RobotChannel, markdown

RATE_LIMITED = {45009}


@register_channel("wecom")
class WecomChannel(RobotChannel):
    key = "wecom"

    def post(self, robot: Any, message: dict[str, Any]) -> None:
        url = f"{self.settings.base_url.rstrip('/')}/cgi-bin/webhook/send"
        url += f"?key={robot.key.get_secret_value()}"
        body: dict[str, Any] = {"msgtype": "markdown", "markdown": {"content": markdown(message)}}
        answer = self.call(url, body)
        code = answer.get("errcode")
        if code in RATE_LIMITED:
            raise DeliveryDeferred(f"wecom: errcode {code} (rate limit)", 60.0)
        if code != 0:
            raise DeliveryError(f"wecom refused: errcode {code} {answer.get('errmsg', '')}")
