"""The ingest component against the real broker and database (issue 2, item 4)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from brightwatch.api.app import create_app
from brightwatch.api.auth import create_token
from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from tests.ingest.conftest import ingest_running, now_ms, status
from tests.ingest.malformed import malformed
from tests.support.mqtt import publish
from tests.support.waiting import wait_until


def rows(db_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.mark.parametrize("client", ["stream", "paho"])
def test_valid_traffic_is_stored_exactly_once(
    client: str, settings: Settings, broker: EmbeddedBroker, db_url: str
) -> None:
    settings.ingest.mqtt_client = client  # type: ignore[assignment]
    root, t0 = settings.topic_root, now_ms() - 60_000
    traffic = [
        (f"{root}/elevators/E{e}/status", status(s, t0 + s * 1000 + e))
        for s in range(40)
        for e in range(5)
    ]
    # a redelivered copy and out-of-order arrival are normal on MQTT
    traffic += traffic[17:30]
    traffic = traffic[:100][::-1] + traffic[100:]
    traffic.append(
        (f"{root}/elevators/E9/status", status(0, t0, vendor={"fw": "2.1"}, temp_c=31.5))
    )
    traffic.append(
        (
            f"{root}/elevators/E9/event",
            msgspec.json.encode(
                {
                    "ts": t0 + 1,
                    "seq": 1,
                    "code": "RUNTIME_LIMITER",
                    "state": "raise",
                    "detail": "45 s",
                }
            ),
        )
    )
    traffic.append((f"{root}/elevators/E9/stats", msgspec.json.encode(
        {"ts": t0 + 2, "seq": 2, "run_count": 1203345, "run_hours": 8123.5})))  # fmt: skip
    with ingest_running(settings):
        publish(broker.port, traffic)
        wait_until(
            lambda: (
                rows(db_url, "SELECT count(*) FROM elevator_status")[0][0] == 201
                and rows(db_url, "SELECT count(*) FROM elevator_stats")[0][0] == 1
            ),
            timeout=20,
            what="all samples stored",
        )
        time.sleep(0.3)  # nothing more arrives: the copies were not stored twice
    assert rows(
        db_url, "SELECT count(*), count(DISTINCT (elevator_id, seq)) FROM elevator_status"
    ) == [(201, 201)]
    assert rows(db_url, "SELECT extra FROM elevator_status WHERE elevator_id = 'E9'") == [
        ({"vendor": {"fw": "2.1"}, "temp_c": 31.5},)
    ]
    assert rows(db_url, "SELECT code, state, detail FROM elevator_event") == [
        ("RUNTIME_LIMITER", "raise", "45 s")
    ]
    presence = dict(
        (r[0], r[1:])
        for r in rows(db_url, "SELECT device_key, messages, seq_gaps, last_seq, last_status->>'seq'"
                              " FROM device_presence")
    )  # fmt: skip
    assert presence["E0"] == (40, 0, 39, "39")
    assert presence["E9"] == (3, 0, 2, "0")
    # auto-registered (settings fixture: unknown_devices=accept)
    assert rows(db_url, "SELECT count(*) FROM elevator WHERE registered_by = 'auto'") == [(6,)]
    assert rows(db_url, "SELECT count(*) FROM dead_letter") == [(0,)]


def test_seq_gaps_are_counted(settings: Settings, broker: EmbeddedBroker, db_url: str) -> None:
    root, t0 = settings.topic_root, now_ms() - 60_000
    seqs = [0, 1, 2, 5, 6, 9, 0, 1]  # 3-4 and 7-8 lost, then a reboot (0 is no gap)
    with ingest_running(settings):
        for i, seq in enumerate(seqs):  # one at a time: each its own batch
            publish(broker.port, [(f"{root}/elevators/G1/status", status(seq, t0 + i * 1000))])
            wait_until(
                lambda n=i + 1: rows(db_url, "SELECT count(*) FROM elevator_status")[0][0] == n
            )
    assert rows(db_url, "SELECT messages, seq_gaps, last_seq FROM device_presence") == [(8, 4, 1)]


def test_malformed_flood_is_dead_lettered_and_valid_traffic_unaffected(
    settings: Settings, broker: EmbeddedBroker, db_url: str
) -> None:
    """quality.md: 10,000 malformed payloads of every kind, zero crashes, each one
    dead-lettered with a reason, valid traffic interleaved stored as usual."""
    root, t0 = settings.topic_root, now_ms() - 60_000
    bad = malformed(root, 10_000)
    bad += [(f"{root}/elevators/M1/status", b"x" * 10 * 1024 * 1024) for _ in range(3)]  # 10 MB
    good = [(f"{root}/elevators/V{i % 20}/status", status(i // 20, t0 + i)) for i in range(1000)]
    traffic: list[tuple[str, bytes]] = []
    for i, message in enumerate(bad):
        traffic.append(message)
        if i % 10 == 0 and good:
            traffic.append(good.pop())
    traffic += good
    dead_before = dead_letter_metric()
    # 200 malformed messages per device: every one stored, not only the hourly cap's worth
    settings.ingest.dead_letters_per_device_hour = 1000
    with ingest_running(settings) as health:
        publish(broker.port, traffic)
        wait_until(
            lambda: rows(db_url, "SELECT count(*) FROM dead_letter")[0][0] >= 10_003,
            timeout=60,
            what="every malformed message dead-lettered",
        )
        wait_until(lambda: rows(db_url, "SELECT count(*) FROM elevator_status")[0][0] == 1000)
        assert health["mqtt-ingest"](), "still connected: nothing crashed"
    dead = rows(
        db_url,
        "SELECT count(*), count(*) FILTER (WHERE reason <> ''), max(length(payload)),"
        " max(payload_size) FROM dead_letter",
    )
    assert dead == [(10_003, 10_003, 4096, 10 * 1024 * 1024)]
    assert dead_letter_metric() - dead_before == 10_003, "every one counted in the metric"
    reasons = {r[0] for r in rows(db_url, "SELECT split_part(reason, ':', 1) FROM dead_letter")}
    assert {"invalid JSON", "topic", "payload too large"} <= reasons
    assert rows(db_url, "SELECT count(DISTINCT (elevator_id, seq)) FROM elevator_status") == [
        (1000,)
    ]


@pytest.mark.parametrize("policy", ["accept", "quarantine"])
def test_unknown_devices(
    policy: str, settings: Settings, broker: EmbeddedBroker, db_url: str
) -> None:
    settings.unknown_devices = policy  # type: ignore[assignment]
    root, t0 = settings.topic_root, now_ms() - 60_000
    with psycopg.connect(db_url) as conn:
        conn.execute("INSERT INTO elevator (elevator_id) VALUES ('KNOWN1')")
    traffic = [
        (f"{root}/elevators/KNOWN1/status", status(0, t0)),
        (f"{root}/elevators/STRANGER/status", status(0, t0)),
        (f"{root}/kitchens/S9/cameras/C9/availability", b"online"),
    ]
    with ingest_running(settings):
        publish(broker.port, traffic)
        if policy == "accept":
            wait_until(lambda: rows(db_url, "SELECT count(*) FROM elevator_status")[0][0] == 2)
            wait_until(lambda: rows(db_url, "SELECT count(*) FROM device_presence")[0][0] == 3)
        else:
            wait_until(lambda: rows(db_url, "SELECT count(*) FROM dead_letter")[0][0] == 2)
            wait_until(lambda: rows(db_url, "SELECT count(*) FROM elevator_status")[0][0] == 1)
    if policy == "accept":
        assert rows(db_url, "SELECT elevator_id, registered_by FROM elevator ORDER BY 1") == [
            ("KNOWN1", "api"), ("STRANGER", "auto")
        ]  # fmt: skip
        assert rows(db_url, "SELECT site_id, registered_by FROM site") == [("S9", "auto")]
        assert rows(db_url, "SELECT camera_id, registered_by FROM camera") == [("C9", "auto")]
    else:
        assert rows(db_url, "SELECT count(*) FROM elevator") == [(1,)]
        dead = sorted(r[0] for r in rows(db_url, "SELECT reason FROM dead_letter"))
        assert dead == [
            "unknown device: camera S9/C9 is not registered (BW_UNKNOWN_DEVICES=quarantine)",
            "unknown device: elevator STRANGER is not registered (BW_UNKNOWN_DEVICES=quarantine)",
        ]
        # registered later through the API: accepted once the cache looks again
        with psycopg.connect(db_url) as conn:
            conn.execute("INSERT INTO elevator (elevator_id) VALUES ('STRANGER')")
        settings.ingest.unknown_recheck_s = 0
        with ingest_running(settings):
            publish(broker.port, [(f"{root}/elevators/STRANGER/status", status(1, t0 + 1))])
            wait_until(lambda: rows(db_url, "SELECT count(*) FROM elevator_status")[0][0] == 2)


def test_availability_and_will(settings: Settings, broker: EmbeddedBroker, db_url: str) -> None:
    """A terminal announces itself online (retained) with an `offline` will; its
    connection dies without a DISCONNECT, the broker publishes the will."""
    root = settings.topic_root
    topic = f"{root}/elevators/W1/availability"
    terminal = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"w1-{uuid.uuid4().hex[:6]}",
        protocol=mqtt.MQTTv311,
    )
    terminal.will_set(topic, b"offline", qos=1, retain=True)
    with ingest_running(settings):
        terminal.connect("127.0.0.1", broker.port, keepalive=5)
        terminal.loop_start()
        terminal.publish(topic, b"online", qos=1, retain=True).wait_for_publish(10)
        wait_until(
            lambda: rows(db_url, "SELECT availability FROM device_presence") == [("online",)]
        )
        terminal.loop_stop()
        sock = terminal.socket()
        assert isinstance(sock, socket.socket)
        sock.shutdown(socket.SHUT_RDWR)  # a dead link, not a clean disconnect: the will fires
        sock.close()
        wait_until(
            lambda: rows(db_url, "SELECT availability FROM device_presence") == [("offline",)],
            timeout=15,
        )
    log = rows(db_url, "SELECT availability FROM availability_log ORDER BY id")
    assert log == [("online",), ("offline",)]
    publish(
        broker.port,
        [(topic, b"")],
    )  # clear the retained message for later tests


@pytest.mark.skipif(not shutil.which("mosquitto_pub"), reason="needs mosquitto_pub")
def test_status_from_mosquitto_pub_reaches_the_api_within_a_second(
    settings: Settings, broker: EmbeddedBroker, db_url: str
) -> None:
    """Acceptance: a status published with mosquitto_pub appears at
    GET /api/v1/elevators/{id}/status within 1 s (asserted with a margin for a loaded
    2-core machine; the measured delay is printed)."""
    root = settings.topic_root
    with psycopg.connect(db_url) as conn:
        conn.execute("INSERT INTO elevator (elevator_id) VALUES ('31010000000000000042')")
        _, token = create_token(conn, "admin", None, None)
    app = create_app(build_runtime(settings))
    delays = []
    with ingest_running(settings), TestClient(app) as api:
        headers = {"Authorization": f"Bearer {token}"}
        url = "/api/v1/elevators/31010000000000000042/status"
        assert api.get(url, headers=headers).json()["items"] == []
        for seq in range(3):
            payload = status(seq, now_ms()).decode()
            started = time.monotonic()
            subprocess.run(
                ["mosquitto_pub", "-p", str(broker.port), "-q", "1",
                 "-t", f"{root}/elevators/31010000000000000042/status", "-m", payload],
                check=True, timeout=10,
            )  # fmt: skip

            def arrived(seq: int = seq) -> bool:
                items = api.get(url, headers=headers).json()["items"]
                return bool(items) and items[0]["seq"] == seq

            wait_until(arrived, timeout=10, interval=0.01, what="the status at the API")
            delays.append(time.monotonic() - started)
    print(f"\nmosquitto_pub -> GET .../status: {', '.join(f'{d * 1000:.0f} ms' for d in delays)}")
    assert max(delays) < 3.0


def dead_letter_metric() -> float:
    return sum(
        s.value
        for metric in REGISTRY.collect()
        if metric.name == "brightwatch_ingest_dead_letters"
        for s in metric.samples
        if s.name.endswith("_total")
    )


def count_fn(db_url: str) -> Callable[[], int]:
    return lambda: rows(db_url, "SELECT count(*) FROM elevator_status")[0][0]


def test_two_worker_processes_share_the_load(
    settings: Settings, broker: EmbeddedBroker, db_url: str
) -> None:
    settings.share_group = f"g{uuid.uuid4().hex[:6]}"
    settings.ingest.workers = 2
    root, t0 = settings.topic_root, now_ms() - 600_000
    names = "SELECT DISTINCT application_name FROM pg_stat_activity WHERE application_name LIKE %s"
    sent = 0
    with ingest_running(settings):
        # the extra process starts and subscribes on its own: send until both have written
        deadline = time.monotonic() + 30
        while len(rows(db_url, names, f"brightwatch-{settings.instance}-ingest-%")) < 2:
            assert time.monotonic() < deadline, "the second worker never wrote"
            batch = [
                (f"{root}/elevators/P{e}/status", status(s, t0 + s * 1000))
                for s in range(sent // 40, sent // 40 + 5)
                for e in range(40)
            ]
            publish(broker.port, batch)
            sent += len(batch)
            time.sleep(0.2)
        wait_until(lambda: count_fn(db_url)() == sent, timeout=30)
    assert rows(db_url, "SELECT count(DISTINCT (elevator_id, seq)) FROM elevator_status") == [
        (sent,)
    ]


def test_several_workers_need_a_share_group(settings: Settings) -> None:
    settings.ingest.workers = 2
    from brightwatch.components.ingest import run

    with pytest.raises(ValueError, match="BW_SHARE_GROUP"):
        run(build_runtime(settings), threading.Event())


def test_a_flood_from_one_device_is_capped_and_counted(
    settings: Settings, broker: EmbeddedBroker, db_url: str
) -> None:
    """A broken terminal (or an attacker) sending garbage: at most the hourly cap of its
    dead letters is stored, the rest is counted, and its neighbours' are all stored."""
    root = settings.topic_root
    settings.ingest.dead_letters_per_device_hour = 50
    flood = [(f"{root}/elevators/F1/status", b"garbage %d" % i) for i in range(300)]
    other = [(f"{root}/elevators/F2/status", b"garbage %d" % i) for i in range(20)]
    with ingest_running(settings):
        publish(broker.port, flood + other)
        wait_until(
            lambda: (
                rows(db_url, "SELECT coalesce(sum(suppressed), 0) FROM dead_letter_suppressed")[0][
                    0
                ]
                == 250
            ),
            timeout=30,
            what="the flood counted",
        )
        wait_until(lambda: rows(db_url, "SELECT count(*) FROM dead_letter")[0][0] == 70)
    stored = rows(
        db_url,
        "SELECT device_key, topic_kind, reason_class, count(*) FROM dead_letter"
        " GROUP BY 1, 2, 3 ORDER BY 1",
    )
    assert stored == [("F1", "elevator_status", "json", 50), ("F2", "elevator_status", "json", 20)]
    assert rows(
        db_url, "SELECT device_key, topic_kind, reason_class FROM dead_letter_suppressed"
    ) == [("F1", "elevator_status", "json")]
