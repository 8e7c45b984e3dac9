"""Nothing silences the service (quality.md, reliability): a poison event (U+0000, also
retained), a status nested 300 deep and bad camera input arrive before a trapped
passenger, on the real broker and database, with ingest, the rules, vision and the alerts
relay running: all three are dead-lettered, TRAPPED_OUT_ZONE comes within the rule window
+ 1 s, and the elevator list still answers 200 with a too-deep status stored by hand."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from brightwatch.api.app import create_app
from brightwatch.api.auth import create_token
from brightwatch.components import ComponentSet
from brightwatch.contract.limits import TRUNCATED
from brightwatch.db.migrate import migrate
from brightwatch.embedded import EmbeddedBroker, EmbeddedPostgres
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from tests.ingest.test_ingest_faults import (
    check_exactly_once,
    count,
    publish_in_background,
    stream,
)
from tests.support.mqtt import Collector, publish
from tests.support.waiting import wait_until

WINDOW_S = 5.0  # TRAPPED_OUT_ZONE's window for this test (the fleet default is 30 s)


def status(ts_ms: int, seq: int, **fields: Any) -> bytes:
    doc = {
        "ts": ts_ms,
        "seq": seq,
        "service_mode": "normal",
        "run_state": "stopped",
        "floor": 4,
        "door_zone": True,
        "door_state": "closed",
        "has_person": False,
        "speed": 0.0,
        "alarm_button": False,
    }
    doc.update(fields)
    return msgspec.json.encode(doc)


def deep(levels: int) -> str:
    return '{"x": ' * levels + "1" + "}" * levels


def rows(db_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(sql, params).fetchall()


def test_poison_messages_do_not_silence_a_trapped_passenger(
    settings: Settings, broker: EmbeddedBroker, db_url: str
) -> None:
    root = settings.topic_root
    elevators = settings.elevators.model_copy(update={"trapped_out_zone_s": WINDOW_S})
    # no detector: the vision worker takes edge detections, camera health and availability
    settings = settings.model_copy(update={"model": "none-installed", "elevators": elevators})
    runtime = build_runtime(settings)
    components = ComponentSet(runtime, ["ingest", "elevators", "vision", "alerts"])
    now = int(time.time() * 1000)
    # the poison comes first: retained, so it is also what a restarted worker sees first
    publish(
        broker.port,
        [(f"{root}/elevators/E1/event", b'{"ts": %d, "seq": 1, "code": "X\\u0000Y",'
          b' "state": "raise"}' % now)],
        qos=1,
    )  # fmt: skip
    retained = mqtt_retain(broker, f"{root}/elevators/E1/event", now)
    components.start()
    try:
        wait_until(
            lambda: all(
                k in runtime.health and runtime.health[k]()
                for k in ("mqtt-ingest", "mqtt-rules", "mqtt-vision")
            ),
            20,
            what="consumers subscribed",
        )
        too_deep = status(now, 1).replace(b"}", b', "vendor": ' + deep(300).encode() + b"}")
        bad_camera = [
            (f"{root}/kitchens/K1/cameras/C1/frame", b"\xff\xd8 not really a JPEG"),
            (f"{root}/kitchens/K1/cameras/C1/frame", b"GIF89a"),
            (
                f"{root}/kitchens/K1/cameras/C1/detections",
                b'{"ts": %d, "seq": 1, "model": "m\\u0000", "width": 640, "height": 480,'
                b' "objects": []}' % now,
            ),
            (f"{root}/kitchens/K1/cameras/C1/detections", b'{"ts": "soon"}'),
        ]
        publish(broker.port, [(f"{root}/elevators/E2/status", too_deep), *bad_camera])
        with Collector(broker.port, [f"{root}/alerts/elevator/#"]) as col:
            # the passenger: stopped outside the door zone, then the window runs
            stall = int(time.time() * 1000)
            publish(
                broker.port,
                [
                    (f"{root}/elevators/E3/status", status(stall - 2000, 1)),
                    (
                        f"{root}/elevators/E3/status",
                        status(stall, 2, door_zone=False, has_person=True, floor=5),
                    ),
                ],
            )
            arrived: list[float] = []

            def trapped() -> bool:
                for m in col.on(f"{root}/alerts/elevator/E3"):
                    body = json.loads(m.payload)
                    if body["alert"]["code"] == "TRAPPED_OUT_ZONE":
                        arrived.append(time.time())
                        return True
                return False

            wait_until(trapped, WINDOW_S + 20, what="TRAPPED_OUT_ZONE for E3", interval=0.05)
        late_s = arrived[0] - (stall / 1000 + WINDOW_S)
        assert late_s <= 1.0, f"the alert came {late_s:.2f} s after the rule window"

        wait_until(
            lambda: rows(db_url, "SELECT count(*) FROM dead_letter")[0][0] >= 6,
            20,
            what="the poison dead-lettered",
        )
        dead = rows(
            db_url,
            "SELECT topic_kind, device_key, reason_class, reason FROM dead_letter ORDER BY id",
        )
        kinds = {(k, d) for k, d, _, _ in dead}
        assert ("elevator_event", "E1") in kinds, dead
        assert ("elevator_status", "E2") in kinds, dead
        assert sum(k == "camera_frame" for k, _, _, _ in dead) == 2, dead
        assert sum(k == "camera_detections" for k, _, _, _ in dead) == 2, dead
        reasons = {d: r for _, d, _, r in dead if d in ("E1", "E2")}
        assert "U+0000" in reasons["E1"] and "nested deeper" in reasons["E2"], reasons
        # the rules worker never stored the poison and kept going
        assert rows(db_url, "SELECT count(*) FROM alert WHERE code LIKE 'X%%'") == [(0,)]
        assert retained  # the retained copy was there for the whole run

        # a status stored before the limits existed, 300 deep: the list still answers
        with psycopg.connect(db_url) as conn:
            conn.execute(
                "UPDATE device_presence SET last_status = %s::jsonb WHERE device_key = 'E3'",
                (json.dumps({"ts": stall, "vendor": json.loads(deep(300))}),),
            )
            _, token = create_token(conn, "admin", None, None)
        with TestClient(create_app(build_runtime(settings))) as client:
            got = client.get("/api/v1/elevators", headers={"Authorization": f"Bearer {token}"})
            assert got.status_code == 200, got.text
            (e3,) = [e for e in got.json()["items"] if e["elevator_id"] == "E3"]
            node, depth = e3["last_status"]["vendor"], 2
            while isinstance(node, dict):
                node, depth = node["x"], depth + 1
            assert node == TRUNCATED and depth <= 17, (node, depth)
            one = client.get("/api/v1/elevators/E3", headers={"Authorization": f"Bearer {token}"})
            assert one.status_code == 200, one.text
    finally:
        components.shutdown()
        publish(broker.port, [(f"{root}/elevators/E1/event", b"")], qos=1)  # clear retained


def mqtt_retain(broker: EmbeddedBroker, topic: str, now: int) -> bool:
    """Publish the poison event once more, retained; True when the broker kept it."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    body = b'{"ts": %d, "seq": 2, "code": "X\\u0000Y", "state": "raise"}' % now
    client.publish(topic, body, qos=1, retain=True).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()
    with Collector(broker.port, [topic]) as col:
        wait_until(lambda: bool(col.on(topic)), 5, what="the retained poison")
        return col.on(topic)[0].retain


@pytest.fixture
def private_pg(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path / "pg")
    server.start()
    yield server
    server.stop("immediate")


def test_a_database_restart_dead_letters_nothing(
    settings: Settings, broker: EmbeddedBroker, private_pg: EmbeddedPostgres
) -> None:
    """An outage is not the messages' fault: PostgreSQL restarted while ingest and the
    rules worker consume a stream; every message is stored once, nothing is
    dead-lettered, and the rules worker still raises a trapped passenger afterwards."""
    url = private_pg.create_database("bw")
    migrate(url)
    elevators = settings.elevators.model_copy(update={"trapped_out_zone_s": WINDOW_S})
    settings = settings.model_copy(update={"database_url": SecretStr(url), "elevators": elevators})
    settings.ingest.batch_size = 200
    root = settings.topic_root
    messages = stream(root)
    runtime = build_runtime(settings)
    components = ComponentSet(runtime, ["ingest", "elevators", "alerts"])
    components.start()
    try:
        wait_until(
            lambda: all(
                k in runtime.health and runtime.health[k]() for k in ("mqtt-ingest", "mqtt-rules")
            ),
            20,
            what="consumers subscribed",
        )
        publisher = publish_in_background(broker.port, messages)
        wait_until(lambda: count(url) >= 3000, timeout=60)
        private_pg.restart()  # both workers' connections break in the middle of the stream
        publisher.join(60)
        wait_until(lambda: count(url) >= len(messages), timeout=90, what="all stored")
        check_exactly_once(url, len(messages))
        stall = int(time.time() * 1000)
        publish(broker.port, [(f"{root}/elevators/K000/status", status(stall, 10_000, door_zone=False, has_person=True))])  # fmt: skip
        wait_until(
            lambda: rows(url, "SELECT count(*) FROM alert WHERE code = 'TRAPPED_OUT_ZONE'")[0][0],
            WINDOW_S + 30,
            what="the trapped alert after the restart",
        )
    finally:
        components.shutdown()
    assert rows(url, "SELECT count(*) FROM dead_letter") == [(0,)]
