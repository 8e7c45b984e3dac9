"""Every Grafana panel's query against 30 days of 1,000 elevators and 100 cameras.

    python -m bench.dashboards [--runs 20] [--elevators 1000] [--cameras 100] [--days 30]

Starts a private PostgreSQL (native flavour), fills it with dashboards.sample_data,
runs each panel's query (macros and variables expanded as Grafana would, default time
range of its dashboard) `--runs` times after a warm-up, and reports p50/p95 per panel
against quality.md's 100 ms p95 bar, plus a baseline (a primary-key lookup) measured in
the same run. Writes bench/out/dashboards.json; prints one summary line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from tqdm import tqdm

from brightwatch.dashboards.boards import ALL
from brightwatch.dashboards.runner import panel_queries, run
from brightwatch.dashboards.sample_data import Size, generate
from brightwatch.db.migrate import migrate
from brightwatch.embedded import EmbeddedPostgres

BAR_MS = 100.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--elevators", type=int, default=1000)
    ap.add_argument("--cameras", type=int, default=100)
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()
    size = Size(elevators=args.elevators, cameras=args.cameras, days=args.days)
    with tempfile.TemporaryDirectory(prefix="bw-bench-dash-") as tmp:
        pg = EmbeddedPostgres(Path(tmp))
        pg.start()
        try:
            url = pg.create_database("bench")
            migrate(url)
            t0 = time.perf_counter()
            with psycopg.connect(url) as conn:
                counts = generate(conn, size)
            gen_s = time.perf_counter() - t0
            now = datetime.now(UTC)
            results = []
            with psycopg.connect(url, autocommit=True) as conn:
                base = []
                for _ in range(args.runs):
                    base.append(run(conn, "SELECT * FROM elevator WHERE elevator_id = 'E00001'")[2])
                baseline_ms = statistics.median(base) * 1000
                queries = [q for d in ALL for q in panel_queries(conn, d, now)]
                skipped = []
                for q in list(queries):
                    for table in q.panel.requires:
                        row = conn.execute(
                            "SELECT to_regclass(%s) IS NOT NULL", (table,)
                        ).fetchone()
                        if not (row and row[0]):
                            skipped.append(f"{q.dashboard.uid}:{q.panel.title} (no {table})")
                            queries.remove(q)
                            break
                for q in tqdm(queries, desc="panels", unit="panel"):
                    _, rows, _ = run(conn, q.sql)  # warm-up
                    times = [run(conn, q.sql)[2] * 1000 for _ in range(args.runs)]
                    results.append(
                        {
                            "dashboard": q.dashboard.uid,
                            "panel": q.panel.title,
                            "rows": len(rows),
                            "p50_ms": round(pct(times, 0.5), 2),
                            "p95_ms": round(pct(times, 0.95), 2),
                            "p95_over_baseline": round(pct(times, 0.95) / baseline_ms, 1),
                        }
                    )
        finally:
            pg.stop("immediate")
    worst = max(results, key=lambda r: r["p95_ms"])
    over = [r for r in results if r["p95_ms"] >= BAR_MS]
    out = {
        "size": size.__dict__,
        "rows": counts,
        "generate_s": round(gen_s, 1),
        "runs": args.runs,
        "baseline_pk_lookup_ms": round(baseline_ms, 3),
        "panels": results,
        "over_bar": [f"{r['dashboard']}:{r['panel']}" for r in over],
        "skipped": skipped,
    }
    out_dir = Path(__file__).parent / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "dashboards.json").write_text(json.dumps(out, indent=2))
    print(
        f"dashboards: {len(results)} panels on {size.elevators} elevators / {size.cameras} cameras /"
        f" {size.days} days; worst p95 {worst['p95_ms']} ms ({worst['dashboard']}: {worst['panel']});"
        f" {len(over)} over {BAR_MS:.0f} ms; baseline PK lookup {baseline_ms:.2f} ms;"
        f" {len(skipped)} skipped (tables not in this schema)"
    )


if __name__ == "__main__":
    main()
