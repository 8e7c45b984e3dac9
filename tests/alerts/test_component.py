"""The `alerts` component as `brightwatch serve` runs it: its loops (outbox relay,
delivery worker, notification clocks, review clock) on the real clock, end to end from
an alert to a webhook request, an MQTT message and the history."""

from __future__ import annotations

import html
import json
import threading
from datetime import UTC, datetime

import psycopg
from fastapi.testclient import TestClient

from brightwatch.alerts.model import AlertSignal
from brightwatch.alerts.routing.settings import NotifySettings
from brightwatch.alerts.settings import AlertSettings
from brightwatch.api.app import create_app
from brightwatch.api.auth import create_token
from brightwatch.components import alerts as component
from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from tests.alerts.test_channels import HttpReceiver
from tests.support.mqtt import Collector
from tests.support.waiting import wait_until


def test_alerts_component_notifies_and_relays(
    settings: Settings, db_url: str, broker: EmbeddedBroker
) -> None:
    hook = HttpReceiver()
    notify = NotifySettings(
        tick_s=0.2,
        route={
            "receiver": "ops",
            "group_by": ["kind", "location"],
            "group_wait_s": 0,
            "group_interval_s": 60,
            "repeat_interval_s": 3600,
        },
        receivers={"ops": [{"channel": "webhook", "target": hook.url + "/am"}], "bureau-duty": []},
    )
    settings = settings.model_copy(update={"alerts": AlertSettings(notify=notify)})
    runtime = build_runtime(settings)
    stop = threading.Event()
    worker = threading.Thread(target=component.run, args=(runtime, stop), daemon=True)
    root = settings.topic_root
    try:
        with Collector(broker.port, [f"{root}/alerts/#"]) as mqtt:
            worker.start()
            with psycopg.connect(db_url) as conn, conn.transaction():
                change = runtime.alert_store.apply_signal(
                    conn,
                    AlertSignal(
                        "elevator",
                        "TRAPPED_OUT_ZONE",
                        "P1",
                        "E1",
                        True,
                        datetime.now(UTC),
                        summary="trapped",
                    ),
                )
            assert change is not None
            wait_until(lambda: hook.requests, timeout=30, what="the webhook request")
            body = json.loads(hook.requests[0]["body"])
            assert (
                body["version"] == "4" and body["alerts"][0]["labels"]["code"] == "TRAPPED_OUT_ZONE"
            )
            wait_until(
                lambda: mqtt.on(f"{root}/alerts/elevator/E1"), timeout=30, what="the alert message"
            )
            with psycopg.connect(db_url) as conn:
                wait_until(
                    lambda: conn.execute(
                        "SELECT 1 FROM alert_event WHERE alert_id = %s AND action = 'notification_delivered'",
                        (change.alert.id,),
                    ).fetchone(),
                    timeout=30,
                    what="the delivery in the history",
                )
    finally:
        stop.set()
        worker.join(20)
        hook.close()
    assert not worker.is_alive()

    # the console's page of the alert: whom it was sent to, through what, and that it arrived,
    # in the reader's language
    with psycopg.connect(db_url) as conn:
        _, token = create_token(conn, "supervisor", None, None)
    with TestClient(create_app(build_runtime(settings))) as client:
        said = {
            lang: html.unescape(
                client.get(
                    f"/console/views/alerts/{change.alert.id}?lang={lang}",
                    headers={"Authorization": f"Bearer {token}"},
                ).text
            )
            for lang in ("zh-CN", "en")
        }
    target = hook.url + "/am"
    assert "to ops by webhook" in said["en"] and f"webhook to {target}, attempt 1" in said["en"]
    assert f"webhook → {target}: <strong>delivered</strong>" in said["en"]
    assert "发往 ops，渠道：webhook" in said["zh-CN"] and "已送达" in said["zh-CN"]
