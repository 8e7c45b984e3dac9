"""The API's throughput and latency with one worker process and with several, same run.

    python -m bench.api [--workers N] [--duration 10] [--connections 16] [--rounds 2]
                        [--elevators 1000] [--cameras 100] [--days 30]

Starts a private PostgreSQL and broker, fills the database with 30 days of 1,000
elevators and 100 cameras (dashboards.sample_data: alerts, tickets, kitchens included),
then runs `brightwatch serve --components api` with BW_API__WORKERS=1 and with N (one per
CPU unless --workers), alternating `--rounds` times, and measures each with wrk at
`--connections` concurrent clients against /healthz and the list endpoints (admin
token, default page). Reports requests/s and p50/p95/p99 per endpoint and worker count,
the ratio N workers : 1 worker, against issue 13's bars: list endpoints p95 < 100 ms at
16 clients and requests/s >= 1.6 x one worker's. wrk runs on the same machine (it takes
CPU from the server), as do PostgreSQL and the broker: ratios, not absolute figures,
are what carries over. Needs `wrk` (apt-get install wrk). Writes bench/out/api.json and
the `api` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.results import write_section
from brightwatch.api.auth import create_token
from brightwatch.components.api import cpu_count
from brightwatch.dashboards.sample_data import Size, generate
from brightwatch.db.migrate import migrate
from brightwatch.embedded import EmbeddedBroker, EmbeddedPostgres, free_port

REPO = Path(__file__).resolve().parents[1]
ENDPOINTS = (
    "/healthz",
    "/api/v1/elevators",
    "/api/v1/alerts",
    "/api/v1/tickets",
    "/api/v1/kitchens",
)
P95_BAR_MS = 100.0
RATIO_BAR = 1.6
# wrk reports latencies in microseconds; the Lua `done` hook prints the percentiles
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("BWSTATS %d %d %d %d %d %d\\n", latency:percentile(50),
    latency:percentile(95), latency:percentile(99), summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def _wrk(url: str, token: str, connections: int, duration: int, script: Path) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    stats = re.search(r"BWSTATS (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not (rps and stats):
        raise RuntimeError(f"wrk output not understood:\n{out}")
    p50, p95, p99, requests, non2xx, socket_errors = map(int, stats.groups())
    return {
        "rps": float(rps.group(1)),
        "p50_ms": p50 / 1000,
        "p95_ms": p95 / 1000,
        "p99_ms": p99 / 1000,
        "requests": requests,
        "non_2xx": non2xx,
        "socket_errors": socket_errors,
    }


def _serve(env: dict[str, str], workers: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "brightwatch", "serve", "--components", "api"],
            cwd=REPO,
            env={**env, "BW_API__WORKERS": str(workers)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _ready(base: str, proc: subprocess.Popen[bytes], log: Path, workers: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-3000:])
        try:
            if httpx.get(f"{base}/healthz?scope=process", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    else:
        raise RuntimeError(f"API not ready:\n{log.read_text()[-3000:]}")
    # every worker process started (one serves in the service process itself), then
    # time for their start-up (the warm-up requests reach each of them)
    while workers > 1 and len(_children(proc.pid)) < workers and time.monotonic() < deadline:
        time.sleep(0.3)
    time.sleep(3.0 if workers > 1 else 0.0)


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if stat and int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            out.append(int(entry.name))
    return out


def _postmaster(data_dir: Path) -> int:
    (pidfile,) = Path(data_dir).rglob("postmaster.pid")
    return int(pidfile.read_text().splitlines()[0])


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy so far (every core, every process)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle and iowait; guest time is inside user already
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def _wrk_cpu_s() -> float:
    """CPU seconds of the children this process has waited for: the wrk runs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(40)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=cpu_count())
    ap.add_argument("--duration", type=int, default=10, help="seconds of wrk per measurement")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2, help="1 worker, N workers, alternated")
    ap.add_argument("--elevators", type=int, default=1000)
    ap.add_argument("--cameras", type=int, default=100)
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench.api needs wrk (apt-get install wrk)")
    if args.workers < 2:
        sys.exit("bench.api compares one worker with several: --workers 2 or more")
    size = Size(elevators=args.elevators, cameras=args.cameras, days=args.days)
    command = "python -m bench.api " + " ".join(sys.argv[1:])
    results: dict[int, dict[str, list[dict[str, Any]]]] = {1: {}, args.workers: {}}
    load: list[tuple[float, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bw-bench-api-") as tmp_name:
        tmp = Path(tmp_name)
        pg = EmbeddedPostgres(tmp / "pg")
        broker = EmbeddedBroker(tmp / "mqtt")
        pg.start()
        broker.start()
        try:
            url = pg.create_database("bench")
            migrate(url)
            t0 = time.perf_counter()
            with psycopg.connect(url) as conn:
                counts = generate(conn, size)
            seed_s = time.perf_counter() - t0
            print(f"seeded in {seed_s:.0f} s: {counts}", flush=True)
            with psycopg.connect(url) as conn:
                _, token = create_token(conn, "admin", name="bench")
            script = tmp / "stats.lua"
            script.write_text(LUA)
            env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)
            env.update(
                BW_DATABASE_URL=url,
                BW_MQTT_URL=broker.url,
                BW_MQTT_PROTOCOL=broker.protocol,
                BW_DATA_DIR=str(tmp / "data"),
                BW_INSTANCE="bench-api",
                BW_LOG_LEVEL="WARNING",
            )
            postmaster = _postmaster(pg.data_dir)
            # both servers up at once (an idle one costs nothing): each endpoint is measured
            # on one, then at once on the other, so the machine's load drifts little between
            servers: dict[int, tuple[str, subprocess.Popen[bytes]]] = {}
            try:
                for workers in (1, args.workers):
                    port = free_port()
                    log = tmp / f"serve-{workers}.log"
                    proc = _serve({**env, "BW_HTTP_ADDR": f"127.0.0.1:{port}"}, workers, log)
                    servers[workers] = (f"http://127.0.0.1:{port}", proc)
                    _ready(servers[workers][0], proc, log, workers)
                for base, _ in servers.values():
                    for path in ENDPOINTS:  # warm-up: pools filled, plans cached
                        _wrk(base + path, token, args.connections, 1, script)
                for rnd in range(args.rounds):
                    for path in ENDPOINTS:
                        order = (1, args.workers) if rnd % 2 == 0 else (args.workers, 1)
                        for workers in order:
                            base, proc = servers[workers]
                            load.append(os.getloadavg())
                            tree = [proc.pid, *_children(proc.pid)]
                            pg_tree = [postmaster, *_children(postmaster)]
                            before = _cpu_s(tree), _cpu_s(pg_tree)
                            machine, wrk_cpu, t0 = _machine_busy_s(), _wrk_cpu_s(), time.monotonic()
                            r = _wrk(base + path, token, args.connections, args.duration, script)
                            # workers and backends live through the run: the deltas hold
                            n = max(1, r["requests"])
                            server_s, pg_s = _cpu_s(tree) - before[0], _cpu_s(pg_tree) - before[1]
                            r["server_cpu_ms"] = server_s * 1000 / n
                            r["postgres_cpu_ms"] = pg_s * 1000 / n
                            # what else the machine ran meanwhile (other jobs, the broker,
                            # this script): tells a loaded machine from a slow server
                            others_s = (_machine_busy_s() - machine) - (_wrk_cpu_s() - wrk_cpu)
                            r["other_cores"] = max(0.0, others_s - server_s - pg_s) / (
                                time.monotonic() - t0
                            )
                            results[workers].setdefault(path, []).append(r)
                            print(
                                f"round {rnd + 1} workers {workers} {path}: {r['rps']:.0f} req/s,"
                                f" p95 {r['p95_ms']:.1f} ms, server {r['server_cpu_ms']:.2f}"
                                f" + postgres {r['postgres_cpu_ms']:.2f} ms CPU/request,"
                                f" other work {r['other_cores']:.2f} cores,"
                                f" non-2xx {r['non_2xx']}",
                                flush=True,
                            )
            finally:
                for _, proc in servers.values():
                    _stop(proc)
        finally:
            broker.stop()
            pg.stop("immediate")
    report(args, size, counts, seed_s, results, load, command)


def _mean(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.fmean(r[key] for r in runs)


def report(
    args: argparse.Namespace,
    size: Size,
    counts: dict[str, int],
    seed_s: float,
    results: dict[int, dict[str, list[dict[str, Any]]]],
    load: list[tuple[float, float, float]],
    command: str,
) -> None:
    n = args.workers
    rows = []
    for path in ENDPOINTS:
        one, many = results[1][path], results[n][path]
        rows.append(
            {
                "endpoint": path,
                "rps_1": round(_mean(one, "rps"), 1),
                "rps_n": round(_mean(many, "rps"), 1),
                "ratio": round(_mean(many, "rps") / _mean(one, "rps"), 2),
                "p50_ms_1": round(_mean(one, "p50_ms"), 1),
                "p95_ms_1": round(_mean(one, "p95_ms"), 1),
                "p99_ms_1": round(_mean(one, "p99_ms"), 1),
                "p50_ms_n": round(_mean(many, "p50_ms"), 1),
                "p95_ms_n": round(_mean(many, "p95_ms"), 1),
                "p99_ms_n": round(_mean(many, "p99_ms"), 1),
                "server_cpu_ms_1": round(_mean(one, "server_cpu_ms"), 2),
                "server_cpu_ms_n": round(_mean(many, "server_cpu_ms"), 2),
                "postgres_cpu_ms_1": round(_mean(one, "postgres_cpu_ms"), 2),
                "postgres_cpu_ms_n": round(_mean(many, "postgres_cpu_ms"), 2),
                "other_cores_1": round(_mean(one, "other_cores"), 2),
                "other_cores_n": round(_mean(many, "other_cores"), 2),
                "non_2xx": sum(r["non_2xx"] for r in one + many),
                "socket_errors": sum(r["socket_errors"] for r in one + many),
            }
        )
    cpus = cpu_count()
    for r in rows:
        # CPU-bound ceilings on a quiet machine of `cpus` cores, from the CPU each request
        # took (the load generator's own excluded): one worker uses one core at most
        both_1 = r["server_cpu_ms_1"] + r["postgres_cpu_ms_1"]
        both_n = r["server_cpu_ms_n"] + r["postgres_cpu_ms_n"]
        r["ceiling_1"] = round(min(1000 / r["server_cpu_ms_1"], cpus * 1000 / both_1))
        r["ceiling_n"] = round(min(n * 1000 / r["server_cpu_ms_n"], cpus * 1000 / both_n))
        r["ceiling_ratio"] = round(r["ceiling_n"] / r["ceiling_1"], 2)
    lists = [r for r in rows if r["endpoint"] != "/healthz"]
    p95_ok = all(r["p95_ms_n"] < P95_BAR_MS for r in lists)
    ratio_ok = all(r["ratio"] >= RATIO_BAR for r in lists)
    out = {
        "command": command,
        "workers": n,
        "cpus": cpu_count(),
        "connections": args.connections,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "size": size.__dict__,
        "rows": counts,
        "seed_s": round(seed_s, 1),
        "loadavg_during": [round(statistics.fmean(x[0] for x in load), 2)] if load else [],
        "endpoints": rows,
        "p95_under_bar": p95_ok,
        "ratio_at_bar": ratio_ok,
    }
    out_dir = Path(__file__).parent / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "api.json").write_text(json.dumps(out, indent=2))
    table = [
        f"| endpoint | 1 worker req/s | {n} workers req/s | ratio | p95 ms, 1 | p95 ms, {n}"
        f" | p99 ms, 1 | p99 ms, {n} | non-2xx |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    table += [
        f"| `{r['endpoint']}` | {r['rps_1']:.0f} | {r['rps_n']:.0f} | {r['ratio']:.2f} |"
        f" {r['p95_ms_1']:.1f} | {r['p95_ms_n']:.1f} | {r['p99_ms_1']:.1f} | {r['p99_ms_n']:.1f}"
        f" | {r['non_2xx']} |"
        for r in rows
    ]
    cpu_table = [
        f"| endpoint | CPU ms/request, 1 worker (server + PostgreSQL) | {n} workers"
        f" | CPU-bound ceiling req/s, 1 | {n} | ratio | other work, cores, 1 | {n} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    cpu_table += [
        f"| `{r['endpoint']}` | {r['server_cpu_ms_1']:.2f} + {r['postgres_cpu_ms_1']:.2f}"
        f" | {r['server_cpu_ms_n']:.2f} + {r['postgres_cpu_ms_n']:.2f}"
        f" | {r['ceiling_1']} | {r['ceiling_n']} | {r['ceiling_ratio']:.2f}"
        f" | {r['other_cores_1']:.2f} | {r['other_cores_n']:.2f} |"
        for r in rows
    ]
    verdict = (
        f"List endpoints at {n} workers: p95 < {P95_BAR_MS:.0f} ms"
        f" {'met' if p95_ok else 'NOT met'}; requests/s >= {RATIO_BAR} x one worker's"
        f" {'met' if ratio_ok else 'NOT met'} (worst ratio"
        f" {min(r['ratio'] for r in lists):.2f})."
    )
    block = "\n".join(
        [
            "<!-- api:begin -->",
            "## API: one worker process against several (issue 13, item 5)",
            "",
            f"`{command}`",
            "",
            f"{size.days} days of {size.elevators:,} elevators and {size.cameras} cameras"
            f" (dashboards.sample_data, seeded in {seed_s:.0f} s), admin token, default page;"
            f" wrk at {args.connections} connections, {args.duration} s per endpoint after a"
            f" 1 s warm-up, {args.rounds} rounds; both servers (`brightwatch serve --components"
            f" api`, BW_API__WORKERS=1 and {n}) run at once and each endpoint is measured on"
            " one and then on the other, order alternating by round; means shown."
            f" {cpu_count()} CPUs; wrk, PostgreSQL and the broker share them with the"
            f" server, and the machine was shared with other work (load average"
            f" {out['loadavg_during'][0] if load else '?'} during the runs): compare the"
            " ratio, not the absolute figures.",
            "",
            *table,
            "",
            verdict,
            "",
            "Where the time goes, from the CPU the server's processes and PostgreSQL's spent"
            " per request in the same runs (wrk's own CPU not counted); the ceilings are"
            f" what {cpus} otherwise idle cores would allow (one worker: one core for Python"
            " at most), a projection, not a measurement; other work is the machine's busy"
            " CPU during the run less the server's, PostgreSQL's and wrk's, in cores (other"
            " jobs, the broker, this script):",
            "",
            *cpu_table,
            "<!-- api:end -->",
        ]
    )
    write_section("api", block)
    print(verdict)


if __name__ == "__main__":
    main()
