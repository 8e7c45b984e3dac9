"""What the group robots (WeCom, DingTalk, Feishu) share: the message, the rate gate.

A notification becomes a short card written in the notification's language with every
instant in its zone (the catalogue's `notify` domain): a title, one line per alert (tier,
code beside its Chinese name, where, since when), links to the evidence and the console.
Each vendor's channel turns that into its own markdown or rich text.

The vendors' robots refuse more than about 20 messages a minute, so every send passes the
channel's `RateGate` (`throttle.py`): a message that finds no token waits parked and rides
in the next message to the same robot, combined under one heading; nothing is dropped.

Targets name a robot configured in the channel's settings (`robots`), so that the robot's
key and secret stay in the settings and never in the routing tree or the delivery rows.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from brightwatch.alerts.channels.base import ChannelContext, DeliveryDeferred, DeliveryError
from brightwatch.alerts.channels.throttle import RateGate, payload_ref
from brightwatch.alerts.routing.notification import AlertView, Notification
from brightwatch.alerts.words import code_name, written
from brightwatch.i18n import show, translator

# alerts listed in one message; the rest are counted
MAX_LINES = 10


def alert_line(n: Notification, a: AlertView) -> str:
    """One alert: tier, code and name, where, device, since when (in the reader's zone)."""
    _ = translator(n.locale)
    line = _(
        "%(severity)s %(code)s at %(where)s, device %(device)s, since %(since)s",
        severity=a.labels.get("severity", ""),
        code=code_name(a.labels.get("code", ""), n.locale),
        where=a.labels.get("site_id") or a.labels.get("device_id", ""),
        device=a.labels.get("device_id", ""),
        since=show(a.starts_at, n.zone, "minute"),
    )
    if a.status == "resolved" and a.ends_at is not None:
        line += " · " + _("resolved %(at)s", at=show(a.ends_at, n.zone, "minute"))
    elif a.acknowledged:
        line += " · " + _("acknowledged by %(who)s", who=a.annotations.get("acknowledged_by", ""))
    return line


def robot_message(n: Notification) -> dict[str, Any]:
    """The delivery payload of a robot channel (what is sent, before the vendor's wrapping)."""
    _ = translator(n.locale)
    lines: list[str] = []
    if n.message is not None:
        lines.append(written(n.message, n.locale, n.zone))
    links: list[dict[str, str]] = []
    for a in n.alerts[:MAX_LINES]:
        lines.append(alert_line(n, a))
        if "evidence_url" in a.annotations:
            links.append({"text": _("Evidence"), "url": a.annotations["evidence_url"]})
    if len(n.alerts) > MAX_LINES:
        lines.append(_("and %(n)s more", n=len(n.alerts) - MAX_LINES))
    links.append({"text": _("Open the console"), "url": n.console_url})
    return {
        # the identity of this delivery, so that a batch can stand in for it
        "ref": uuid.uuid4().hex,
        "locale": n.locale,
        "status": n.status,
        "title": n.subject(),
        "lines": lines,
        "links": links[: MAX_LINES + 1],
    }


def combined(own: dict[str, Any], parked: list[dict[str, Any]]) -> dict[str, Any]:
    """One message carrying parked messages (oldest first) and this one."""
    if not parked:
        return own
    every = [*parked, own]
    _ = translator(str(own.get("locale") or ""))
    lines: list[str] = []
    links: list[dict[str, str]] = []
    for p in every:
        lines.append("**" + str(p.get("title", "")) + "**")
        lines += [str(x) for x in p.get("lines", [])]
        links += [x for x in p.get("links", []) if x.get("url")]
    unique = list({x["url"]: x for x in links}.values())
    return {
        "locale": own.get("locale"),
        "status": "firing" if any(p.get("status") == "firing" for p in every) else "resolved",
        "title": _("%(n)s notifications, held back by the robot's rate limit", n=len(every)),
        "lines": lines,
        "links": unique[-MAX_LINES:],
    }


def size_of(message: dict[str, Any]) -> int:
    """UTF-8 bytes of what a message shows (the vendors limit bytes, not characters)."""
    parts = [str(message.get("title", "")), *map(str, message.get("lines", []))]
    parts += [f"{x.get('text')}{x.get('url')}" for x in message.get("links", [])]
    return sum(len(p.encode()) + 8 for p in parts)


class RobotChannel:
    """Shared send path: resolve the robot, pass the gate, post, remember what went."""

    key = ""

    def __init__(self, context: ChannelContext) -> None:
        self.settings = context.channel_settings(self.key)
        self.client = httpx.Client(timeout=self.settings.timeout_s, follow_redirects=False)
        self.gate = RateGate(self.settings.per_minute, self.settings.burst)

    @staticmethod
    def render(notification: Notification) -> dict[str, Any]:
        return robot_message(notification)

    def robot(self, target: str) -> Any:
        robot = self.settings.robots.get(target.strip())
        if robot is None:
            raise DeliveryError(
                f"no {self.key} robot named {target!r} (alerts.channels.{self.key}.robots)"
            )
        return robot

    def post(self, robot: Any, message: dict[str, Any]) -> None:
        """Send one message to one robot or raise DeliveryError (the vendor's part)."""
        raise NotImplementedError

    def send(self, target: str, payload: dict[str, Any], subject: str | None) -> None:
        robot = self.robot(target)
        ref = payload_ref(payload)
        gate = self.gate
        with gate.lock:
            if gate.storm.was_sent(target, ref):
                return  # it went inside an earlier batch
            wait = gate.throttle.take(target)
            if wait > 0:
                gate.storm.park(target, ref, payload)
                raise DeliveryDeferred(
                    f"{self.key} robot {target}: rate limit, held for the next batch", wait
                )
            budget = self.settings.max_bytes

            def fits(parked: list[dict[str, Any]]) -> bool:
                return size_of(combined(payload, parked)) <= budget

            batch = gate.storm.take(target, ref, fits)
        try:
            self.post(robot, combined(payload, [p for _, p in batch]))
        except DeliveryError as exc:
            with gate.lock:
                gate.storm.put_back(target, batch)
                if isinstance(exc, DeliveryDeferred):
                    gate.throttle.exhaust(target)
            raise
        with gate.lock:
            gate.storm.mark_sent(target, [r for r, _ in batch])

    def call(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST JSON, answer the vendor's JSON; transport and HTTP errors are retried."""
        try:
            r = self.client.post(url, json=body, headers={"User-Agent": "brightwatch"})
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{self.key}: {type(exc).__name__}") from None
        if r.status_code == 429:
            raise DeliveryDeferred(f"{self.key}: HTTP 429", 60.0)
        if not 200 <= r.status_code < 300:
            raise DeliveryError(f"{self.key}: HTTP {r.status_code}")
        try:
            answer = r.json()
        except ValueError:
            raise DeliveryError(f"{self.key}: answer is not JSON") from None
        return answer if isinstance(answer, dict) else {}


def markdown(message: dict[str, Any], heading: str = "###") -> str:
    """Title, lines and links as the markdown WeCom and DingTalk both read."""
    out = [f"{heading} {message.get('title', '')}", ""]
    out += [
        f"> {line}" if not str(line).startswith("**") else str(line)
        for line in message.get("lines", [])
    ]
    links = [f"[{x['text']}]({x['url']})" for x in message.get("links", []) if x.get("url")]
    if links:
        out += ["", " · ".join(links)]
    return "\n".join(out)
