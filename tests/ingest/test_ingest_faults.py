"""Nothing lost (quality.md, Reliability): the ingest worker killed with SIGKILL, the
database restarted and the broker restarted, each in the middle of a stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr

from brightwatch.db.migrate import migrate
from brightwatch.embedded import EmbeddedBroker, EmbeddedPostgres
from brightwatch.settings import Settings
from tests.ingest.conftest import ingest_running, now_ms, status
from tests.support.mqtt import publish
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
ELEVATORS, SEQS = 100, 100  # 10,000 messages


def stream(root: str, seqs: range = range(SEQS)) -> list[tuple[str, bytes]]:
    t0 = now_ms() - 3_600_000
    return [
        (f"{root}/elevators/K{e:03d}/status", status(s, t0 + s * 5000 + e))
        for s in seqs
        for e in range(ELEVATORS)
    ]


def count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM elevator_status").fetchone()
    return int(row[0]) if row else 0


def check_exactly_once(url: str, n: int) -> None:
    with psycopg.connect(url) as conn:
        stored = conn.execute(
            "SELECT count(*), count(DISTINCT (elevator_id, seq)) FROM elevator_status"
        ).fetchone()
        presence = conn.execute(
            "SELECT min(messages), max(messages), max(seq_gaps) FROM device_presence"
        ).fetchone()
    assert stored == (n, n)
    per_elevator = n // ELEVATORS
    assert presence == (per_elevator, per_elevator, 0), "presence counted each message once"


def publish_in_background(port: int, messages: list[tuple[str, bytes]]) -> threading.Thread:
    t = threading.Thread(target=publish, args=(port, messages), daemon=True)
    t.start()
    return t


def test_sigkill_mid_stream_then_restart_stores_each_message_once(
    settings: Settings, broker: EmbeddedBroker, db_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    env.update(
        BW_DATABASE_URL=db_url,
        BW_MQTT_URL=broker.url,
        BW_TOPIC_ROOT=settings.topic_root,
        BW_UNKNOWN_DEVICES="accept",
        BW_INSTANCE=f"kill-{uuid.uuid4().hex[:6]}",  # the same after restart: same session
        BW_DATA_DIR=str(tmp_path),
        BW_INGEST__BATCH_SIZE="200",
        BW_LOG_LEVEL="WARNING",
    )
    cmd = [sys.executable, "-m", "brightwatch", "serve", "--components", "ingest"]

    def start() -> subprocess.Popen[bytes]:
        with open(tmp_path / "ingest.log", "ab") as log:
            return subprocess.Popen(cmd, cwd=REPO, env=env, stderr=log)

    messages = stream(settings.topic_root)
    worker = start()
    try:
        # the first message stored proves the session exists (sent until it is); then the
        # stream
        def warm() -> bool:
            publish(broker.port, messages[:1])
            return count(db_url) >= 1

        wait_until(warm, timeout=30, interval=0.5, what="worker subscribed")
        publisher = publish_in_background(broker.port, messages[1:])
        killed_at = wait_until(lambda: (n := count(db_url)) >= 3000 and n, timeout=60)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert killed_at < len(messages), "killed mid-stream"
        worker = start()
        publisher.join(60)
        wait_until(lambda: count(db_url) >= len(messages), timeout=90, what="all stored")
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
    check_exactly_once(db_url, len(messages))


@pytest.fixture
def private_pg(tmp_path: Path) -> Any:
    server = EmbeddedPostgres(tmp_path / "pg")
    server.start()
    yield server
    server.stop("immediate")


def test_postgres_restart_mid_stream_loses_nothing(
    settings: Settings, broker: EmbeddedBroker, private_pg: EmbeddedPostgres
) -> None:
    url = private_pg.create_database("bw")
    migrate(url)
    settings.database_url = SecretStr(url)
    settings.ingest.batch_size = 200
    messages = stream(settings.topic_root)
    with ingest_running(settings):
        publisher = publish_in_background(broker.port, messages)
        wait_until(lambda: count(url) >= 3000, timeout=60)
        private_pg.restart()  # the worker's connection breaks in the middle of the stream
        assert publisher.is_alive() or count(url) < len(messages), "restarted mid-stream"
        publisher.join(60)
        wait_until(lambda: count(url) >= len(messages), timeout=90, what="all stored")
    check_exactly_once(url, len(messages))


def test_broker_restart_with_persistence_loses_no_acknowledged_message(
    settings: Settings, tmp_path: Path, db_url: str
) -> None:
    own = EmbeddedBroker(tmp_path / "mqtt", persistence=True)
    own.start()
    try:
        settings.mqtt_url = SecretStr(own.url)
        # a few messages in flight at a time: the worker is still working through its
        # backlog on the broker when the broker goes down
        settings.ingest.receive_maximum = 20
        settings.ingest.batch_size = 20
        first = stream(settings.topic_root, range(0, 30))
        second = stream(settings.topic_root, range(30, 40))
        with ingest_running(settings) as health:
            publish(own.port, first)  # every one acknowledged by the broker
            before = count(db_url)
            own.restart()  # while the worker still has a backlog on the broker
            assert before < len(first), "restarted mid-stream"
            wait_until(lambda: health["mqtt-ingest"](), timeout=30, what="reconnected")
            publish(own.port, second)
            wait_until(
                lambda: count(db_url) >= len(first) + len(second), timeout=90, what="all stored"
            )
    finally:
        own.stop()
    check_exactly_once(db_url, len(first) + len(second))
