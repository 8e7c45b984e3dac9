"""City scale on one machine: replicas of ingest, rules and alerts against one broker and
one database, a fleet of simulated elevators at the spec's reporting rates, injected
faults, and a rules replica killed mid-run.

    python -m bench.scale [--elevators 50000] [--msg-per-elevator-s 0.177] [--load-s 150]
                          [--faults 40] [--kill-at 60] [--partitions 32] [--lease-ttl 5]

Two runs, back to back, on fresh servers each (a private PostgreSQL and mosquitto):

- `single`: one `serve` process each for ingest, elevators (the rules) and alerts.
- `replicas`: 2 ingest (one shared group), 3 rules (`[elevators] partitions`, each with
  its own persistent session and instance name) and 2 alerts processes. At `--kill-at`
  seconds the rules replica that owns the most running fault timers is killed (SIGKILL).

The load: each elevator sends 0.177 status messages a second on average, the mean that
`python -m bench.capacity` measured on the elevator simulator (interfaces.md's rates: every
change of state, every 5 s running, every 60 s idle; 15,335 messages per elevator-day),
round-robin over the fleet, on one connection (pre-formatted packets; bench.alert_latency's
generator). The background cars stand closed at their floor: a car whose samples come tens
of seconds apart would hold a moving door that long, and the rules would rightly flag it.
Faults: `--faults` probe elevators, spread over the run, stop between floors with someone
inside (TRAPPED_OUT_ZONE, due 30 s later from the rules' timer). Every fault must raise
exactly one alert (one `fired` event) and one rescue ticket, and its alert message must
arrive within the window + 30 s (issue 16); the figures per run go to
bench/out/scale.json and bench/RESULTS.md ("Scale").
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psutil
import psycopg

from bench.alert_latency import (
    WINDOW_S,
    AlertListener,
    _start_servers,
    _stop_service,
    _wait_ready,
    background_load,
    probe_status,
    service_env,
    summarize,
)
from bench.results import write_section
from brightwatch.db.partitions import live_owners, partition_of

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
BAR_S = WINDOW_S + 30  # a fault alerts within its window plus 30 s, failover included


@dataclass
class Proc:
    name: str  # ingest-0, rules-1, ...
    popen: subprocess.Popen[bytes]
    killed_at: float | None = None


@dataclass
class Probe:
    elevator: str
    stopped_at: float  # when the car stopped with someone inside (the timer starts)
    partition: int = -1
    owner: str | None = None  # the rules replica that owned it when it stopped


@dataclass
class Run:
    name: str
    layout: dict[str, int]
    probes: list[Probe] = field(default_factory=list)
    killed: str | None = None
    killed_at: float | None = None
    failover_s: float | None = None
    figures: dict[str, Any] = field(default_factory=dict)


def start(
    layout: dict[str, int], work: Path, db_url: str, mqtt_url: str, root: str, args: Any
) -> list[Proc]:
    """`serve` processes as a deployment runs them: one per replica, each with its own
    instance name (its client ids and persistent sessions) and log file."""
    base = {**service_env(work, db_url, mqtt_url, root), "BW_SHARE_GROUP": "scale"}
    if layout["elevators"] > 1:
        base["BW_ELEVATORS__PARTITIONS"] = str(args.partitions)
        base["BW_ELEVATORS__LEASE_TTL_S"] = str(args.lease_ttl)
    procs = []
    for component, count in layout.items():
        for n in range(count):
            name = f"{component}-{n}"
            procs.append(
                Proc(
                    name,
                    subprocess.Popen(
                        [sys.executable, "-m", "brightwatch", "serve", "--components", component],
                        cwd=REPO,
                        env={**base, "BW_INSTANCE": f"scale-{name}"},
                        stdout=(work / f"{name}.log").open("wb"),
                        stderr=subprocess.STDOUT,
                    ),
                )
            )
    return procs


def stop(procs: list[Proc]) -> None:
    _stop_service([p.popen for p in procs if p.popen.poll() is None])


def owners(db_url: str) -> dict[int, str]:
    with psycopg.connect(db_url) as conn:
        held = live_owners(conn, "elevators")
    return {p: o.removeprefix("scale-") for p, o in held.items()}


def wait_ready(db_url: str, client: mqtt.Client, root: str, rules: int, partitions: int) -> None:
    """Every rules replica up: a first probe's state saved and, with partitions, all of
    them owned and shared out."""
    _wait_ready(client, root, db_url, timeout=120)
    deadline = time.time() + 60
    while rules > 1:
        held = owners(db_url)
        if len(held) == partitions and len(set(held.values())) == rules:
            return
        if time.time() > deadline:
            raise TimeoutError("the rules replicas did not share the partitions (see the logs)")
        time.sleep(0.5)


def inject(client: mqtt.Client, root: str, probe: Probe) -> None:
    topic = f"{root}/elevators/{probe.elevator}/status"
    now_ms = int(time.time() * 1000)
    client.publish(topic, probe_status(probe.elevator, 0, now_ms - 1500), qos=1).wait_for_publish(
        10
    )
    stopped = {"run_state": "stopped", "speed": 0.0, "direction": "none"}
    probe.stopped_at = time.time()
    client.publish(
        topic, probe_status(probe.elevator, 1, int(probe.stopped_at * 1000), **stopped), qos=1
    ).wait_for_publish(10)


def measure(run: Run, args: Any, work: Path) -> None:
    pg, broker, db_url, mqtt_url = _start_servers(work / run.name)
    port = int(mqtt_url.rsplit(":", 1)[1].strip("/"))
    root = f"scale{uuid.uuid4().hex[:6]}"
    procs = start(run.layout, work / run.name, db_url, mqtt_url, root, args)
    listener = AlertListener(port, root)
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"scale-probe-{root}", protocol=mqtt.MQTTv5
    )
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        listener.ready.wait(10)
        wait_ready(db_url, client, root, run.layout["elevators"], args.partitions)
        _drive(run, args, procs, db_url, client, root, port)
        _collect(run, args, procs, db_url, listener)
    finally:
        client.disconnect()
        client.loop_stop()
        listener.close()
        stop(procs)
        if broker:
            broker.stop()
        if pg:
            pg.stop("immediate")


def _drive(
    run: Run,
    args: Any,
    procs: list[Proc],
    db_url: str,
    client: mqtt.Client,
    root: str,
    port: int,
) -> None:
    """The background load in its own process; the faults and the kill from this one."""
    services = {p.name: psutil.Process(p.popen.pid) for p in procs}
    cpu_before = {n: sum(s.cpu_times()[:2]) for n, s in services.items()}
    rate = args.elevators * args.msg_per_elevator_s
    result = mp.Manager().dict()
    start_at = time.time() + 1.0
    load = mp.Process(
        target=background_load,
        args=(port, root, args.elevators, rate, args.load_s, start_at, result, True),
    )
    load.start()
    spread = max(1.0, args.load_s - WINDOW_S - 20)
    kill_at = start_at + args.kill_at if run.layout["elevators"] > 1 else None
    for i in range(args.faults):
        due = start_at + 5 + spread * i / max(1, args.faults - 1)
        while time.time() < due:
            if kill_at is not None and run.killed is None and time.time() >= kill_at:
                _kill(run, procs, db_url)
            time.sleep(0.01)
        probe = Probe(f"FAULT{i:03d}{uuid.uuid4().hex[:6]}", 0.0)
        if run.layout["elevators"] > 1:
            probe.partition = partition_of(probe.elevator, args.partitions)
            probe.owner = owners(db_url).get(probe.partition)
        inject(client, root, probe)
        run.probes.append(probe)
    while kill_at is not None and run.killed is None:
        if time.time() >= kill_at:
            _kill(run, procs, db_url)
        time.sleep(0.05)
    load.join()
    cpu = {n: sum(s.cpu_times()[:2]) - cpu_before[n] for n, s in services.items() if s.is_running()}
    run.figures["background"] = {
        "target_msg_s": round(rate, 1),
        "sent": result.get("sent", 0),
        "acked": result.get("acked", 0),
        "achieved_msg_s": round(result.get("sent", 0) / max(result.get("seconds", 1), 1e-9), 1),
        "seconds": round(result.get("seconds", 0), 1),
    }
    run.figures["service_cpu_s"] = {n: round(c, 1) for n, c in cpu.items()}


def _kill(run: Run, procs: list[Proc], db_url: str) -> None:
    """SIGKILL the rules replica owning the most running timers (faults stopped in the
    last window), as a crash would: no lease given back, nothing saved."""
    now = time.time()
    running = [p for p in run.probes if now - p.stopped_at < WINDOW_S and p.owner]
    counts: dict[str, int] = {}
    for p in running:
        counts[p.owner or ""] = counts.get(p.owner or "", 0) + 1
    rules = [p for p in procs if p.name.startswith("elevators-")]
    victim = max(rules, key=lambda p: counts.get(p.name, 0))
    victim.popen.send_signal(signal.SIGKILL)
    victim.killed_at = now
    run.killed, run.killed_at = victim.name, now
    run.figures["running_timers_on_killed"] = counts.get(victim.name, 0)
    held = [p for p, o in owners(db_url).items() if o == victim.name]
    run.figures["partitions_on_killed"] = len(held)


def _collect(run: Run, args: Any, procs: list[Proc], db_url: str, listener: AlertListener) -> None:
    deadline = time.time() + BAR_S + 30
    while time.time() < deadline and any(p.elevator not in listener.arrivals for p in run.probes):
        time.sleep(0.5)
    time.sleep(3)  # anything that would come twice
    with psycopg.connect(db_url) as conn:
        ids = [p.elevator for p in run.probes]
        fired = dict(
            conn.execute(
                "SELECT a.device_id, count(*) FROM alert a JOIN alert_event e ON e.alert_id = a.id"
                " WHERE a.code = 'TRAPPED_OUT_ZONE' AND e.action = 'fired'"
                " AND a.device_id = ANY(%s) GROUP BY a.device_id",
                (ids,),
            ).fetchall()
        )
        tickets = dict(
            conn.execute(
                "SELECT elevator_id, count(*) FROM ticket WHERE type = 'rescue'"
                " AND elevator_id = ANY(%s) GROUP BY elevator_id",
                (ids,),
            ).fetchall()
        )
        others = dict(
            conn.execute(
                "SELECT code, count(*) FROM alert WHERE NOT (device_id = ANY(%s))"
                " AND device_id NOT LIKE 'READY%%' GROUP BY code",
                (ids,),
            ).fetchall()
        )
        stored = conn.execute("SELECT count(*) FROM elevator_status").fetchone()
        if run.killed_at is not None:
            taken = conn.execute(
                "SELECT max(taken_at) FROM partition_lease WHERE component = 'elevators'"
                " AND taken_at > to_timestamp(%s)",
                (run.killed_at,),
            ).fetchone()
            if taken and taken[0] is not None:
                run.failover_s = round(taken[0].timestamp() - run.killed_at, 1)
    latencies, late, on_killed = [], [], []
    for p in run.probes:
        got = [
            a
            for a in listener.arrivals.get(p.elevator, [])
            if a[1]["alert"]["code"] == "TRAPPED_OUT_ZONE"
        ]
        first = got[0][0] - p.stopped_at if got else None
        if first is not None:
            latencies.append(first - WINDOW_S)
        if first is None or first > BAR_S:
            late.append(p.elevator)
        if run.killed and p.owner == run.killed and run.killed_at and p.stopped_at < run.killed_at:
            on_killed.append(round(first, 1) if first is not None else None)
    run.figures.update(
        {
            "faults": len(run.probes),
            "fired_exactly_once": sum(1 for p in run.probes if fired.get(p.elevator) == 1),
            "fired_twice_or_more": sum(1 for p in run.probes if fired.get(p.elevator, 0) > 1),
            "tickets_exactly_one": sum(1 for p in run.probes if tickets.get(p.elevator) == 1),
            "late_or_missing": late,
            "alerts_on_background": others,
            "status_rows": int(stored[0]) if stored else 0,
            "latency_beyond_window": summarize(latencies),
            "seconds_to_alert_of_faults_running_on_killed": on_killed,
            "killed": run.killed,
            "failover_s": run.failover_s,
        }
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elevators", type=int, default=50_000)
    ap.add_argument("--msg-per-elevator-s", type=float, default=0.177)
    ap.add_argument("--load-s", type=float, default=150)
    ap.add_argument("--faults", type=int, default=40)
    ap.add_argument("--kill-at", type=float, default=60)
    ap.add_argument("--partitions", type=int, default=32)
    ap.add_argument("--lease-ttl", type=float, default=5)
    ap.add_argument("--only", choices=["single", "replicas"], default=None)
    ap.add_argument("--out", type=Path, default=OUT / "scale.json")
    ap.add_argument(
        "--render", type=Path, help="only write RESULTS.md's section again from a JSON it wrote"
    )
    args = ap.parse_args(argv)
    if args.render:
        done = json.loads(args.render.read_text())
        write_section("scale", _markdown(done, _passed(done["runs"].values())))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bw-bench-scale-"))
    runs = [
        Run("single", {"ingest": 1, "elevators": 1, "alerts": 1}),
        Run("replicas", {"ingest": 2, "elevators": 3, "alerts": 2}),
    ]
    runs = [r for r in runs if args.only in (None, r.name)]
    for run in runs:
        measure(run, args, work)
        print(f"scale {run.name}: {json.dumps(run.figures)}", flush=True)
    result = {
        "bench": "scale",
        "command": " ".join(
            ["python -m bench.scale", *(argv if argv is not None else sys.argv[1:])]
        ),
        "elevators": args.elevators,
        "msg_per_elevator_s": args.msg_per_elevator_s,
        "runs": {r.name: {"layout": r.layout, **r.figures} for r in runs},
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg": os.getloadavg(),
            "python": platform.python_version(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    ok = _passed(r.figures for r in runs)
    write_section("scale", _markdown(result, ok))
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"scale: failed; the servers' and processes' logs are in {work}", file=sys.stderr)
    return 0 if ok else 1


def _passed(runs: Any) -> bool:
    """Every fault alerted exactly once with one ticket, within its window plus 30 s."""
    return all(
        r["fired_exactly_once"] == r["faults"] == r["tickets_exactly_one"]
        and not r["late_or_missing"]
        for r in runs
    )


def _markdown(result: dict[str, Any], ok: bool) -> str:
    lines = [
        "<!-- scale:begin -->",
        "## Scale: replicas, partitions and a killed rules replica (`python -m bench.scale`)",
        "",
        f"`{result['command']}`: {result['elevators']:,} elevators at"
        f" {result['msg_per_elevator_s']} msg/s each; {result['machine']['cpus']} cores;"
        f" load average at the end {result['machine']['load_avg'][0]:.1f} (the benchmark's own"
        f" processes included); verdict: {'pass' if ok else 'FAIL'}",
        "",
        "| run | processes | msg/s sent | status rows | faults | fired once | tickets once |"
        " late/missing | latency beyond window p50 / p99 / max (ms) | killed | failover (s) |"
        " CPU s: ingest / rules / alerts |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["runs"].items():
        lat = r["latency_beyond_window"]
        cpu = {
            group: round(sum(v for k, v in r["service_cpu_s"].items() if k.startswith(group)), 1)
            for group in ("ingest", "elevators", "alerts")
        }
        lines.append(
            f"| {name} | {', '.join(f'{k}×{v}' for k, v in r['layout'].items())}"
            f" | {r['background']['achieved_msg_s']} | {r['status_rows']:,} | {r['faults']}"
            f" | {r['fired_exactly_once']} | {r['tickets_exactly_one']} | {len(r['late_or_missing'])}"
            f" | {lat['p50_ms']} / {lat['p99_ms']} / {lat['max_ms']} | {r['killed'] or '–'}"
            f" | {r['failover_s'] if r['failover_s'] is not None else '–'}"
            f" | {cpu['ingest']} / {cpu['elevators']} / {cpu['alerts']} |"
        )
    for name, r in result["runs"].items():
        if r["killed"]:
            lines += [
                "",
                f"{name}: `{r['killed']}` was killed (SIGKILL) holding {r['partitions_on_killed']}"
                f" partitions and {r['running_timers_on_killed']} running trapped timers; its"
                f" partitions were taken {r['failover_s']} s later. The faults it owned (stopped"
                " before the kill) alerted after (s, window 30):"
                f" {', '.join(str(x) for x in r['seconds_to_alert_of_faults_running_on_killed'])}.",
            ]
    lines += [
        "",
        "Each rules replica receives every message (no shared group) and steps the partitions"
        " it owns: the CPU column shows what that costs against one rules process. The"
        " latency is measured on this host's clock from the stop sample's publication to the"
        " alert message's arrival, minus the 30 s window.",
        "<!-- scale:end -->",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
