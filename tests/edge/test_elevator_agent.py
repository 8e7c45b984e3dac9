"""Simulated terminals on a real mosquitto: what they publish, and the spool at work.

The outage test cuts the agent off from the broker for 10 simulated minutes (the broker
is stopped; the agent runs 60x real time) and checks that the spool replays everything,
in order, once the broker is back: every (elevator, seq) exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from brightwatch.edge.elevator_sim.agent import AgentConfig, ElevatorAgent
from brightwatch.embedded import EmbeddedBroker
from brightwatch.mqttlink.client import BrokerAddress
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


class Subscriber:
    """A subscriber with a persistent session: the broker keeps its messages while it is
    away (including across a broker restart, persistence on)."""

    def __init__(self, port: int, topic: str) -> None:
        self.port = port
        self.topic = topic
        self.messages: list[tuple[str, bytes, bool]] = []
        self.redelivered: list[tuple[str, bytes]] = []  # the broker's own re-sends (DUP)
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"sub-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.reconnect_delay_set(0.2, 1)
        self.client.on_connect = lambda c, u, f, rc, p=None: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rcs, p=None: self.subscribed.set()
        self.client.on_message = self._on_message

    def _on_message(self, client: mqtt.Client, userdata: object, m: mqtt.MQTTMessage) -> None:
        if m.dup:
            self.redelivered.append((m.topic, m.payload))
        self.messages.append((m.topic, m.payload, m.retain))

    def __enter__(self) -> Subscriber:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", self.port, clean_start=False, properties=props)
        self.client.loop_start()
        assert self.subscribed.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def by_elevator(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = defaultdict(list)
        for topic, payload, _ in self.messages:
            parts = topic.split("/")
            if parts[-1] in ("status", "event", "stats"):
                out[parts[-2]].append(json.loads(payload))
        return out


def check_complete_in_order(sub: Subscriber, count: int, allowed_doubles: int = 0) -> int:
    """Every (elevator, seq) arrived, first arrivals in order; returns how many.

    Doubles are only allowed where MQTT QoS 1 allows them: the broker re-sending what it
    had not seen acknowledged (flagged DUP), and the agent's messages that were in flight
    when its connection was cut (`allowed_doubles`)."""
    seen = sub.by_elevator()
    assert len(seen) == count
    total = doubles = 0
    for eid, msgs in seen.items():
        first: dict[int, dict] = {}
        for m in msgs:
            if m["seq"] in first:
                assert first[m["seq"]] == m, f"{eid}: seq {m['seq']} with two payloads"
                doubles += 1
            else:
                first[m["seq"]] = m
        seqs = list(first)
        assert seqs == list(range(len(seqs))), f"{eid}: missing or out of order: {seqs[:30]}"
        ts = [m["ts"] for m in first.values()]
        assert ts == sorted(ts), f"{eid}: out of order"
        total += len(seqs)
    broker_resends = sum(1 for t, _ in sub.redelivered if not t.endswith("/availability"))
    assert doubles <= broker_resends + allowed_doubles, (doubles, broker_resends, allowed_doubles)
    return total


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_outage_of_ten_minutes_replays_in_order(tmp_path: Path, protocol: str) -> None:
    broker = EmbeddedBroker(tmp_path / "mqtt")
    broker.start()
    root = f"t{uuid.uuid4().hex[:8]}"
    try:
        with Subscriber(broker.port, f"{root}/#") as sub:
            agent = ElevatorAgent(
                AgentConfig(
                    count=3, topic_root=root, data_dir=tmp_path, speed=60, seed=3, duration_s=1500
                ),
                BrokerAddress("127.0.0.1", broker.port, protocol=protocol),
            )
            stop = threading.Event()
            runner = threading.Thread(target=agent.run, args=(stop,))
            runner.start()
            wait_until(lambda: len(sub.messages) > 20, 20, what="first messages")
            broker.stop()
            cut_at = agent.messages
            time.sleep(10)  # 10 simulated minutes
            backlog = len(agent.spool)
            assert agent.messages > cut_at + 20, "the cars kept talking during the outage"
            assert backlog >= agent.messages - cut_at - 200  # waiting in the spool
            broker.start()
            runner.join(60)
            assert not runner.is_alive()
            wait_until(
                lambda: (
                    len({(e, m["seq"]) for e, v in sub.by_elevator().items() for m in v})
                    >= agent.messages - 3
                ),
                30,
                what="the spool to replay",
            )
            time.sleep(0.5)
            cut = sum(link.in_flight_at_cuts for link in agent.links)
            total = check_complete_in_order(sub, 3, allowed_doubles=cut)
            assert total == agent.messages - 3  # all but the 'online' of each
            # each terminal said online first and offline on its clean stop, retained
            avail = {(t, p) for t, p, _ in sub.messages if t.endswith("/availability")}
            assert sorted(p for _, p in avail) == [b"offline"] * 3 + [b"online"] * 3
    finally:
        broker.stop()


def test_pooled_connections_keep_each_terminals_order(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    root = f"t{uuid.uuid4().hex[:8]}"
    with Subscriber(broker.port, f"{root}/#") as sub:
        agent = ElevatorAgent(
            AgentConfig(
                count=12,
                topic_root=root,
                data_dir=tmp_path,
                speed=200,
                duration_s=1800,
                connections=3,
            ),
            BrokerAddress("127.0.0.1", broker.port, protocol=broker.protocol),
        )
        assert agent.pooled
        agent.run(threading.Event())
        wait_until(
            lambda: sum(len(v) for v in sub.by_elevator().values()) >= agent.messages - 12,
            20,
            what="all messages",
        )
        assert check_complete_in_order(sub, 12) == agent.messages - 12


def test_killed_terminal_leaves_its_will(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """One connection per terminal: killing the agent makes the broker publish `offline`."""
    root = f"t{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BW_")},
        "BW_MQTT_URL": broker.url,
        "BW_MQTT_PROTOCOL": broker.protocol,
        "BW_TOPIC_ROOT": root,
        "BW_DATA_DIR": str(tmp_path),
    }
    with Subscriber(broker.port, f"{root}/+/+/availability") as sub:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "brightwatch",
                "edge",
                "elevator-sim",
                "--count",
                "2",
                "--speed",
                "10",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: len(sub.messages) >= 2, 30, what="online")
            assert {p for _, p, _ in sub.messages} == {b"online"}
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            wait_until(lambda: len(sub.messages) >= 4, 15, what="the wills")
            assert sorted(p for _, p, _ in sub.messages) == [b"offline"] * 2 + [b"online"] * 2
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # and the retained value a newcomer sees is offline
    with Subscriber(broker.port, f"{root}/+/+/availability") as late:
        wait_until(lambda: len(late.messages) >= 2, 10, what="retained availability")
        assert {(p, r) for _, p, r in late.messages} == {(b"offline", True)}


def test_cli_rejects_unknown_scenario(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "brightwatch", "edge", "elevator-sim", "--scenario", "nope"],
        cwd=REPO,
        env={**os.environ, "BW_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "no scenario 'nope'" in out.stderr and "trapped_out_zone" in out.stderr
