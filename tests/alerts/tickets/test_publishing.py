"""Ticket events leave the service: on the real broker (`{root}/tickets/{firm}/{id}`,
relayed from the outbox by the alerts component's relay) and to the firm's webhook on a
real local HTTP server, through the delivery queue with retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import psycopg
import pytest

from brightwatch.alerts.delivery import Backoff, DeliveryWorker
from brightwatch.alerts.outbox import OutboxRelay
from brightwatch.alerts.store import AlertStore
from brightwatch.embedded import EmbeddedBroker
from brightwatch.mqttlink.client import parse_mqtt_url
from brightwatch.mqttlink.publisher import Publisher
from brightwatch.settings import Settings
from tests.alerts.tickets.conftest import Clock
from tests.alerts.tickets.test_store import fire
from tests.support.mqtt import Collector
from tests.support.waiting import wait_until


class FirmHook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    fail_first: ClassVar[int] = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if FirmHook.fail_first > 0:
            FirmHook.fail_first -= 1
            self.send_response(503)
        else:
            FirmHook.received.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[str]:
    FirmHook.received = []
    FirmHook.fail_first = 1
    server = HTTPServer(("127.0.0.1", 0), FirmHook)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tickets"
    server.shutdown()
    server.server_close()


def test_ticket_messages_on_the_real_broker(
    city: str, store: AlertStore, settings: Settings, broker: EmbeddedBroker
) -> None:
    root = settings.topic_root
    fire(store, city)
    publisher = Publisher(parse_mqtt_url(broker.url), "tickets-relay-test").start()
    try:
        with Collector(broker.port, [f"{root}/tickets/#"]) as col:
            with psycopg.connect(city, autocommit=True) as conn:
                assert OutboxRelay(city, publisher).relay_once(conn) >= 2
            wait_until(lambda: len(col.on(f"{root}/tickets/")) >= 2, 10, what="ticket messages")
            got = [(m.topic, json.loads(m.payload)) for m in col.on(f"{root}/tickets/")]
    finally:
        publisher.close()
    with psycopg.connect(city) as conn:
        row = conn.execute("SELECT id FROM ticket").fetchone()
    assert row
    assert [t for t, _ in got] == [f"{root}/tickets/FA/{row[0]}"] * 2
    assert [b["event"] for _, b in got] == ["created", "dispatched"]
    body = got[-1][1]["ticket"]
    assert (body["type"], body["state"], body["elevator_id"], body["firm_id"], body["trigger"]) == (
        "rescue",
        "dispatched",
        "E1",
        "FA",
        "TRAPPED_OUT_ZONE",
    )
    assert body["sla"]["step"] == "accepted" and body["confirmed_at"]


def test_firm_webhook_gets_every_event_with_retries(
    city: str, store: AlertStore, clock: Clock, hook: str
) -> None:
    with psycopg.connect(city) as conn:
        conn.execute("UPDATE firm SET webhook_url = %s WHERE firm_id = 'FA'", (hook,))
    fire(store, city)
    worker = DeliveryWorker(city, clock, Backoff(base_s=5, max_s=10, max_attempts=5))
    with psycopg.connect(city, autocommit=True) as conn:
        for _ in range(4):  # the first attempt gets a 503 and is retried after the backoff
            worker.step(conn)
            worker.drain(conn)
            clock.advance(seconds=30)
        rows = conn.execute(
            "SELECT subject, state, attempts FROM delivery WHERE channel = 'webhook' ORDER BY id"
        ).fetchall()
    assert [r[1] for r in rows] == ["delivered", "delivered"]
    assert sorted(r[2] for r in rows) == [1, 2]
    assert {r[0] for r in rows} == {rows[0][0]} and rows[0][0].startswith("ticket:")
    assert sorted(b["event"] for b in FirmHook.received) == ["created", "dispatched"]
    assert all(b["ticket"]["firm_id"] == "FA" for b in FirmHook.received)
