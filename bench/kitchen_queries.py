"""Kitchen API queries on a month of a 100-camera city (quality.md: every API list call
< 100 ms p95 on 30 days of ... 100 cameras).

    python -m bench.kitchen_queries [--kitchens 50] [--days 30] [--runs 30]

Generates 50 kitchens x 2 cameras, availability flapping every few hours for 30 days,
CAMERA_OFFLINE alerts, reviews in every state (500 pending), then times the kitchen
endpoints (default window: the last 30 whole UTC days and today) through the HTTP app
(TestClient) against /healthz as the baseline of the same
run. Whole days are rolled up first (camera_hours_daily), as the running service keeps
them. Prints one summary line; figures go to bench/out/kitchen_queries.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb
from tqdm import tqdm

from brightwatch.alerts.stats.queries import rollup_camera_hours
from brightwatch.api.app import create_app
from brightwatch.api.auth import create_token
from brightwatch.db.migrate import migrate
from brightwatch.embedded import EmbeddedPostgres
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime

OUT = Path(__file__).parent / "out"
STATES = [
    "pending_review",
    "dismissed",
    "notified",
    "rectifying",
    "evidence_submitted",
    "verifying",
    "escalated",
    "closed",
]
CODES = ["RODENT", "NO_MASK", "NO_HAT", "SMOKING", "PHONE", "BIN_OPEN"]


def generate(
    conn: psycopg.Connection[Any], kitchens: int, days: int, now: datetime
) -> dict[str, int]:
    rng = random.Random(7)
    start = now - timedelta(days=days)
    counts = {"availability": 0, "reviews": 0, "alerts": 0}
    hours = Jsonb([{"days": "daily", "open": "06:00", "close": "22:00"}])
    for k in tqdm(range(kitchens), desc="generate", unit="kitchen"):
        site = f"K{k:04d}"
        conn.execute(
            "INSERT INTO site (site_id, kind, district, operating_hours) VALUES (%s, 'kitchen', %s, %s)",
            (site, f"D{k % 8}", hours),
        )
        for cam in ("c1", "c2"):
            conn.execute("INSERT INTO camera (site_id, camera_id) VALUES (%s, %s)", (site, cam))
            t, state, rows = start - timedelta(hours=1), "online", []
            while t < now:
                rows.append(("camera", f"{site}/{cam}", site, state, t))
                t += timedelta(
                    hours=rng.uniform(0.2, 8) if state == "offline" else rng.uniform(2, 12)
                )
                state = "offline" if state == "online" else "online"
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO availability_log (device_kind, device_key, site_id, availability, received_at)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    rows,
                )
            counts["availability"] += len(rows)
        for i in range(60):
            code = rng.choice(CODES)
            detected = start + timedelta(seconds=rng.uniform(0, days * 86400))
            state = "pending_review" if i < 10 else rng.choice(STATES)
            offline = rng.random() < 0.1
            (alert_id,) = conn.execute(
                "INSERT INTO alert (kind, code, severity, state, device_id, site_id, fingerprint, started_at,"
                " updated_at, last_raised_at, resolved_at) VALUES ('kitchen', %s, 'T2', 'resolved', 'c1', %s, %s,"
                " %s, %s, %s, %s) RETURNING id",
                (
                    "CAMERA_OFFLINE" if offline else code,
                    site,
                    f"{site}|{i}",
                    detected,
                    detected,
                    detected,
                    detected + timedelta(hours=1),
                ),
            ).fetchone()
            counts["alerts"] += 1
            if offline:
                continue
            decided = None if state == "pending_review" else detected + timedelta(minutes=5)
            decision = (
                None if decided is None else ("dismiss" if state == "dismissed" else "confirm")
            )
            fix_due = decided + timedelta(days=3) if decision == "confirm" else None
            conn.execute(
                "INSERT INTO review (alert_id, fingerprint, site_id, camera_id, district, code, tier, state,"
                " detected_at, created_at, updated_at, decision, decided_at, fix_due_at, rectified_at, closed_at,"
                " decision_seconds) VALUES (%s, %s, %s, 'c1', %s, %s, 'T2', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    alert_id,
                    f"{site}|{i}",
                    site,
                    f"D{k % 8}",
                    code,
                    state,
                    detected,
                    detected,
                    detected,
                    decision,
                    decided,
                    fix_due,
                    fix_due - timedelta(hours=rng.uniform(-30, 60))
                    if state == "closed" and fix_due
                    else None,
                    fix_due + timedelta(hours=5) if state == "closed" and fix_due else None,
                    rng.uniform(1, 6) if decided else None,
                ),
            )
            counts["reviews"] += 1
    return counts


def timed(client: TestClient, url: str, headers: dict[str, str], runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        r = client.get(url, headers=headers)
        samples.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (url, r.status_code, r.text[:200])
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p95_ms": samples[int(0.95 * (len(samples) - 1))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kitchens", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="bw-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg")
        pg.start()
        try:
            url = pg.create_database("bench")
            migrate(url)
            with psycopg.connect(url, autocommit=True) as conn:
                counts = generate(conn, args.kitchens, args.days, now)
                # what the `alerts` component's stats loop keeps up to date
                counts["camera_days_rolled_up"] = rollup_camera_hours(conn, now, limit=1_000_000)
                conn.execute("ANALYZE")
                _, token = create_token(conn, "supervisor")
            runtime = build_runtime(Settings(database_url=url, data_dir=Path(tmp) / "data"))
            sup = {"Authorization": f"Bearer {token}"}
            calls = {
                "healthz (baseline)": "/healthz",
                "stats kitchens": "/api/v1/stats/kitchens?level=kitchen",
                "stats districts": "/api/v1/stats/kitchens?level=district",
                "stats city": "/api/v1/stats/kitchens?level=city",
                "stats one kitchen": "/api/v1/stats/kitchens?site_id=K0001",
                "red/black list": "/api/v1/stats/kitchen-lists",
                "review queue (20)": "/api/v1/reviews?state=pending&limit=20",
                "kitchens list": "/api/v1/kitchens",
                "kitchen violations": "/api/v1/kitchens/K0001/violations",
            }
            results: dict[str, Any] = {}
            with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
                for name, path in tqdm(calls.items(), desc="queries"):
                    client.get(path, headers=sup)  # warm
                    results[name] = timed(client, path, sup, args.runs)
        finally:
            pg.stop("immediate")
    base = results["healthz (baseline)"]["p95_ms"]
    worst = max((v["p95_ms"], k) for k, v in results.items() if "baseline" not in k)
    figures = {
        "kitchens": args.kitchens,
        "cameras": args.kitchens * 2,
        "days": args.days,
        "rows": counts,
        "results": {k: {**v, "p95_vs_healthz": v["p95_ms"] / base} for k, v in results.items()},
        "bar_ms": 100,
        "worst": {"call": worst[1], "p95_ms": worst[0]},
    }
    (OUT / "kitchen_queries.json").write_text(json.dumps(figures, indent=1))
    print(
        f"kitchen queries: {args.kitchens * 2} cameras x {args.days} days; worst p95 {worst[0]:.1f} ms"
        f" ({worst[1]}, {worst[0] / base:.1f} x the /healthz baseline of {base:.1f} ms); bar 100 ms"
        f" -> {'PASS' if worst[0] < 100 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
