"""Channels against real local receivers: an HTTP server receiving the webhook, a real
SMTP server on loopback (aiosmtpd) receiving the e-mail, the real broker receiving the
MQTT message, and a local HTTP server standing in for the SMS gateway (the only stand-in:
no SMS gateway can run here). A receiver that is down, or hangs, is retried and does not
block the others."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from prometheus_client import REGISTRY

import brightwatch.alerts.channels  # noqa: F401  (binds `alerts.channels` used below)
from brightwatch import alerts
from brightwatch.alerts.channels.settings import ChannelSettings
from brightwatch.alerts.delivery import Backoff, ChannelContext, DeliveryWorker, enqueue
from brightwatch.alerts.routing.settings import NotifySettings
from brightwatch.alerts.settings import AlertSettings
from brightwatch.embedded import EmbeddedBroker, free_port
from brightwatch.mqttlink.client import parse_mqtt_url
from tests.alerts.notify_support import Clock, Harness, notify_settings
from tests.support.http import JsonServer
from tests.support.mqtt import Collector
from tests.support.waiting import wait_until


@dataclass
class HttpReceiver:
    """A real HTTP server on loopback recording every request; it may be told to hang."""

    answer: dict[str, Any] | None = None
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    hold: threading.Event | None = None

    def __post_init__(self) -> None:
        self.server = JsonServer(self._respond)

    def _respond(self, path: str, headers: Message, body: bytes) -> tuple[int, Any]:
        if self.hold is not None:
            self.hold.wait(30)
        self.requests.append({"path": path, "headers": dict(headers), "body": body.decode()})
        return self.status, self.answer or {}

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def http() -> Iterator[list[HttpReceiver]]:
    made: list[HttpReceiver] = []
    yield made
    for r in made:
        r.close()


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def channel_settings(smtp_port: int, sms_url: str) -> ChannelSettings:
    return ChannelSettings(
        email={"host": "127.0.0.1", "port": smtp_port, "sender": "alerts@bureau.example"},
        sms={
            "url": sms_url + "/send",
            "auth_header": "Bearer gateway-secret",
            "body": {"mobile": "{to}", "content": "{text}", "sign": "brightwatch"},
            "success_field": "result.code",
            "success_value": "OK",
        },
    )


def test_every_channel_reaches_its_real_receiver_and_history_records_delivery(
    db_url: str, broker: EmbeddedBroker, http: list[HttpReceiver], smtp: tuple[Mailbox, int]
) -> None:
    webhook = HttpReceiver()
    gateway = HttpReceiver(answer={"result": {"code": "OK"}})  # stand-in for an SMS gateway
    http += [webhook, gateway]
    box, smtp_port = smtp
    settings = notify_settings(
        receivers={
            "ops": [
                {"channel": "webhook", "target": webhook.url + "/alertmanager"},
                {"channel": "email", "target": "duty@bureau.example, chief@bureau.example"},
                {"channel": "sms", "target": "+86 138 0000 0000"},
                {"channel": "mqtt", "target": "{topic_root}/notices/{site_id}"},
            ],
            "firm": [],
            "kitchen-operator": [],
            "bureau-duty": [],
            "bureau-chief": [],
        }
    )
    settings = AlertSettings(
        notify=settings.notify, channels=channel_settings(smtp_port, gateway.url)
    )
    with (
        psycopg.connect(db_url, autocommit=True) as conn,
        Collector(broker.port, ["bw/notices/#"]) as mqtt,
    ):
        h = Harness(conn, settings)
        change = h.kitchen("RODENT", "cam3", "K7", severity="T1")
        assert change is not None
        h.advance(seconds=1)
        (n,) = h.notifications()
        context = ChannelContext(
            settings.channels, parse_mqtt_url(broker.url, broker.protocol), "test-delivery"
        )
        worker = DeliveryWorker(
            db_url, h.clock, context=context, on_outcome=h.pipeline.on_delivery_outcome
        )
        assert worker.step(conn) == 4
        worker.drain(conn)
        states = conn.execute(
            "SELECT channel, state, last_error FROM delivery ORDER BY id"
        ).fetchall()
        assert states == [(c, "delivered", None) for c in ("webhook", "email", "sms", "mqtt")]

        # webhook: Alertmanager's format, as an Alertmanager receiver reads it
        (req,) = webhook.requests
        body = json.loads(req["body"])
        assert req["path"] == "/alertmanager" and body["version"] == "4"
        assert body["alerts"][0]["labels"]["code"] == "RODENT"
        assert body["alerts"][0]["annotations"]["alert_id"] == str(change.alert.id)
        # e-mail: through a real SMTP conversation
        ((sender, rcpts, raw),) = box.messages
        assert sender == "alerts@bureau.example"
        assert rcpts == ["duty@bureau.example", "chief@bureau.example"]
        mail = message_from_bytes(raw, policy=policy.default)
        # in the deployment's language (zh-CN), the code verbatim beside its Chinese name
        assert "RODENT 鼠患" in mail["Subject"] and "【告警:1】" in mail["Subject"]
        body = mail.get_content()  # type: ignore[attr-defined]
        assert "cam3" in body and "(+08:00)" in body
        # SMS: the gateway's templated request with the secret header
        (sms,) = gateway.requests
        assert sms["headers"]["Authorization"] == "Bearer gateway-secret"
        sent = json.loads(sms["body"])
        assert sent["mobile"] == "+86 138 0000 0000" and sent["sign"] == "brightwatch"
        assert "RODENT" in sent["content"] and "K7" in sent["content"]
        # MQTT: on the broker
        wait_until(lambda: mqtt.on("bw/notices/K7"), what="MQTT notification")
        assert json.loads(mqtt.on("bw/notices/K7")[0].payload)["receiver"] == "ops"
        assert h.history(change.alert.id).count("notification_delivered") == 4
        assert n["alert_ids"] == [change.alert.id]


def test_a_receiver_that_is_down_is_retried_and_blocks_nobody(
    db_url: str, http: list[HttpReceiver], smtp: tuple[Mailbox, int]
) -> None:
    hanging = HttpReceiver(hold=threading.Event())  # accepts, then says nothing
    gateway = HttpReceiver(answer={"result": {"code": "OK"}})
    refusing = HttpReceiver(answer={"result": {"code": "isv.BUSINESS_LIMIT_CONTROL"}})
    http += [hanging, gateway, refusing]
    box, smtp_port = smtp
    dead_smtp = free_port()
    clock = Clock()
    settings = channel_settings(smtp_port, gateway.url)
    context = ChannelContext(settings, None, "test-delivery")
    worker = DeliveryWorker(
        db_url, clock, Backoff(base_s=10, max_s=60, max_attempts=3), context=context
    )
    before_retry = metric("brightwatch_deliveries_total", channel="email", outcome="retry")
    with psycopg.connect(db_url, autocommit=True) as conn:
        slow = enqueue(conn, "webhook", hanging.url + "/slow", {"n": 1}, at=clock.now)
        ok_mail = enqueue(
            conn, "email", "ops@bureau.example", {"subject": "s", "text": "t"}, at=clock.now
        )
        ok_sms = enqueue(conn, "sms", "13800000000", {"text": "hello"}, at=clock.now)
        worker.step(conn)

        def delivered() -> set[int]:
            worker.step(conn)
            return {
                r[0]
                for r in conn.execute(
                    "SELECT id FROM delivery WHERE state = 'delivered'"
                ).fetchall()
            }

        # the webhook hangs, yet the e-mail and the SMS go through
        wait_until(lambda: {ok_mail, ok_sms} <= delivered(), timeout=20, what="other channels")
        assert slow not in delivered() and not hanging.requests
        assert len(box.messages) == 1 and len(gateway.requests) == 1
        hanging.hold.set()  # type: ignore[union-attr]
        worker.drain(conn)
        assert slow in delivered()

        # a dead SMTP server and a gateway that refuses: retried with backoff, then given up
        worker.context.settings = ChannelSettings(
            email={"host": "127.0.0.1", "port": dead_smtp},
            sms={"url": refusing.url + "/send", "success_field": "result.code"},
        )
        worker._channels.clear()  # rebuild the plugins with the new settings
        dead_mail = enqueue(
            conn, "email", "ops@bureau.example", {"subject": "s", "text": "t"}, at=clock.now
        )
        refused_sms = enqueue(conn, "sms", "13800000000", {"text": "x"}, at=clock.now)
        live = enqueue(conn, "webhook", gateway.url + "/hook", {"n": 2}, at=clock.now)
        worker.step(conn)
        worker.drain(conn)
        rows = dict(
            conn.execute(
                "SELECT id, state FROM delivery WHERE id = ANY(%s)",
                ([dead_mail, refused_sms, live],),
            ).fetchall()
        )
        assert rows == {dead_mail: "pending", refused_sms: "pending", live: "delivered"}
        assert worker.step(conn) == 0  # nothing is due before the backoff elapses
        for _ in range(2):
            clock.now += timedelta(minutes=5)
            worker.step(conn)
            worker.drain(conn)
        errors = dict(
            conn.execute(
                "SELECT channel, last_error FROM delivery WHERE id = ANY(%s) AND state = 'failed'",
                ([dead_mail, refused_sms],),
            ).fetchall()
        )
        assert "ConnectionRefusedError" in errors["email"]
        assert "isv.BUSINESS_LIMIT_CONTROL" in errors["sms"]
    assert (
        metric("brightwatch_deliveries_total", channel="email", outcome="retry") == before_retry + 2
    )
    assert metric("brightwatch_deliveries_total", channel="email", outcome="failed") >= 1


def test_failed_delivery_is_in_the_alert_history(db_url: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}/gone"
    settings = notify_settings(
        receivers={
            "ops": [{"channel": "webhook", "target": dead}],
            "firm": [],
            "kitchen-operator": [],
            "bureau-duty": [],
            "bureau-chief": [],
        }
    )
    with psycopg.connect(db_url, autocommit=True) as conn:
        h = Harness(conn, settings)
        change = h.signal("OFFLINE", "E5", severity="P3")
        assert change is not None
        h.advance(seconds=31)
        worker = DeliveryWorker(
            db_url,
            h.clock,
            Backoff(base_s=1, max_s=1, max_attempts=2),
            on_outcome=h.pipeline.on_delivery_outcome,
        )
        worker.step(conn)
        worker.drain(conn)
        h.clock.advance(seconds=5)
        worker.step(conn)
        worker.drain(conn)
        assert h.history(change.alert.id) == [
            "fired",
            "notified",
            "notification_retry",
            "notification_failed",
        ]
        note, details = conn.execute(
            "SELECT note, details FROM alert_event WHERE alert_id = %s AND action = 'notification_failed'",
            (change.alert.id,),
        ).fetchone()
        assert "ConnectError" in note and details["target"] == dead and details["attempts"] == 2


@pytest.mark.skipif(
    shutil.which("openssl") is None, reason="needs the openssl command for a test certificate"
)
def test_email_starttls_with_login(tmp_path: Path, db_url: str) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"s3cret"
        if ok:
            logins.append((data.login, data.password))
        return AuthResult(success=ok)

    box = Mailbox()
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        good = ChannelSettings(
            email={
                "port": port,
                "security": "starttls",
                "username": "bw",
                "password": "s3cret",
                "verify_tls": False,
            }
        )
        channel = alerts.channels.email.EmailChannel(ChannelContext(good))
        channel.send("duty@bureau.example", {"subject": "hello", "text": "over TLS"}, None)
        assert logins == [(b"bw", b"s3cret")] and len(box.messages) == 1
        plain = ChannelSettings(email={"port": port})
        # the server requires STARTTLS: a plain session is refused, clearly
        with pytest.raises(alerts.channels.DeliveryError, match="SMTP"):
            alerts.channels.email.EmailChannel(ChannelContext(plain)).send(
                "x@y.z", {"subject": "s", "text": "t"}, None
            )
    finally:
        controller.stop()


def test_bad_targets_fail_clearly() -> None:
    ctx = ChannelContext(ChannelSettings(sms={"url": "http://127.0.0.1:9/x"}))
    with pytest.raises(alerts.channels.DeliveryError, match="not a phone number"):
        alerts.channels.sms.SmsChannel(ctx).send("call me", {"text": "x"}, None)
    with pytest.raises(alerts.channels.DeliveryError, match="no SMS gateway configured"):
        alerts.channels.sms.SmsChannel(ChannelContext()).send("138", {"text": "x"}, None)
    with pytest.raises(alerts.channels.DeliveryError, match="not an e-mail address"):
        alerts.channels.email.EmailChannel(ctx).send("nobody", {"text": "x"}, None)
    with pytest.raises(alerts.channels.DeliveryError, match="not a topic"):
        alerts.channels.mqtt.MqttChannel(ctx).send("bw/#", {}, None)
    defaults = NotifySettings()
    assert (
        defaults.receivers["default"] == []
        and defaults.receivers["kitchen-operator"][0].channel == "mqtt"
    )
