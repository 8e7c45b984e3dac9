"""Alert latency: from a fault's publication to the alert message, under background load.

    python -m bench.alert_latency [--rate 10000] [--load-s 60] [--probes 40]
                                  [--components ingest/elevators,alerts]

What runs: a private PostgreSQL and mosquitto (or BW_DATABASE_URL / BW_MQTT_URL), the
service as production runs it (`brightwatch serve --components ...`, one process per
'/'-separated group),
a background load of elevator status traffic at `--rate` messages per second for
`--load-s` seconds (5,000 elevators going through door cycles and short trips, QoS 1,
pre-formatted packets written straight to a socket so the generator costs little CPU),
and probe elevators that become trapped while the load runs:

- `timer`: a car stops between floors with a person inside; TRAPPED_OUT_ZONE is due 30 s
  later, fired by the rules worker's clock. Latency = alert message arrival - (stop + 30 s).
- `immediate`: the same with the alarm button pressed: TRAPPED_OUT_ZONE at once.
  Latency = alert message arrival - publication.

Arrival is taken when the bench's own MQTT subscriber receives `bw/alerts/elevator/{id}`,
publication just before the probe's PUBLISH leaves, both on this host's clock. The bar
(quality.md): p99 < 500 ms beyond the rule's own confirmation window under 10,000 msg/s.
One summary line on stdout; figures in bench/out/alert_latency.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psutil
import psycopg

from bench.mqttload import connect_packet, publish_packet
from brightwatch.embedded import EmbeddedBroker, EmbeddedPostgres

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
WINDOW_S = 30.0  # TRAPPED_OUT_ZONE's confirmation window (the fleet default)


# ---------------------------------------------------------------- background load


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(connect_packet(f"bench-bg-{uuid.uuid4().hex[:8]}"))
    reply = sock.recv(64)
    if len(reply) < 4 or reply[0] != 0x20 or reply[3] != 0:
        raise ConnectionError(f"broker refused the load generator: {reply!r}")
    return sock


# one car's loop of samples (door cycle, a short trip, idle): nothing a rule would raise
PHASES: list[dict[str, Any]] = [
    {
        "run_state": "stopped",
        "door_zone": True,
        "door_state": "closed",
        "has_person": False,
        "speed": 0.0,
        "d": 0,
    },
    {
        "run_state": "stopped",
        "door_zone": True,
        "door_state": "opening",
        "has_person": False,
        "speed": 0.0,
        "d": 0,
    },
    {
        "run_state": "stopped",
        "door_zone": True,
        "door_state": "open",
        "has_person": True,
        "speed": 0.0,
        "d": 0,
    },
    {
        "run_state": "stopped",
        "door_zone": True,
        "door_state": "closing",
        "has_person": True,
        "speed": 0.0,
        "d": 0,
    },
    {
        "run_state": "stopped",
        "door_zone": True,
        "door_state": "closed",
        "has_person": True,
        "speed": 0.0,
        "d": 0,
    },
    {
        "run_state": "running",
        "door_zone": False,
        "door_state": "closed",
        "has_person": True,
        "speed": 1.2,
        "d": 0,
    },
    {
        "run_state": "running",
        "door_zone": False,
        "door_state": "closed",
        "has_person": True,
        "speed": 1.75,
        "d": 1,
    },
    {
        "run_state": "stopped",
        "door_zone": True,
        "door_state": "closed",
        "has_person": True,
        "speed": 0.0,
        "d": 1,
    },
    {
        "run_state": "stopped",
        "door_zone": True,
        "door_state": "opening",
        "has_person": True,
        "speed": 0.0,
        "d": 1,
    },
    {
        "run_state": "stopped",
        "door_zone": True,
        "door_state": "open",
        "has_person": False,
        "speed": 0.0,
        "d": 1,
    },
    {
        "run_state": "stopped",
        "door_zone": True,
        "door_state": "closing",
        "has_person": False,
        "speed": 0.0,
        "d": 1,
    },
    {
        "run_state": "stopped",
        "door_zone": True,
        "door_state": "closed",
        "has_person": False,
        "speed": 0.0,
        "d": 1,
    },
    {
        "run_state": "running",
        "door_zone": False,
        "door_state": "closed",
        "has_person": False,
        "speed": 1.2,
        "d": 1,
    },
    {
        "run_state": "stopped",
        "door_zone": True,
        "door_state": "closed",
        "has_person": False,
        "speed": 0.0,
        "d": 0,
    },
] + [
    {
        "run_state": "stopped",
        "door_zone": True,
        "door_state": "closed",
        "has_person": False,
        "speed": 0.0,
        "d": 0,
    }
] * 6


def _templates() -> list[str]:
    out = []
    for p in PHASES:
        body = {
            "ts": 0,
            "seq": 0,
            "service_mode": "normal",
            "run_state": p["run_state"],
            "direction": "up" if p["run_state"] == "running" else "none",
            "floor": 0,
            "door_zone": p["door_zone"],
            "door_state": p["door_state"],
            "has_person": p["has_person"],
            "speed": p["speed"],
            "power_source": "mains",
            "safety_circuit": "closed",
            "alarm_button": False,
        }
        text = json.dumps(body, separators=(",", ":"))
        # %-placeholders in field order: ts, seq, floor
        text = text.replace('"ts":0', '"ts":%d').replace('"seq":0', '"seq":%d')
        out.append(text.replace('"floor":0', '"floor":%d'))
    return out


def background_load(
    port: int,
    root: str,
    elevators: int,
    rate: float,
    seconds: float,
    start_at: float,
    result: Any,
    idle_only: bool = False,
) -> None:
    """Publish `rate` status messages per second for `seconds`, round-robin over the
    elevators, each elevator walking through PHASES (or, `idle_only`, standing closed at
    its floor: a fleet whose samples are tens of seconds apart would otherwise hold a door
    'opening' for that long); runs in its own process."""
    sock = _connect(port)
    acked = [0]

    def drain() -> None:
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            acked[0] += data.count(b"\x40\x02")  # PUBACK (3.1.1 form) ...
            acked[0] += data.count(b"\x40\x03")  # ... or with a reason code (MQTT 5)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    templates = _templates()[-1:] if idle_only else _templates()
    topics = [f"{root}/elevators/BG{i:06d}/status".encode() for i in range(elevators)]
    seqs = [0] * elevators
    floors = [1 + i % 10 for i in range(elevators)]
    while time.time() < start_at:
        time.sleep(0.005)
    sent = 0
    packet_id = 0
    chunk_s = 0.01
    t0 = time.time()
    while True:
        now = time.time()
        if now - t0 >= seconds:
            break
        target = int((now - t0 + chunk_s) * rate)
        if sent >= target:
            time.sleep(chunk_s / 2)
            continue
        ts = int(now * 1000)
        packets = []
        for _ in range(target - sent):
            e = sent % elevators
            phase = seqs[e] % len(templates)
            if phase == 7 and not idle_only:  # a trip of one floor, up to 10 and back down to 1
                floors[e] = (
                    floors[e] + 1
                    if (floors[e] + seqs[e] // 20) % 20 < 10
                    else max(1, floors[e] - 1)
                )
                floors[e] = min(floors[e], 10)
            payload = (templates[phase] % (ts, seqs[e], floors[e])).encode()
            seqs[e] += 1
            packet_id = packet_id % 65535 + 1
            packets.append(publish_packet(topics[e], payload, packet_id))
            sent += 1
        sock.sendall(b"".join(packets))
    elapsed = time.time() - t0
    deadline = time.time() + 20
    while acked[0] < sent and time.time() < deadline:
        time.sleep(0.05)
    result["sent"] = sent
    result["acked"] = acked[0]
    result["seconds"] = elapsed
    sock.close()


# ---------------------------------------------------------------- probes


class AlertListener:
    def __init__(self, port: int, root: str) -> None:
        self.arrivals: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        self.ready = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"bench-alerts-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_connect = lambda c, u, f, rc, p=None: c.subscribe(
            f"{root}/alerts/elevator/#", qos=1
        )
        self.client.on_subscribe = lambda c, u, mid, rcs, p=None: self.ready.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        now = time.time()
        body = json.loads(msg.payload)
        self.arrivals.setdefault(body["alert"]["device_id"], []).append((now, body))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def probe_status(eid: str, seq: int, ts_ms: int, **fields: Any) -> bytes:
    body = {
        "ts": ts_ms,
        "seq": seq,
        "service_mode": "normal",
        "run_state": "running",
        "direction": "up",
        "floor": 5,
        "door_zone": False,
        "door_state": "closed",
        "has_person": True,
        "speed": 1.5,
        "alarm_button": False,
        **fields,
    }
    return json.dumps(body).encode()


def run_probes(
    client: mqtt.Client, root: str, count: int, spread_s: float, start_at: float
) -> list[dict[str, Any]]:
    """Start `count` probes spread over `spread_s` seconds, alternating timer/immediate."""
    probes = []
    for i in range(count):
        kind = "timer" if i % 2 == 0 else "immediate"
        eid = f"PROBE{uuid.uuid4().hex[:10]}"
        due = start_at + spread_s * i / max(1, count - 1)
        while time.time() < due:
            time.sleep(0.005)
        topic = f"{root}/elevators/{eid}/status"
        now_ms = int(time.time() * 1000)
        client.publish(topic, probe_status(eid, 0, now_ms - 1500), qos=1).wait_for_publish(10)
        stop = {"run_state": "stopped", "speed": 0.0, "direction": "none"}
        if kind == "immediate":
            stop["alarm_button"] = True
        sent = time.time()
        info = client.publish(topic, probe_status(eid, 1, int(sent * 1000), **stop), qos=1)
        info.wait_for_publish(10)
        probes.append({"elevator": eid, "kind": kind, "published": sent})
    return probes


# ---------------------------------------------------------------- orchestration


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarize(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1) if values else float("nan"),
        "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    work = Path(tempfile.mkdtemp(prefix="bw-bench-latency-"))
    pg, broker, db_url, mqtt_url = _start_servers(work)
    port = int(mqtt_url.rsplit(":", 1)[1].strip("/"))
    root = f"bench{uuid.uuid4().hex[:6]}"
    serves = _start_service(args.components, work, db_url, mqtt_url, root)
    listener = AlertListener(port, root)
    publisher = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"bench-probe-{uuid.uuid4().hex[:6]}",
        protocol=mqtt.MQTTv5,
    )
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    result: dict[str, Any] = {}
    try:
        listener.ready.wait(10)
        _wait_ready(publisher, root, db_url)
        measured = _measure(args, port, root, serves, listener, publisher)
        result = _figures(args, argv, measured)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        listener.close()
        _stop_service(serves)
        if broker:
            broker.stop()
        if pg:
            pg.stop("immediate")
    if not result:
        print(f"alert_latency: failed; see the serve-*.log files in {work}", file=sys.stderr)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    t, i = result["timer"], result["immediate"]
    print(
        f"alert_latency: {result['background']['achieved_msg_s']:.0f} msg/s background "
        f"({args.components}); beyond the window: timer p50 {t['p50_ms']} ms p99 {t['p99_ms']} ms, "
        f"immediate p50 {i['p50_ms']} ms p99 {i['p99_ms']} ms; "
        f"missing {len(measured.missing)}/{len(measured.probes)}; "
        f"service {result['service_cpu_us_per_msg']} µs CPU/msg"
    )
    if measured.sent < 0.9 * args.rate * args.load_s:
        print(
            f"alert_latency: the load generator fell short ({measured.sent} sent)", file=sys.stderr
        )
        return 1
    return 0 if not measured.missing else 1


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--rate", type=float, default=10_000, help="background status messages per second"
    )
    ap.add_argument("--load-s", type=float, default=60, help="seconds of background load")
    ap.add_argument("--elevators", type=int, default=5_000, help="background elevators")
    ap.add_argument(
        "--probes", type=int, default=40, help="trapped probes (half timer, half immediate)"
    )
    ap.add_argument(
        "--components",
        default="ingest/elevators,alerts",
        help="what `serve` runs; '/' separates processes, as a deployment runs them "
        "(the default: ingest in one process, rules and alerts in another)",
    )
    ap.add_argument("--out", type=Path, default=OUT / "alert_latency.json")
    args = ap.parse_args(argv)
    if args.load_s < WINDOW_S + 15:
        ap.error(
            f"--load-s must leave room for the {WINDOW_S:.0f} s window (at least {WINDOW_S + 15:.0f})"
        )
    return args


def _start_servers(
    work: Path,
) -> tuple[EmbeddedPostgres | None, EmbeddedBroker | None, str, str]:
    """A private PostgreSQL and broker under `work`, unless BW_DATABASE_URL / BW_MQTT_URL
    name servers to use. Returns the private ones (to stop) and both URLs."""
    pg = broker = None
    db_url = os.environ.get("BW_DATABASE_URL")
    mqtt_url = os.environ.get("BW_MQTT_URL")
    if not db_url:
        pg = EmbeddedPostgres(work / "pg")
        pg.start()
        db_url = pg.create_database("bench")
    if not mqtt_url:
        broker = EmbeddedBroker(work / "mqtt", persistence=False)
        broker.start()
        mqtt_url = broker.url
    return pg, broker, db_url, mqtt_url


def service_env(work: Path, db_url: str, mqtt_url: str, root: str) -> dict[str, str]:
    """The database migrated, and the environment of the benchmarks' `serve` processes."""
    subprocess.run(
        [sys.executable, "-m", "brightwatch", "migrate"],
        cwd=REPO,
        check=True,
        env={**os.environ, "BW_DATABASE_URL": db_url},
        capture_output=True,
    )
    return {
        **os.environ,
        "BW_DATABASE_URL": db_url,
        "BW_MQTT_URL": mqtt_url,
        "BW_TOPIC_ROOT": root,
        "BW_UNKNOWN_DEVICES": "accept",
        "BW_DATA_DIR": str(work / "data"),
        "BW_LOG_LEVEL": "WARNING",
    }


def _start_service(
    components: str, work: Path, db_url: str, mqtt_url: str, root: str
) -> list[subprocess.Popen[bytes]]:
    """The service as production runs it: migrated, then one `serve` process per
    '/'-separated group of components, each with its own client ids and log file."""
    env = service_env(work, db_url, mqtt_url, root)
    env["BW_INSTANCE"] = f"bench-{uuid.uuid4().hex[:6]}"
    return [
        subprocess.Popen(
            [sys.executable, "-m", "brightwatch", "serve", "--components", group],
            cwd=REPO,
            env={**env, "BW_INSTANCE": f"{env['BW_INSTANCE']}-{n}"},
            stdout=(work / f"serve-{n}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for n, group in enumerate(components.split("/"))
    ]


def _stop_service(serves: list[subprocess.Popen[bytes]]) -> None:
    for serve in serves:
        serve.terminate()
    for serve in serves:
        try:
            serve.wait(20)
        except subprocess.TimeoutExpired:
            serve.kill()


@dataclass(frozen=True)
class Measurement:
    probes: list[dict[str, Any]]
    latencies: dict[str, list[float]]  # seconds beyond what each probe kind is due, by kind
    missing: list[str]  # probe elevators whose alert never arrived
    sent: int  # background messages
    acked: int
    seconds: float  # the background load's duration
    service_cpu_s: float  # user + system CPU of the serve processes while the load ran


def _measure(
    args: argparse.Namespace,
    port: int,
    root: str,
    serves: list[subprocess.Popen[bytes]],
    listener: AlertListener,
    publisher: mqtt.Client,
) -> Measurement:
    """The background load in its own process, the probes from this one while it runs;
    then the alerts the listener received, matched to the probes."""
    services = [psutil.Process(p.pid) for p in serves]

    def service_cpu() -> float:
        return sum(sum(p.cpu_times()[:2]) for p in services)

    cpu_before = service_cpu()
    manager = mp.Manager()
    load_result = manager.dict()
    start_at = time.time() + 1.0
    load = mp.Process(
        target=background_load,
        args=(port, root, args.elevators, args.rate, args.load_s, start_at, load_result),
    )
    load.start()
    # probes while the load runs; the last timer fires before the load ends
    spread = max(1.0, args.load_s - WINDOW_S - 10)
    probes = run_probes(publisher, root, args.probes, spread, start_at + 5)
    load.join()
    cpu_used = service_cpu() - cpu_before
    deadline = time.time() + WINDOW_S + 15
    while time.time() < deadline and any(p["elevator"] not in listener.arrivals for p in probes):
        time.sleep(0.2)
    latencies, missing = _latencies(probes, listener.arrivals)
    sent = load_result.get("sent", 0)
    if not sent:
        raise RuntimeError("the background load generator failed (see above)")
    return Measurement(
        probes=probes,
        latencies=latencies,
        missing=missing,
        sent=sent,
        acked=load_result.get("acked", 0),
        seconds=load_result.get("seconds", 1),
        service_cpu_s=cpu_used,
    )


def _latencies(
    probes: list[dict[str, Any]], arrivals: dict[str, list[tuple[float, dict[str, Any]]]]
) -> tuple[dict[str, list[float]], list[str]]:
    """Seconds from when each probe's TRAPPED_OUT_ZONE was due (publication, plus the
    confirmation window for a timer probe) to its first arrival; probes without one
    are missing."""
    lat: dict[str, list[float]] = {"timer": [], "immediate": []}
    missing = []
    for p in probes:
        got = [
            a
            for a in arrivals.get(p["elevator"], [])
            if a[1]["alert"]["code"] == "TRAPPED_OUT_ZONE"
        ]
        if not got:
            missing.append(p["elevator"])
            continue
        expected = p["published"] + (WINDOW_S if p["kind"] == "timer" else 0)
        lat[p["kind"]].append(got[0][0] - expected)
    return lat, missing


def _figures(
    args: argparse.Namespace, argv: list[str] | None, measured: Measurement
) -> dict[str, Any]:
    """What bench/out/alert_latency.json records."""
    sent, secs, cpu_used = measured.sent, measured.seconds, measured.service_cpu_s
    return {
        "bench": "alert_latency",
        "command": "python -m bench.alert_latency "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "components": args.components,
        "background": {
            "target_msg_s": args.rate,
            "achieved_msg_s": round(sent / secs, 1),
            "sent": sent,
            "acked": measured.acked,
            "elevators": args.elevators,
            "seconds": round(secs, 1),
        },
        # CPU of the service processes per background message: less machine-bound
        # than the latency on a shared box
        "service_cpu_us_per_msg": round(cpu_used / max(sent, 1) * 1e6, 1),
        "service_cpu_share": round(cpu_used / secs, 2),
        "timer": summarize(measured.latencies["timer"]),
        "immediate": summarize(measured.latencies["immediate"]),
        "missing": measured.missing,
        "bar": "p99 < 500 ms beyond the confirmation window",
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg": os.getloadavg(),
            "python": platform.python_version(),
        },
    }


def _wait_ready(client: mqtt.Client, root: str, db_url: str, timeout: float = 60) -> None:
    """The rules worker is up once it has saved the state of a first probe sample."""
    eid = f"READY{uuid.uuid4().hex[:8]}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        client.publish(
            f"{root}/elevators/{eid}/status", probe_status(eid, 0, int(time.time() * 1000)), qos=1
        )
        time.sleep(0.5)
        with psycopg.connect(db_url) as conn:
            if conn.execute(
                "SELECT 1 FROM elevator_rule_state WHERE elevator_id = %s", (eid,)
            ).fetchone():
                return
    raise TimeoutError("the rules worker did not start")


if __name__ == "__main__":
    raise SystemExit(main())
