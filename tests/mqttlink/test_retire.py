"""Retiring a shared-group member removed for good, on the real mosquitto: its parked
share is drained through the ingest handler into the database (nothing lost), then its
session is ended; a restarting member keeps its session and loses nothing."""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from brightwatch.components import ingest
from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from tests.ingest.conftest import now_ms, status
from tests.support.mqtt import publish
from tests.support.waiting import wait_until


def stored(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM elevator_status").fetchone()
    assert row is not None
    return int(row[0])


def session_present(broker: EmbeddedBroker, client_id: str) -> bool:
    """Whether mosquitto keeps a session for `client_id`; asking ends it (expiry 0)."""
    got: list[bool] = []
    done = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)

    def on_connect(client, userdata, flags, rc, props=None):
        got.append(bool(flags.session_present))
        done.set()

    c.on_connect = on_connect
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    c.connect("127.0.0.1", broker.port, clean_start=False, properties=props)
    c.loop_start()
    assert done.wait(10)
    c.disconnect()
    c.loop_stop()
    return got[0]


class Member:
    """One ingest replica's worker 0, as the component runs it."""

    def __init__(self, settings: Settings) -> None:
        self.worker = ingest.make_worker(settings, 0)
        self.consumer = ingest.make_consumer(settings, 0, self.worker)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.consumer.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> Member:
        self.thread.start()
        assert self.consumer.subscribed.wait(10), "the member did not subscribe"
        return self

    def leave(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.worker.close()

    def __exit__(self, *exc: object) -> None:
        self.leave()


def test_a_removed_member_is_drained_into_the_database_and_its_session_ended(
    settings: Settings, broker: EmbeddedBroker, db_url: str
) -> None:
    group = f"g{uuid.uuid4().hex[:6]}"
    base = settings.model_copy(update={"share_group": group})
    staying = base.model_copy(update={"instance": f"{settings.instance}-a"})
    gone_name = f"{settings.instance}-b"
    gone = base.model_copy(update={"instance": gone_name})
    root, t0 = settings.topic_root, now_ms() - 60_000
    traffic = [
        (f"{root}/elevators/E{e}/status", status(s, t0 + s * 1000 + e))
        for s in range(20)
        for e in range(4)
    ]
    with Member(staying) as a:
        Member(gone).__enter__().leave()  # joins the group, then goes away for good
        publish(broker.port, traffic)
        # mosquitto hands the absent member its share and parks it in its session
        wait_until(lambda: a.consumer.received >= 20, 10, what="the staying member's share")
        wait_until(lambda: stored(db_url) == a.consumer.received, 10, what="its share stored")
        parked = len(traffic) - a.consumer.received
        assert parked > 0, "mosquitto parked nothing for the absent member"

        done = ingest.retire(base, gone_name, workers=1, quiet_s=1.0, max_s=20)
        assert [(r.session_found, r.ended) for r in done] == [(True, True)]
        assert done[0].messages == parked
        # nothing lost, nothing twice (the primary key would have refused a repeat)
        assert stored(db_url) == len(traffic)

        # the group goes on with the staying member alone
        publish(broker.port, [(f"{root}/elevators/E9/status", status(0, t0))])
        wait_until(lambda: stored(db_url) == len(traffic) + 1, 10, what="the next message")
    assert not session_present(broker, ingest.client_id(gone, 0))
    # the staying member's session is kept while it is away (a restart loses nothing)
    assert session_present(broker, ingest.client_id(staying, 0))


def test_retiring_an_unknown_member_finds_no_session(
    settings: Settings, broker: EmbeddedBroker
) -> None:
    base = settings.model_copy(update={"share_group": f"g{uuid.uuid4().hex[:6]}"})
    done = ingest.retire(base, f"{settings.instance}-never", workers=2, quiet_s=0.5, max_s=10)
    assert [(r.session_found, r.messages) for r in done] == [(False, 0), (False, 0)]


def test_the_command_refuses_a_live_member_and_retires_a_gone_one(
    settings: Settings, broker: EmbeddedBroker, db_url: str
) -> None:
    from tests.brightwatch.test_cli import bw

    group = f"g{uuid.uuid4().hex[:6]}"
    gone_name = f"{settings.instance}-gone"
    gone = settings.model_copy(update={"share_group": group, "instance": gone_name})
    Member(gone).__enter__().leave()
    root, t0 = settings.topic_root, now_ms() - 60_000
    publish(broker.port, [(f"{root}/elevators/E1/status", status(s, t0 + s)) for s in range(5)])
    env = {
        "BW_DATABASE_URL": db_url,
        "BW_MQTT_URL": broker.url,
        "BW_TOPIC_ROOT": root,
        "BW_SHARE_GROUP": group,
        "BW_UNKNOWN_DEVICES": "accept",
    }
    with psycopg.connect(db_url) as conn:  # its heartbeat says it still runs
        conn.execute(
            "INSERT INTO component_heartbeat (component, replica, host, pid, state)"
            " VALUES ('ingest', %s, 'h1', 7, 'ok')",
            (gone_name,),
        )
    refused = bw("replicas", "retire", "--instance", gone_name, "--workers", "1", env=env)
    assert refused.returncode == 1 and "still runs ingest" in refused.stderr
    assert stored(db_url) == 0
    done = bw(
        "replicas", "retire", "--instance", gone_name, "--workers", "1", "--quiet", "0.5",
        "--force", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "5 message(s) drained, session ended" in done.stdout
    assert stored(db_url) == 5
