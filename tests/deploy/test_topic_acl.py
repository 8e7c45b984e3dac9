"""Every topic of the contract's table against a real mosquitto running the ACL that
`brightwatch broker-config` derives from the same table: each publisher's publish is
acknowledged and reaches exactly the declared readers, every other publish is refused
with PUBACK "Not authorized" (0x87), and the notices the alerts component publishes
through its MQTT channel reach the kitchen's operator, and only that operator."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from brightwatch.alerts.channels.mqtt import MqttChannel
from brightwatch.alerts.delivery import ChannelContext
from brightwatch.alerts.routing.pipeline import fill_target
from brightwatch.alerts.routing.settings import NotifySettings
from brightwatch.commands.broker_config import (
    CREDENTIALS_FILE,
    SERVICES,
    Registry,
    read_credentials,
    write_broker_files,
)
from brightwatch.contract.topics import TOPICS, Role, TopicSpec, notice_topic
from brightwatch.embedded import BrokerAuth, EmbeddedBroker
from brightwatch.mqttlink.client import BrokerAddress

pytestmark = [
    pytest.mark.skipif(shutil.which("mosquitto") is None, reason="needs the mosquitto broker"),
    pytest.mark.timeout(120),
]

NOT_AUTHORIZED = 0x87
REGISTRY = Registry(
    elevators=["E1", "E2"],
    cameras=[("K1", "C1"), ("K1", "C2"), ("K2", "C1")],
    kitchens=["K1", "K2"],
)
# the ids every topic is filled with: elevator E1, camera C1 of kitchen K1, firm F1
IDS = {
    "elevator_id": "E1",
    "site_id": "K1",
    "camera_id": "C1",
    "kind": "kitchen",
    "device_id": "C1",
    "firm_id": "F1",
    "ticket_id": "42",
}
# one broker user per role, holding the ids above, plus neighbours holding other ids
USERS = {
    **{f"service/{name}": role for name, role in SERVICES},
    "elevator/E1": Role.ELEVATOR,
    "elevator/E2": Role.ELEVATOR,
    "camera/K1/C1": Role.CAMERA,
    "camera/K1/C2": Role.CAMERA,
    "camera/K2/C1": Role.CAMERA,
    "operator/K1": Role.OPERATOR,
    "operator/K2": Role.OPERATOR,
}
OWN_IDS = {"elevator/E1", "camera/K1/C1", "operator/K1"}  # scoped users holding IDS


def may(username: str, roles: tuple[Role, ...]) -> bool:
    """Whether the user's role is among `roles` and, for a scoped role, IDS are its own."""
    role = USERS[username]
    if role not in roles:
        return False
    return username.startswith("service/") or username in OWN_IDS


class Session:
    """An MQTT 5 client recording its CONNACK, PUBACK reason codes and messages."""

    def __init__(self, port: int, username: str, password: str) -> None:
        self.username = username
        self.messages: list[tuple[str, bytes]] = []
        self.pubacks: dict[int, mqtt.ReasonCode] = {}
        self.connack = threading.Event()
        self.subscribed = threading.Event()
        self.refused: mqtt.ReasonCode | None = None
        self._lock = threading.Lock()
        self.c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"topic-acl-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.c.username_pw_set(username, password)
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_publish = self._on_publish
        self.c.on_subscribe = lambda c, u, mid, rcs, p=None: self.subscribed.set()
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert self.connack.wait(10), f"{username}: no CONNACK"
        assert self.refused is None, f"{username}: connection refused: {self.refused}"

    def _on_connect(self, c, u, flags, reason, props=None) -> None:  # type: ignore[no-untyped-def]
        if reason.is_failure:
            self.refused = reason
        self.connack.set()

    def _on_message(self, c, u, m) -> None:  # type: ignore[no-untyped-def]
        with self._lock:
            self.messages.append((m.topic, m.payload))

    def _on_publish(self, c, u, mid, reason, props=None) -> None:  # type: ignore[no-untyped-def]
        with self._lock:
            self.pubacks[mid] = reason

    def publish(self, topic: str, payload: bytes) -> mqtt.ReasonCode:
        """QoS 1: the broker's PUBACK reason code (0x87 when the ACL refuses it)."""
        info = self.c.publish(topic, payload, qos=1)
        info.wait_for_publish(10)
        deadline = time.monotonic() + 10
        while info.mid not in self.pubacks:
            assert time.monotonic() < deadline, f"{self.username}: no PUBACK for {topic}"
            time.sleep(0.005)
        return self.pubacks[info.mid]

    def payloads(self) -> set[bytes]:
        with self._lock:
            return {p for _, p in self.messages}

    def stop(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def locked(tmp_path: Path, topic_root: str) -> Iterator[tuple[EmbeddedBroker, dict[str, str]]]:
    """broker-config's files for REGISTRY, and a mosquitto with anonymous access off."""
    out = tmp_path / "auth"
    write_broker_files(out, topic_root, REGISTRY, {})
    broker = EmbeddedBroker(
        tmp_path / "mqtt", persistence=False, auth=BrokerAuth(out / "passwd", out / "acl")
    )
    assert broker.kind == "mosquitto"  # amqtt would ignore the ACL
    assert "allow_anonymous false" in broker.config_text()
    broker.start()
    yield broker, read_credentials(out / CREDENTIALS_FILE)
    broker.stop()


@pytest.fixture
def sessions(locked: tuple[EmbeddedBroker, dict[str, str]]) -> Iterator[dict[str, Session]]:
    broker, creds = locked
    assert set(USERS) <= set(creds), sorted(set(USERS) - set(creds))
    opened: dict[str, Session] = {}
    try:
        for username in USERS:
            opened[username] = Session(broker.port, username, creds[username])
        yield opened
    finally:
        for s in opened.values():
            s.stop()


def _wait_for(session: Session, wanted: set[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not wanted <= session.payloads():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{session.username} never received {sorted(wanted - session.payloads())}"
            )
        time.sleep(0.02)


def test_the_table_declares_the_operator_notices() -> None:
    """The topic the issue was about: the service publishes it, the operator reads it."""
    spec = next(s for s in TOPICS if s.name == "notice")
    assert spec.pattern == "notices/{site_id}"
    assert spec.publishers == (Role.ALERTS,) and spec.readers == (Role.OPERATOR,)
    assert notice_topic("bw", "K1") == "bw/notices/K1"


def test_every_publish_of_the_table_reaches_exactly_its_readers(
    sessions: dict[str, Session], topic_root: str
) -> None:
    # everyone listens to the whole root: the broker filters each delivery by the ACL
    for s in sessions.values():
        s.c.subscribe(f"{topic_root}/#", 1)
    for s in sessions.values():
        assert s.subscribed.wait(10), f"{s.username}: no SUBACK"

    expected: dict[str, set[bytes]] = {u: set() for u in sessions}
    refused_wrongly: list[str] = []
    allowed_wrongly: list[str] = []
    for spec in TOPICS:
        topic = spec.topic(topic_root, **IDS)
        for username, session in sessions.items():
            payload = f"{spec.name} from {username}".encode()
            reason = session.publish(topic, payload)
            if may(username, spec.publishers):
                if reason.is_failure:
                    refused_wrongly.append(f"{username} -> {topic}: {reason}")
                for reader in sessions:
                    if may(reader, spec.readers):
                        expected[reader].add(payload)
            elif reason.value != NOT_AUTHORIZED:
                allowed_wrongly.append(f"{username} -> {topic}: {reason}")
    assert not refused_wrongly, refused_wrongly
    assert not allowed_wrongly, allowed_wrongly
    # the alerts component's three topics, and the devices' own, were all published
    assert {s.name for s in TOPICS if Role.ALERTS in s.publishers} == {"alert", "ticket", "notice"}
    assert b"notice from service/alerts" in expected["operator/K1"]

    for username, session in sessions.items():
        _wait_for(session, expected[username])
    time.sleep(0.5)  # anything delivered beyond the readers' share arrives with it
    got = {u: s.payloads() for u, s in sessions.items()}
    assert got == expected


def test_a_device_cannot_publish_another_devices_topics(
    sessions: dict[str, Session], topic_root: str
) -> None:
    ingest = sessions["service/ingest"]
    ingest.c.subscribe(f"{topic_root}/#", 1)
    assert ingest.subscribed.wait(10)
    status = next(s for s in TOPICS if s.name == "elevator_status")
    frame = next(s for s in TOPICS if s.name == "camera_frame")
    attempts: list[tuple[str, TopicSpec, dict[str, str]]] = [
        ("elevator/E1", status, {"elevator_id": "E2"}),
        ("elevator/E1", frame, {"site_id": "K1", "camera_id": "C1"}),
        ("camera/K1/C1", frame, {"site_id": "K1", "camera_id": "C2"}),
        ("camera/K1/C1", frame, {"site_id": "K2", "camera_id": "C1"}),
        ("camera/K1/C1", status, {"elevator_id": "E1"}),
    ]
    for username, spec, ids in attempts:
        topic = spec.filter(topic_root, **ids)
        reason = sessions[username].publish(topic, b"forged")
        assert reason.value == NOT_AUTHORIZED, (username, topic, reason)
    # nor anything outside the table, under the root or beside it
    for topic in (f"{topic_root}/elevators/E1/debug", f"{topic_root}/elevators/E1", "E1/status"):
        reason = sessions["elevator/E1"].publish(topic, b"stray")
        assert reason.value == NOT_AUTHORIZED, (topic, reason)
    own = sessions["elevator/E1"].publish(status.topic(topic_root, elevator_id="E1"), b"own")
    assert not own.is_failure
    _wait_for(ingest, {b"own"})
    assert ingest.payloads() == {b"own"}


def test_the_mqtt_channel_delivers_notices_to_the_sites_operator(
    locked: tuple[EmbeddedBroker, dict[str, str]], sessions: dict[str, Session], topic_root: str
) -> None:
    """The default `kitchen-operator` receiver, filled as the notifier fills it, sent by
    the MQTT channel logged in as service/alerts (the production alerts component)."""
    broker, creds = locked
    for site in ("K1", "K2"):
        operator = sessions[f"operator/{site}"]
        operator.c.subscribe(notice_topic(topic_root, "+"), 1)
        assert operator.subscribed.wait(10)
    (integration,) = NotifySettings().receivers["kitchen-operator"]
    target = fill_target(integration.target, {"topic_root": topic_root, "site_id": "K1"})
    assert target == notice_topic(topic_root, "K1")
    address = BrokerAddress("127.0.0.1", broker.port, "service/alerts", creds["service/alerts"])
    channel = MqttChannel(ChannelContext(None, address, "topic-acl"))
    try:
        channel.send(target, {"receiver": "kitchen-operator", "site": "K1"}, None)
    finally:
        channel.close()
    _wait_for(sessions["operator/K1"], {b'{"receiver":"kitchen-operator","site":"K1"}'})
    # K2's operator reads its own notices only (a marker it may read arrives after)
    marker = sessions["service/alerts"].publish(notice_topic(topic_root, "K2"), b"for K2")
    assert not marker.is_failure
    _wait_for(sessions["operator/K2"], {b"for K2"})
    assert sessions["operator/K2"].payloads() == {b"for K2"}
