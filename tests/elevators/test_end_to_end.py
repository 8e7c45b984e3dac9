"""The rules on the real broker and database.

- A trapped scenario published with `mosquitto_pub` comes out as a TRAPPED_OUT_ZONE alert
  message on `bw/alerts/elevator/{id}`.
- The rules worker, run as `brightwatch serve --components elevators,alerts`, is killed
  (SIGKILL) while a 30 s trapped timer runs and started again: exactly one alert, with
  the right start, not before the 30 s and not late.
- The rescue ticket that follows a P1 alert comes from the tickets capability (a reactor
  on the alert store, alerts/tickets): when it is wired in, the last test checks that the
  trapped alert produced a ticket message on `bw/tickets/...`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from brightwatch.components import ComponentSet
from brightwatch.edge.elevator_sim.trace import Trace, load
from brightwatch.elevators.state import decode_state
from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from tests.support.mqtt import Collector, publish
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).parent / "scenarios"
BASE = {
    "service_mode": "normal",
    "direction": "none",
    "floor": 4,
    "door_state": "closed",
    "has_person": True,
    "load_pct": 10,
    "power_source": "mains",
    "safety_circuit": "closed",
    "alarm_button": False,
}


def rebased(trace: Trace, end_ms: int) -> Trace:
    """The same trace with its last message stamped `end_ms` (time comes from ts)."""
    shift = end_ms - round(trace.end * 1000) - trace.t0
    messages = []
    for m in trace.messages:
        if isinstance(m.payload, dict):
            payload = {**m.payload, "ts": m.payload["ts"] + shift}
            messages.append(type(m)(m.t, m.channel, payload))
        else:
            messages.append(m)
    return Trace(**{**trace.__dict__, "t0": trace.t0 + shift, "messages": messages})


def alert_messages(collector: Collector, root: str) -> list[dict]:
    return [json.loads(m.payload) for m in collector.on(f"{root}/alerts/elevator/")]


@pytest.mark.skipif(
    shutil.which("mosquitto_pub") is None, reason="needs mosquitto_pub (mosquitto-clients)"
)
def test_trapped_scenario_published_with_mosquitto_pub(
    settings: Settings, broker: EmbeddedBroker
) -> None:
    root = settings.topic_root
    runtime = build_runtime(settings)
    components = ComponentSet(runtime, ["elevators", "alerts"])
    components.start()
    try:
        wait_until(
            lambda: "mqtt-rules" in runtime.health and runtime.health["mqtt-rules"](),
            20,
            what="rules subscribed",
        )
        trace = rebased(
            load(SCENARIOS / "hw_trapped_timer_fires_between_samples.jsonl"),
            round(time.time() * 1000),
        )
        with Collector(broker.port, [f"{root}/alerts/elevator/#"]) as col:
            for m in trace.messages:
                if m.channel == "tick":
                    continue
                topic = f"{root}/elevators/{trace.elevator}/{m.channel}"
                subprocess.run(
                    [
                        "mosquitto_pub",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(broker.port),
                        "-q",
                        "1",
                        "-t",
                        topic,
                        "-m",
                        m.body().decode(),
                    ],
                    check=True,
                    timeout=10,
                )
            wait_until(
                lambda: any(
                    a["alert"]["code"] == "TRAPPED_OUT_ZONE" and a["type"] == "resolved"
                    for a in alert_messages(col, root)
                ),
                30,
                what="the trapped alert and its clearing",
            )
            msgs = [
                a for a in alert_messages(col, root) if a["alert"]["code"] == "TRAPPED_OUT_ZONE"
            ]
        assert [a["type"] for a in msgs] == ["new", "resolved"]
        new = msgs[0]["alert"]
        assert new["severity"] == "P1" and new["device_id"] == trace.elevator and new["count"] == 1
        stall_ms = trace.t0 + 10_000
        assert datetime.fromisoformat(new["started_at"]) == datetime.fromtimestamp(
            stall_ms / 1000, UTC
        )
        assert new["summary"].startswith("TRAPPED_OUT_ZONE 非平层困人")  # BW_LOCALE: zh-CN
        # and in every language, for readers of the other one (the message's extension)
        assert new["summaries"]["zh-CN"] == new["summary"]
        assert new["summaries"]["en"].startswith("TRAPPED_OUT_ZONE Passenger trapped between")
    finally:
        components.shutdown()


def _serve(
    settings: Settings, broker: EmbeddedBroker, instance: str, log_file: Path
) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BW_")},
        "BW_DATABASE_URL": settings.database_url.get_secret_value(),
        "BW_MQTT_URL": broker.url,
        "BW_MQTT_PROTOCOL": broker.protocol,
        "BW_TOPIC_ROOT": settings.topic_root,
        "BW_UNKNOWN_DEVICES": "accept",
        "BW_INSTANCE": instance,  # the same MQTT session after the restart
        "BW_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "brightwatch", "serve", "--components", "elevators,alerts"],
        cwd=REPO,
        env=env,
        stdout=log_file.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _status(root: str, eid: str, seq: int, ts_ms: int, **fields: object) -> tuple[str, bytes]:
    body = {"ts": ts_ms, "seq": seq, **BASE, **fields}
    return f"{root}/elevators/{eid}/status", json.dumps(body).encode()


def _state_seq(db_url: str, eid: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT state FROM elevator_rule_state WHERE elevator_id = %s", (eid,)
        ).fetchone()
    return -1 if row is None else decode_state(bytes(row[0])).max_seq


def test_worker_killed_during_trapped_timer_fires_once_on_time(
    settings: Settings, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    root, db_url = settings.topic_root, settings.database_url.get_secret_value()
    instance = f"restart-{uuid.uuid4().hex[:6]}"
    eid = "31010900000000000077"
    log_file = tmp_path / "serve.log"
    proc = _serve(settings, broker, instance, log_file)
    try:
        with Collector(broker.port, [f"{root}/alerts/elevator/#"]) as col:
            # the worker is up when it has taken in a first sample (sent again until then:
            # a session that does not exist yet gets nothing; the repeats are duplicates)
            first = _status(
                root,
                eid,
                0,
                round(time.time() * 1000),
                run_state="running",
                speed=1.6,
                door_zone=False,
            )

            def started() -> bool:
                if _state_seq(db_url, eid) == 0:
                    return True
                publish(broker.port, [first])
                time.sleep(0.5)
                return False

            wait_until(started, 60, what="the rules worker to start")
            stall = round(time.time() * 1000)
            publish(
                broker.port,
                [_status(root, eid, 1, stall, run_state="stopped", speed=0.0, door_zone=False)],
            )
            wait_until(lambda: _state_seq(db_url, eid) == 1, 10, what="the stop to be committed")
            time.sleep(max(0.0, stall / 1000 + 10 - time.time()))
            proc.send_signal(signal.SIGKILL)  # 10 s into the 30 s timer
            proc.wait(10)
            assert alert_messages(col, root) == []
            proc = _serve(settings, broker, instance, log_file)
            wait_until(lambda: alert_messages(col, root), 40, what="the TRAPPED_OUT_ZONE alert")
            arrived = time.time()
            time.sleep(5)  # a second one would come now if the timer fired twice
            msgs = alert_messages(col, root)
        assert len(msgs) == 1, msgs
        alert = msgs[0]
        assert (alert["type"], alert["alert"]["code"], alert["alert"]["count"]) == (
            "new",
            "TRAPPED_OUT_ZONE",
            1,
        )
        assert datetime.fromisoformat(alert["alert"]["started_at"]) == datetime.fromtimestamp(
            stall / 1000, UTC
        )
        # at the right time: not before the 30 s, and not late (the restart took a few s)
        assert arrived >= stall / 1000 + 30
        assert arrived <= stall / 1000 + 30 + 5, arrived - stall / 1000
        with psycopg.connect(db_url) as conn:
            assert conn.execute(
                "SELECT count(*) FROM alert WHERE code = 'TRAPPED_OUT_ZONE'"
            ).fetchone() == (1,)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_trapped_alert_opens_a_rescue_ticket(settings: Settings, broker: EmbeddedBroker) -> None:
    runtime = build_runtime(settings)
    root = settings.topic_root
    eid = "31010900000000000078"
    with psycopg.connect(settings.database_url.get_secret_value()) as conn:
        conn.execute("INSERT INTO firm (firm_id, name) VALUES ('F1', 'Lift Co')")
        conn.execute("INSERT INTO site (site_id, kind) VALUES ('S1', 'building')")
        conn.execute(
            "INSERT INTO elevator (elevator_id, firm_id, site_id) VALUES (%s, 'F1', 'S1')", (eid,)
        )
    components = ComponentSet(runtime, ["elevators", "alerts"])
    components.start()
    try:
        wait_until(
            lambda: runtime.health.get("mqtt-rules", lambda: False)(), 20, what="rules subscribed"
        )
        with Collector(broker.port, [f"{root}/tickets/#", f"{root}/alerts/#"]) as col:
            now = round(time.time() * 1000)
            publish(
                broker.port,
                [
                    _status(
                        root, eid, 0, now - 40_000, run_state="stopped", speed=0.0, door_zone=False
                    ),
                    _status(root, eid, 1, now, run_state="stopped", speed=0.0, door_zone=False),
                ],
            )
            wait_until(lambda: col.on(f"{root}/tickets/F1/"), 30, what="the rescue ticket message")
    finally:
        components.shutdown()
