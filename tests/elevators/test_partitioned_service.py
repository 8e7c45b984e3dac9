"""Two rules replicas (the `elevators` component with `partitions`) on the real broker and
database: each elevator's messages are stepped by its owner, every replica on its own
session; a replica that stops hands its partitions over with a running trapped timer,
which fires once, on time, at the other."""

from __future__ import annotations

import time
import uuid

import paho.mqtt.client as mqtt
import psycopg
import pytest
from click.testing import CliRunner
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench.alert_latency import probe_status
from brightwatch import cli
from brightwatch.components import ComponentSet
from brightwatch.db.partitions import Leases, live_owners, partition_of
from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from tests.mqttlink.test_retire import session_present
from tests.support.components import started
from tests.support.waiting import wait_until

PARTS = 4
WINDOW_S = 6.0


def replica(settings: Settings, name: str) -> ComponentSet:
    rules = settings.elevators.model_copy(
        update={"partitions": PARTS, "lease_ttl_s": 2.0, "trapped_out_zone_s": WINDOW_S}
    )
    return started(
        settings.model_copy(update={"instance": name, "elevators": rules}),
        "elevators",
        "mqtt-rules",
    )


def owners(db: str) -> dict[int, str]:
    with psycopg.connect(db) as conn:
        return live_owners(conn, "elevators")


def fired(db: str, elevator: str) -> list[tuple[object, ...]]:
    with psycopg.connect(db) as conn:
        return conn.execute(
            "SELECT e.at, a.started_at FROM alert_event e JOIN alert a ON a.id = e.alert_id"
            " WHERE a.device_id = %s AND a.code = 'TRAPPED_OUT_ZONE' AND e.action = 'fired'",
            (elevator,),
        ).fetchall()


def test_a_running_timer_moves_with_its_partition_and_fires_once(
    settings: Settings, broker: EmbeddedBroker
) -> None:
    db = settings.database_url.get_secret_value()
    running = {"rules-a": replica(settings, "rules-a"), "rules-b": replica(settings, "rules-b")}
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"term-{uuid.uuid4().hex[:6]}",
        protocol=mqtt.MQTTv5,
    )
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        wait_until(
            lambda: len(owners(db)) == PARTS and set(owners(db).values()) == set(running),
            timeout=30,
            what="the partitions shared by both replicas",
        )
        held = owners(db)
        elevator = next(
            e for n in range(1000) if held[partition_of(e := f"EL{n:05d}", PARTS)] == "rules-a"
        )
        topic = f"{settings.topic_root}/elevators/{elevator}/status"
        now_ms = int(time.time() * 1000)
        client.publish(topic, probe_status(elevator, 0, now_ms - 1000), qos=1).wait_for_publish(10)
        stopped_at = time.time()
        stop = {"run_state": "stopped", "speed": 0.0, "direction": "none"}
        client.publish(
            topic, probe_status(elevator, 1, int(stopped_at * 1000), **stop), qos=1
        ).wait_for_publish(10)
        with psycopg.connect(db) as conn:
            wait_until(
                lambda: conn.execute(
                    "SELECT due_at FROM elevator_rule_state WHERE elevator_id = %s", (elevator,)
                ).fetchone(),
                timeout=10,
                what="the trapped timer saved by its owner",
            )
        running.pop("rules-a").shutdown()  # gives its partitions back, states saved
        rows = wait_until(lambda: fired(db, elevator), timeout=WINDOW_S + 20, what="the alert")
        time.sleep(2.0)
        assert len(fired(db, elevator)) == 1
        ((at, started),) = rows
        assert abs(started.timestamp() - stopped_at) < 1.0  # type: ignore[attr-defined]
        assert at.timestamp() >= stopped_at + WINDOW_S - 0.5  # type: ignore[attr-defined]
        assert set(owners(db).values()) == {"rules-b"}
    finally:
        client.disconnect()
        client.loop_stop()
        for components in running.values():
            components.shutdown()


def test_retiring_a_removed_rules_replica_ends_its_session_and_frees_its_leases(
    settings: Settings, broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partitioned replica's session gets a copy of every elevator's messages: removed
    for good, it would keep them for a week. `replicas retire` ends it unread."""
    db = settings.database_url.get_secret_value()
    gone = "rules-9"
    client_id = f"{gone}-rules-0"
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    sub.connect("127.0.0.1", broker.port, clean_start=False, properties=props)
    sub.loop_start()
    sub.subscribe(f"{settings.topic_root}/elevators/+/status", qos=1)
    time.sleep(0.5)
    sub.disconnect()
    sub.loop_stop()
    with psycopg.connect(db) as conn:  # the replica held a lease when it went away
        Leases("elevators", gone, PARTS, 0.1).setup(conn)
        conn.execute(
            "UPDATE partition_lease SET owner = %s, expires_at = now() - interval '1 s'"
            " WHERE component = 'elevators' AND partition = 0",
            (gone,),
        )
        conn.commit()
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    for n in range(5):  # parked in the removed replica's session
        topic = f"{settings.topic_root}/elevators/EL{n:05d}/status"
        pub.publish(
            topic, probe_status(f"EL{n:05d}", 0, int(time.time() * 1000)), qos=1
        ).wait_for_publish(10)
    pub.disconnect()
    pub.loop_stop()
    for key, value in {
        "BW_DATABASE_URL": db,
        "BW_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}",
        "BW_TOPIC_ROOT": settings.topic_root,
        "BW_ELEVATORS__PARTITIONS": str(PARTS),
    }.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(
        cli.main, ["replicas", "retire", "--instance", gone, "--component", "elevators"]
    )
    assert result.exit_code == 0, result.output
    assert "1 lease(s) freed" in result.output
    assert not session_present(broker, client_id)  # the parked copies are gone with it
    with psycopg.connect(db) as conn:
        owner = conn.execute(
            "SELECT owner FROM partition_lease WHERE component = 'elevators' AND partition = 0"
        ).fetchone()
    assert owner == (None,)
    monkeypatch.setenv("BW_ELEVATORS__PARTITIONS", "0")  # no partitions: the only copy
    refused = CliRunner().invoke(
        cli.main, ["replicas", "retire", "--instance", gone, "--component", "elevators"]
    )
    assert refused.exit_code != 0 and "without partitions" in refused.output
