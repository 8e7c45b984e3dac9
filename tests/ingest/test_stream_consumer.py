"""mqttlink.stream.StreamConsumer against the real mosquitto: both protocol versions,
MQTT 5 user properties, Receive Maximum, acknowledgement only after the handler."""

from __future__ import annotations

import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import paho.mqtt.client as mqtt
import pytest

from brightwatch.embedded import BrokerAuth, EmbeddedBroker
from brightwatch.mqttlink.client import parse_mqtt_url
from brightwatch.mqttlink.consumer import Inbound
from brightwatch.mqttlink.stream import ProtocolError, StreamConsumer, parse_properties
from tests.support.mqtt import publish
from tests.support.waiting import wait_until


@contextmanager
def consuming(consumer: StreamConsumer) -> Iterator[StreamConsumer]:
    stop = threading.Event()
    t = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    t.start()
    assert consumer.subscribed.wait(10), "subscribed"
    try:
        yield consumer
    finally:
        stop.set()
        t.join(15)
        assert not t.is_alive()


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_receives_in_batches_and_acknowledges_after_the_handler(
    protocol: str, broker: EmbeddedBroker
) -> None:
    root = f"s{uuid.uuid4().hex[:8]}"
    got: list[Inbound] = []
    consumer = StreamConsumer(
        parse_mqtt_url(broker.url, protocol),
        f"sc-{uuid.uuid4().hex[:6]}",
        [f"{root}/+/status"],
        got.extend,
        batch_size=100,
    )
    with consuming(consumer):
        publish(
            broker.port,
            [(f"{root}/E{i}/status", b"%d" % i) for i in range(1000)],
            ts_ms=1763800000123,
        )
        wait_until(lambda: consumer.acknowledged == 1000, what="all acknowledged")
    assert sorted(int(m.payload) for m in got) == list(range(1000))
    assert {m.qos for m in got} == {1}
    assert {m.user_ts for m in got} == ({1763800000123} if protocol == "5" else {None})
    assert consumer.batches >= 10  # batch_size respected


def test_receive_maximum_bounds_unacknowledged_messages(broker: EmbeddedBroker) -> None:
    root = f"s{uuid.uuid4().hex[:8]}"
    release = threading.Event()
    seen: list[int] = []

    def slow(batch: list[Inbound]) -> None:
        seen.append(len(batch))
        release.wait(20)

    consumer = StreamConsumer(
        parse_mqtt_url(broker.url), f"rm-{uuid.uuid4().hex[:6]}", [f"{root}/x"], slow,
        batch_size=1000, batch_wait_s=0.01, receive_maximum=10,
    )  # fmt: skip
    with consuming(consumer):
        publish(broker.port, [(f"{root}/x", b"m")] * 50)
        wait_until(lambda: consumer.received >= 10)
        threading.Event().wait(0.5)
        assert consumer.received == 10, "the broker stops at the Receive Maximum"
        assert consumer.acknowledged == 0, "nothing acknowledged before the handler returns"
        release.set()
        wait_until(lambda: consumer.acknowledged == 50, what="the rest after acknowledgements")


def test_failed_batch_is_not_acknowledged_and_retried(broker: EmbeddedBroker) -> None:
    root = f"s{uuid.uuid4().hex[:8]}"
    calls: list[int] = []

    def flaky(batch: list[Inbound]) -> None:
        calls.append(len(batch))
        if len(calls) < 3:
            raise RuntimeError("database down")

    consumer = StreamConsumer(
        parse_mqtt_url(broker.url), f"fl-{uuid.uuid4().hex[:6]}", [f"{root}/x"], flaky,
        max_retry_delay_s=0.2,
    )  # fmt: skip
    with consuming(consumer):
        publish(broker.port, [(f"{root}/x", b"m")])
        wait_until(lambda: consumer.acknowledged == 1)
    assert calls == [1, 1, 1] and consumer.failures == 2


def test_retained_flag_and_topic_bytes(broker: EmbeddedBroker) -> None:
    root = f"s{uuid.uuid4().hex[:8]}"
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    c.publish(f"{root}/电梯/availability", b"online", qos=1, retain=True).wait_for_publish(10)
    got: list[Inbound] = []
    consumer = StreamConsumer(
        parse_mqtt_url(broker.url),
        f"rt-{uuid.uuid4().hex[:6]}",
        [f"{root}/+/availability"],
        got.extend,
    )
    with consuming(consumer):
        wait_until(lambda: len(got) == 1)
    c.publish(f"{root}/电梯/availability", b"", qos=1, retain=True).wait_for_publish(10)
    c.loop_stop()
    c.disconnect()
    assert (got[0].topic, got[0].payload, got[0].retain) == (
        f"{root}/电梯/availability",
        b"online",
        True,
    )


def test_properties_parsing() -> None:
    props = parse_properties(b"\x26\x00\x02ts\x00\x0d1763800000123\x23\x00\x05\x01\x01")
    assert props[0x26] == [("ts", "1763800000123")]
    assert props[0x23] == 5 and props[0x01] == 1
    with pytest.raises(ProtocolError):
        parse_properties(b"\x7f\x00")
    with pytest.raises(ProtocolError):
        parse_properties(b"\x26\x00\x05ab")


@pytest.mark.skipif(not shutil.which("mosquitto_passwd"), reason="needs mosquitto_passwd")
def test_user_name_and_password(tmp_path: Path) -> None:
    """Anonymous access off (the production configuration): the session logs in, and a
    wrong password is refused without ever subscribing."""
    passwords, acl = tmp_path / "passwd", tmp_path / "acl"
    passwords.write_text("")
    subprocess.run(
        ["mosquitto_passwd", "-b", str(passwords), "ingest", "s3cret:with@odd/chars"], check=True
    )
    acl.write_text("user ingest\ntopic readwrite #\n")
    own = EmbeddedBroker(tmp_path / "mqtt", persistence=False, auth=BrokerAuth(passwords, acl))
    own.start()
    try:
        good = "mqtt://ingest:" + quote("s3cret:with@odd/chars", safe="") + f"@127.0.0.1:{own.port}"
        got: list[Inbound] = []
        consumer = StreamConsumer(parse_mqtt_url(good), "auth-ok", ["a/+"], got.extend)
        with consuming(consumer):
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
            c.username_pw_set("ingest", "s3cret:with@odd/chars")
            c.connect("127.0.0.1", own.port)
            c.loop_start()
            c.publish("a/b", b"x", qos=1).wait_for_publish(10)
            c.loop_stop()
            c.disconnect()
            wait_until(lambda: len(got) == 1)
        bad = StreamConsumer(
            parse_mqtt_url(f"mqtt://ingest:wrong@127.0.0.1:{own.port}"),
            "auth-bad",
            ["a/+"],
            got.extend,
        )
        stop = threading.Event()
        t = threading.Thread(target=bad.run, args=(stop,), daemon=True)
        t.start()
        assert not bad.subscribed.wait(2), "a wrong password must not get a session"
        stop.set()
        t.join(15)
    finally:
        own.stop()
