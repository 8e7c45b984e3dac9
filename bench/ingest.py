"""Ingest throughput against the broker's own pass-through, measured in the same run.

    python -m bench.ingest [--messages 300000] [--elevators 20000] [--workers 1]

A private PostgreSQL and a private mosquitto (brightwatch.embedded) are started;
`--elevators` elevators are registered; `--messages` status samples (each elevator's
seq 0, 1, 2, ...) are encoded before any clock starts. Then, on the same broker:

1. baseline: `mosquitto_pub -l -q 1` into `mosquitto_sub -q 1` (both C), the rate at
   which mosquitto_sub receives `--messages` messages;
2. ingest: `brightwatch serve --components ingest` as its own process, the messages
   published by a pre-encoded load generator (bench/mqttload.py) to one topic per
   elevator; the rate is rows committed per second, publish start to last commit;
3. the baseline again (the machine is shared and noisy: the mean of both is used).

Then every message is checked to be stored exactly once. Printed: one summary line;
written: bench/out/ingest.json and the ingest section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import psutil
import psycopg
from tqdm import tqdm

from bench.mqttload import encode_publishes, publish_packets
from bench.results import write_section
from brightwatch.db.migrate import migrate
from brightwatch.embedded import EmbeddedBroker, EmbeddedPostgres

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
TARGET_RATIO = 0.7


def status_payloads(messages: int, elevators: int, seed: int = 7) -> list[tuple[str, bytes]]:
    """Realistic status samples: elevator i sends seq 0, 1, 2 ... 5 s apart, interleaved
    across the fleet as live traffic is; capture times end a little before now."""
    rng = random.Random(seed)
    rounds = -(-messages // elevators)
    start_ms = int(time.time() * 1000) - rounds * 5000 - 60_000
    out = []
    for i in range(messages):
        e, seq = i % elevators, i // elevators
        running = rng.random() < 0.3
        doc = {
            "ts": start_ms + seq * 5000 + e % 5000,
            "seq": seq,
            "service_mode": "normal",
            "run_state": "running" if running else "stopped",
            "direction": rng.choice(("up", "down")) if running else "none",
            "floor": rng.randint(-2, 30),
            "door_zone": not running,
            "door_state": "closed" if running else rng.choice(("closed", "open")),
            "has_person": rng.random() < 0.4,
            "speed": round(rng.uniform(0.5, 2.5), 2) if running else 0.0,
            "load_pct": rng.randint(0, 90),
            "power_source": "mains",
            "safety_circuit": "closed",
            "alarm_button": False,
        }
        out.append((f"bench/elevators/{elevator_id(e)}/status", msgspec.json.encode(doc)))
    return out


def elevator_id(e: int) -> str:
    return f"3101{e:016d}"  # 20 characters, like a registration code


class Sampler(threading.Thread):
    """Peak RSS and CPU seconds of a process tree (the ingest worker and its children)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_rss = 0  # all processes together
        self.peak_process_rss = 0  # the largest one
        self._stop_event = threading.Event()

    def procs(self) -> list[psutil.Process]:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu(self) -> float:
        total = 0.0
        for p in self.procs():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def run(self) -> None:
        while not self._stop_event.wait(0.1):
            rss = 0
            for p in self.procs():
                with contextlib.suppress(psutil.NoSuchProcess):
                    one = p.memory_info().rss
                    rss += one
                    self.peak_process_rss = max(self.peak_process_rss, one)
            self.peak_rss = max(self.peak_rss, rss)

    def stop(self) -> None:
        self._stop_event.set()


def cpu_of(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def postgres_cpu(pg: EmbeddedPostgres) -> float:
    pid = int((pg.pgdata / "postmaster.pid").read_text().split()[0])
    root = psutil.Process(pid)
    total = 0.0
    for p in [root, *root.children()]:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            pass
    return total


def baseline(broker: EmbeddedBroker, payloads: list[bytes], deadline: float) -> dict[str, Any]:
    """mosquitto_pub -l -q 1 -> broker -> mosquitto_sub -q 1, messages per second."""
    n = len(payloads)
    topic = f"bench/baseline/{time.time_ns()}"
    sub = subprocess.Popen(
        ["mosquitto_sub", "-p", str(broker.port), "-q", "1", "-V", "mqttv5", "-t", topic,
         "-C", str(n), "-i", f"bench-sub-{os.getpid()}"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(0.5)  # subscribed
    broker_pid = broker._proc.pid if broker._proc else None
    broker_cpu0 = cpu_of(broker_pid) if broker_pid else 0.0
    started = time.monotonic()
    pub = subprocess.Popen(
        ["mosquitto_pub", "-p", str(broker.port), "-q", "1", "-V", "mqttv5", "-t", topic, "-l"],
        stdin=subprocess.PIPE,
    )
    assert pub.stdin is not None
    # stdin stays open until the subscriber has everything: mosquitto_pub -l drops the
    # messages whose PUBACK it has not read when stdin reaches EOF
    pub.stdin.write(b"\n".join(payloads) + b"\n")
    pub.stdin.flush()
    pub_cpu, usage = 0.0, None
    try:
        while usage is None:
            pid, _, ru = os.wait4(sub.pid, os.WNOHANG)
            if pid:
                usage = ru
                break
            if time.monotonic() > deadline:
                sub.kill()
                raise TimeoutError("mosquitto_sub did not receive every message in time")
            with contextlib.suppress(psutil.NoSuchProcess):
                pub_cpu = cpu_of(pub.pid)  # its last reading before it is stopped
            time.sleep(0.02)
        elapsed = time.monotonic() - started
    finally:
        pub.stdin.close()
        pub.terminate()
        pub.wait(10)
    sub_cpu = usage.ru_utime + usage.ru_stime
    broker_cpu = (cpu_of(broker_pid) - broker_cpu0) if broker_pid else float("nan")
    return {
        "messages": n,
        "seconds": round(elapsed, 3),
        "rate": round(n / elapsed, 1),
        "cpu_us_per_msg": {
            "mosquitto_pub": round(pub_cpu / n * 1e6, 2),
            "mosquitto_sub": round(sub_cpu / n * 1e6, 2),
            "broker": round(broker_cpu / n * 1e6, 2),
        },
    }


def register_elevators(url: str, elevators: int) -> None:
    with (
        psycopg.connect(url) as conn,
        conn.cursor() as cur,
        cur.copy("COPY elevator (elevator_id, registered_by) FROM STDIN") as copy,
    ):
        for e in range(elevators):
            copy.write_row((elevator_id(e), "import"))


def warm_message(e: int, seq: int) -> tuple[str, bytes]:
    doc = {
        "ts": int(time.time() * 1000) - 120_000_000 + seq % 1000, "seq": seq,
        "service_mode": "normal", "run_state": "stopped", "floor": 0, "door_zone": True,
        "door_state": "closed", "has_person": False, "speed": 0.0,
    }  # fmt: skip
    return f"bench/elevators/{elevator_id(e)}/status", msgspec.json.encode(doc)


def workers_writing(url: str, instance: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT application_name) FROM pg_stat_activity"
            " WHERE application_name LIKE %s",
            (f"brightwatch-{instance}-ingest-%",),
        ).fetchone()
    return int(row[0]) if row else 0


def count_status(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM elevator_status").fetchone()
    return int(row[0]) if row else 0


def run_ingest(
    args: argparse.Namespace,
    pg: EmbeddedPostgres,
    broker: EmbeddedBroker,
    url: str,
    packets: list[bytes],
    deadline: float,
    workdir: Path,
) -> dict[str, Any]:
    n = len(packets)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    env.update(
        BW_DATABASE_URL=url,
        BW_MQTT_URL=broker.url,
        BW_TOPIC_ROOT="bench",
        BW_UNKNOWN_DEVICES="quarantine",
        BW_INSTANCE=f"bench{os.getpid()}",
        BW_DATA_DIR=str(workdir / "data"),
        BW_INGEST__WORKERS=str(args.workers),
        BW_INGEST__BATCH_SIZE=str(args.batch_size),
        BW_INGEST__MQTT_CLIENT=args.client,
        BW_LOG_LEVEL="WARNING",
    )
    if args.workers > 1:
        env["BW_SHARE_GROUP"] = "bench"
    cmd = [sys.executable, "-m", "brightwatch", "serve", "--components", "ingest"]
    log_file = open(workdir / "ingest.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        # warm-up: messages through the whole path until every worker process has
        # written (a worker opens its database connection at its first batch), which
        # proves each is subscribed; then the tables are emptied
        instance = env["BW_INSTANCE"]
        seq = 10**9
        while workers_writing(url, instance) < args.workers:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"ingest did not start; see {workdir / 'ingest.log'}")
            warm = [warm_message(e, seq) for e in range(20)]
            publish_packets(broker.port, encode_publishes(warm))
            seq += 1
            time.sleep(0.5)
        time.sleep(0.5)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("TRUNCATE elevator_status, device_presence, rollup_dirty")
        sampler = Sampler(proc.pid)
        sampler.start()
        cpu0, pg_cpu0 = sampler.cpu(), postgres_cpu(pg)
        broker_cpu0 = cpu_of(broker._proc.pid) if broker._proc else 0.0
        started = time.monotonic()
        loader = multiprocessing.get_context("fork").Process(
            target=publish_packets, args=(broker.port, packets), daemon=True
        )
        loader.start()
        stored = 0
        with (
            psycopg.connect(url, autocommit=True) as conn,
            tqdm(total=n, unit="msg", desc="ingest", leave=False) as bar,
        ):
            # count(*) costs a few ms of CPU taken from the test: once a second, then
            # every 0.1 s near the end (the statistics collector is too late for this)
            while stored < n:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"only {stored} of {n} stored before the deadline")
                if proc.poll() is not None:
                    raise RuntimeError(f"ingest exited; see {workdir / 'ingest.log'}")
                stored = count_status(url)
                bar.update(max(0, min(stored, n) - bar.n))
                time.sleep(0.1 if stored >= n * 0.9 else 1.0)
        elapsed = time.monotonic() - started
        cpu = sampler.cpu() - cpu0
        pg_cpu = postgres_cpu(pg) - pg_cpu0
        broker_cpu = (cpu_of(broker._proc.pid) if broker._proc else 0.0) - broker_cpu0
        loader_cpu = 0.0
        with contextlib.suppress(psutil.NoSuchProcess):
            loader_cpu = cpu_of(loader.pid or 0)
        loader.join(30)
        time.sleep(1.0)
        sampler.stop()
        return {
            "messages": n,
            "seconds": round(elapsed, 3),
            "rate": round(n / elapsed, 1),
            "cpu_seconds": round(cpu, 2),
            "cpu_us_per_msg": {
                "ingest": round(cpu / n * 1e6, 2),
                "postgres": round(pg_cpu / n * 1e6, 2),
                "broker": round(broker_cpu / n * 1e6, 2),
                "load_generator": round(loader_cpu / n * 1e6, 2),
            },
            "peak_rss_mb": round(sampler.peak_rss / 2**20, 1),
            "peak_rss_mb_per_process": round(sampler.peak_process_rss / 2**20, 1),
            "workers": args.workers,
            "client": args.client,
            "batch_size": args.batch_size,
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log_file.close()


def verify(url: str, n: int, elevators: int) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        rows, keys, devices = conn.execute(
            "SELECT count(*), count(DISTINCT (elevator_id, seq)), count(DISTINCT elevator_id)"
            " FROM elevator_status"
        ).fetchone() or (0, 0, 0)
        size = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(relid)), 0)::int8,"
            "       coalesce(sum(pg_relation_size(relid)), 0)::int8"
            " FROM pg_partition_tree('elevator_status') WHERE isleaf"
        ).fetchone() or (0, 0)
        dead = conn.execute("SELECT count(*) FROM dead_letter").fetchone()
    expected_devices = min(n, elevators)
    return {
        "rows": rows,
        "distinct_elevator_seq": keys,
        "elevators": devices,
        "dead_letters": dead[0] if dead else None,
        "exactly_once": rows == n and keys == n and devices == expected_devices,
        "bytes_per_sample": round(size[0] / rows, 1) if rows else None,
        "heap_bytes_per_sample": round(size[1] / rows, 1) if rows else None,
    }


def update_results(summary: str, figures: dict[str, Any], command: str) -> None:
    b1, b2 = figures["baseline_runs"]
    ing = figures["ingest"]
    block = f"""<!-- ingest:begin -->
## Ingest throughput (`bench/ingest.py`)

Command: `{command}`

Last run: {figures["when"]}, {figures["machine"]}.

| figure | value |
|---|---|
| ingest: status rows stored per second | {ing["rate"]:,.0f} |
| baseline: mosquitto_pub → mosquitto_sub (QoS 1), before / after | {b1["rate"]:,.0f} / {b2["rate"]:,.0f} msg/s |
| ratio ingest / mean baseline (target ≥ {TARGET_RATIO}) | **{figures["ratio"]:.2f}** |
| CPU per message, whole path: baseline / ingest (ratio) | {figures["cpu_per_msg_us"]["baseline"]} / {figures["cpu_per_msg_us"]["ingest"]} µs ({figures["cpu_ratio"]:.2f}) |
| messages, elevators | {ing["messages"]:,}, {figures["elevators"]:,} |
| every message stored exactly once | {figures["verify"]["exactly_once"]} |
| ingest worker CPU | {ing["cpu_seconds"]} s ({ing["cpu_us_per_msg"]["ingest"]} µs/msg) |
| PostgreSQL / broker / load generator CPU during ingest | {ing["cpu_us_per_msg"]["postgres"]} / {ing["cpu_us_per_msg"]["broker"]} / {ing["cpu_us_per_msg"]["load_generator"]} µs/msg |
| baseline CPU: mosquitto_pub / broker / mosquitto_sub | {b1["cpu_us_per_msg"]["mosquitto_pub"]} / {b1["cpu_us_per_msg"]["broker"]} / {b1["cpu_us_per_msg"]["mosquitto_sub"]} µs/msg |
| ingest peak RSS (bar < 250 MB): largest process / all together | {ing["peak_rss_mb_per_process"]} / {ing["peak_rss_mb"]} MB |
| bytes per stored status sample (table + indexes; heap only) | {figures["verify"]["bytes_per_sample"]} ; {figures["verify"]["heap_bytes_per_sample"]} (plain PostgreSQL) |
| ingest settings | {ing["workers"]} worker(s), `{ing["client"]}` MQTT client, batch {ing["batch_size"]} |

Summary line: `{summary}`
<!-- ingest:end -->"""
    write_section("ingest", block)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--elevators", type=int, default=20_000)
    parser.add_argument(
        "--workers", type=int, default=2, help="ingest worker processes (shared subscription)"
    )
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--client", choices=("stream", "paho"), default="stream")
    parser.add_argument("--timeout", type=float, default=900, help="hard limit, seconds")
    parser.add_argument("--no-results", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout
    if not shutil.which("mosquitto_sub") or not shutil.which("mosquitto_pub"):
        print("bench.ingest needs mosquitto, mosquitto_pub and mosquitto_sub", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bw-bench-ingest-"))
    pg = EmbeddedPostgres(workdir / "pg")
    broker = EmbeddedBroker(workdir / "mqtt", persistence=False)
    try:
        pg.start()
        broker.start()
        url = pg.create_database("bench")
        migrate(url)
        register_elevators(url, args.elevators)
        messages = status_payloads(args.messages, args.elevators)
        packets = encode_publishes(messages)
        payloads = [p for _, p in messages]
        base1 = baseline(broker, payloads, deadline)
        ingest = run_ingest(args, pg, broker, url, packets, deadline, workdir)
        base2 = baseline(broker, payloads, deadline)
        checked = verify(url, args.messages, args.elevators)
    finally:
        broker.stop()
        pg.stop("immediate")
        shutil.rmtree(workdir, ignore_errors=True)
    mean_base = (base1["rate"] + base2["rate"]) / 2
    ratio = ingest["rate"] / mean_base
    # the same comparison in CPU per message (publisher + broker + consumer side): what the
    # rate ratio is when both runs are CPU-bound on the same cores, and far less moved by
    # other load on a shared machine than the rates are
    base_cpu = sum(sum(b["cpu_us_per_msg"].values()) for b in (base1, base2)) / 2
    ingest_cpu = sum(ingest["cpu_us_per_msg"].values())
    figures: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
        "elevators": args.elevators,
        "baseline_runs": [base1, base2],
        "baseline_rate": round(mean_base, 1),
        "ingest": ingest,
        "ratio": round(ratio, 3),
        "cpu_per_msg_us": {"baseline": round(base_cpu, 1), "ingest": round(ingest_cpu, 1)},
        "cpu_ratio": round(base_cpu / ingest_cpu, 3),
        "target_ratio": TARGET_RATIO,
        "verify": checked,
    }
    (OUT / "ingest.json").write_text(json.dumps(figures, indent=2))
    summary = (
        f"ingest {ingest['rate']:,.0f} msg/s vs mosquitto_pub->mosquitto_sub {mean_base:,.0f} msg/s"
        f" ratio {ratio:.2f} (target {TARGET_RATIO}), CPU ratio {base_cpu / ingest_cpu:.2f}; worker CPU {ingest['cpu_seconds']} s,"
        f" peak RSS {ingest['peak_rss_mb']} MB; {checked['bytes_per_sample']} B/sample;"
        f" exactly once: {checked['exactly_once']}"
    )
    print(summary)
    if not args.no_results:
        shown = ["python -m bench.ingest"] + (argv if argv is not None else sys.argv[1:])
        update_results(summary, figures, " ".join(shown))
    return 0 if checked["exactly_once"] else 1


if __name__ == "__main__":
    sys.exit(main())
