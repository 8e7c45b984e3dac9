"""`brightwatch broker-config` against a real mosquitto: anonymous off, a device publishes
only under its own id, services read what their job needs."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest

from brightwatch.commands.broker_config import hash_password
from brightwatch.embedded import BrokerAuth, EmbeddedBroker
from brightwatch.registry import store
from brightwatch.registry.models import CameraRecord, ElevatorRecord, SiteRecord
from tests.support.tls import TlsBroker, client_context, dev_certs, install_broker_certs

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None, reason="needs the mosquitto broker"
)


def _register(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        store.upsert_site(conn, "S1", SiteRecord(name="Canteen"))
        for cam in ("C1", "C2"):
            store.upsert_camera(conn, "S1", cam, CameraRecord(is_public=False))
        for e in ("E1", "E2"):
            store.upsert_elevator(conn, e, ElevatorRecord())


def _broker_config(
    db_url: str, root: str, out: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("BW_", "MQTT_"))}
    full_env.update(BW_DATABASE_URL=db_url, BW_TOPIC_ROOT=root, **env)
    return subprocess.run(
        [sys.executable, "-m", "brightwatch", "broker-config", "--out", str(out)],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _credentials(out: Path) -> dict[str, str]:
    with (out / "credentials.csv").open() as f:
        return {r["username"]: r["password"] for r in csv.DictReader(f)}


class Client:
    """An authenticated MQTT 5 client recording what it receives and its CONNACK."""

    def __init__(
        self, port: int, username: str | None, password: str | None, ca_file: Path | None = None
    ) -> None:
        self.port = port
        self.host = "localhost" if ca_file else "127.0.0.1"  # the name the certificate carries
        self.messages: list[tuple[str, bytes]] = []
        self.connack = threading.Event()
        self.reason: mqtt.ReasonCode | None = None
        self.subscribed = threading.Event()
        self.c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"acl-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        if username is not None:
            self.c.username_pw_set(username, password)
        if ca_file is not None:
            self.c.tls_set_context(client_context(ca_file))
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload))
        self.c.on_subscribe = lambda c, u, mid, rcs, p=None: self.subscribed.set()

    def _on_connect(self, c, u, flags, reason, props=None) -> None:  # type: ignore[no-untyped-def]
        self.reason = reason
        self.connack.set()

    def start(self) -> Client:
        self.c.connect(self.host, self.port)
        self.c.loop_start()
        assert self.connack.wait(10), "no CONNACK"
        return self

    @property
    def accepted(self) -> bool:
        return self.reason is not None and not self.reason.is_failure

    def stop(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()

    def publish(self, topic: str, payload: bytes) -> None:
        self.c.publish(topic, payload, qos=1).wait_for_publish(10)


@pytest.fixture
def locked_broker(
    db_url: str, topic_root: str, tmp_path: Path
) -> Iterator[tuple[EmbeddedBroker, dict[str, str]]]:
    _register(db_url)
    out = tmp_path / "auth"
    done = _broker_config(db_url, topic_root, out, MQTT_INGEST_PASSWORD="ingest-from-env")
    assert done.returncode == 0, done.stderr
    assert "2 elevator users" in done.stdout and "2 camera users" in done.stdout
    b = EmbeddedBroker(
        tmp_path / "mqtt", persistence=False, auth=BrokerAuth(out / "passwd", out / "acl")
    )
    b.start()
    yield b, _credentials(out)
    b.stop()


def _wait_for(client: Client, payload: bytes, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p == payload for _, p in client.messages):
            return
        time.sleep(0.02)
    raise AssertionError(f"{payload!r} never arrived; got {client.messages}")


def test_device_publishes_only_under_its_own_id(locked_broker, topic_root: str) -> None:
    broker, creds = locked_broker
    assert creds["service/ingest"] == "ingest-from-env"
    ingest = Client(broker.port, "service/ingest", creds["service/ingest"]).start()
    assert ingest.accepted
    ingest.c.subscribe([(f"{topic_root}/elevators/#", 1), (f"{topic_root}/kitchens/#", 1)])
    assert ingest.subscribed.wait(10)
    e1 = Client(broker.port, "elevator/E1", creds["elevator/E1"]).start()
    cam = Client(broker.port, "camera/S1/C1", creds["camera/S1/C1"]).start()
    assert e1.accepted and cam.accepted
    try:
        # forbidden first, then an allowed marker on the same connection: the broker keeps
        # order per client, so once the marker arrived the forbidden one would have too
        e1.publish(f"{topic_root}/elevators/E2/status", b"E1 as E2")
        e1.publish(f"{topic_root}/kitchens/S1/cameras/C1/availability", b"E1 as camera")
        e1.publish(f"{topic_root}/elevators/E1/status", b"E1 own")
        cam.publish(f"{topic_root}/kitchens/S1/cameras/C2/frame", b"C1 as C2")
        cam.publish(f"{topic_root}/elevators/E1/status", b"C1 as E1")
        # ingest reads a camera's availability (its frames are the vision worker's)
        cam.publish(f"{topic_root}/kitchens/S1/cameras/C1/availability", b"C1 own")
        _wait_for(ingest, b"E1 own")
        _wait_for(ingest, b"C1 own")
        got = {p for _, p in ingest.messages}
        assert got == {b"E1 own", b"C1 own"}, got
        # a device cannot pose as the service either
        e1.publish(f"{topic_root}/alerts/elevator/E1", b"forged alert")
        integrator = Client(broker.port, "service/integrator", creds["service/integrator"])
        integrator.start()
        integrator.c.subscribe(f"{topic_root}/alerts/#", 1)
        assert integrator.subscribed.wait(10)
        e1.publish(f"{topic_root}/alerts/elevator/E1", b"forged alert 2")
        alerts = Client(broker.port, "service/alerts", creds["service/alerts"]).start()
        alerts.publish(f"{topic_root}/alerts/elevator/E1", b"real alert")
        _wait_for(integrator, b"real alert")
        assert [p for _, p in integrator.messages] == [b"real alert"]
        alerts.stop()
        integrator.stop()
    finally:
        for c in (ingest, e1, cam):
            c.stop()


def test_anonymous_and_wrong_password_are_refused(locked_broker) -> None:
    broker, creds = locked_broker
    anonymous = Client(broker.port, None, None).start()
    wrong = Client(broker.port, "elevator/E1", creds["elevator/E2"]).start()
    unknown = Client(broker.port, "elevator/E9", "whatever").start()
    for c in (anonymous, wrong, unknown):
        assert not c.accepted, c.reason
        c.stop()


def test_rerun_keeps_passwords_and_adds_new_devices(
    db_url: str, topic_root: str, tmp_path: Path
) -> None:
    _register(db_url)
    out = tmp_path / "auth"
    assert _broker_config(db_url, topic_root, out).returncode == 0
    first = _credentials(out)
    with psycopg.connect(db_url) as conn:
        store.upsert_elevator(conn, "E3", ElevatorRecord())
    assert _broker_config(db_url, topic_root, out).returncode == 0
    second = _credentials(out)
    assert {k: second[k] for k in first} == first
    assert "elevator/E3" in second and second["elevator/E3"] not in first.values()
    assert (out / "credentials.csv").stat().st_mode & 0o077 == 0
    assert second["operator/S1"] == first["operator/S1"]
    acl = (out / "acl").read_text()
    assert f"user elevator/E3\ntopic write {topic_root}/elevators/E3/status\n" in acl
    assert f"user operator/S1\ntopic read {topic_root}/notices/S1\n" in acl


def test_hash_is_mosquitto_passwd_format(tmp_path: Path) -> None:
    """Our $7$ hash must match what mosquitto_passwd itself computes for the same salt."""
    import base64
    import shutil

    if not shutil.which("mosquitto_passwd"):
        pytest.skip("mosquitto_passwd not installed")
    f = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(f), "u", "s3cret"], check=True)
    line = f.read_text().strip()
    theirs = line.split(":", 1)[1]
    _, seven, iterations, salt, _digest = theirs.split("$")
    assert seven == "7" and iterations == "101"
    assert hash_password("s3cret", base64.b64decode(salt)) == theirs


def test_unreachable_database_is_a_clear_error(tmp_path: Path, topic_root: str) -> None:
    done = _broker_config("postgresql://nobody:pw@127.0.0.1:1/none", topic_root, tmp_path / "x")
    assert done.returncode == 1
    assert "cannot read the registry" in done.stderr and "pw@" not in done.stderr


def test_production_mosquitto_conf_runs_with_generated_files(
    db_url: str, topic_root: str, tmp_path: Path
) -> None:
    """deploy/mosquitto/mosquitto.conf as compose runs it (TLS listener only, certificates
    from `brightwatch certs dev` installed by deploy/mosquitto/start.sh), paths moved to a
    temp folder and the listener to a free loopback port."""
    _register(db_url)
    auth = tmp_path / "auth"
    assert _broker_config(db_url, topic_root, auth, MQTT_HEALTH_PASSWORD="hp").returncode == 0
    certs = dev_certs(tmp_path / "certs")
    broker = TlsBroker(tmp_path / "mqtt", install_broker_certs(certs, tmp_path / "tls"), auth)
    with broker.running():
        anonymous = Client(broker.port, None, None, certs / "ca.crt").start()
        assert not anonymous.accepted
        anonymous.stop()
        health = Client(broker.port, "service/health", "hp", certs / "ca.crt").start()
        assert health.accepted
        health.stop()
