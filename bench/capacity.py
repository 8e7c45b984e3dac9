"""Capacity table for a city: messages per second, bytes per sample, disk, cores.

    python -m bench.capacity [--rate-cars 100] [--store-cars 40] [--hours 24]

What is measured here (plain PostgreSQL, a private instance, brightwatch.embedded):

1. reporting rates: `--rate-cars` simulated elevators (edge/elevator_sim, interfaces.md's
   rates: a status sample on every change, every 5 s running, every 60 s idle; stats
   every 600 s; residential day/night traffic) run for `--hours`; messages per elevator
   per day by channel, and the busiest hour's status rate;
2. bytes per sample: the first `--store-cars` of them are stored through ingest's own
   path (classify + BatchWriter, COPY into the daily partitions) and the hourly rollup
   refreshed; bytes per row = table + indexes (+ TOAST) of each table / its rows.

What is taken from elsewhere, and labelled so in the output:

- CPU per message: bench/RESULTS.md (ingest: worker 13.7 + PostgreSQL 11.97 + broker
  5.6 µs/msg, 2026-11-22; rules + alerts: 45.5 µs/msg at 10,000 msg/s, alert_latency);
  per camera frame 89.3 ms of server CPU (vision-pipeline, 2026-12-06, 1920 px frames,
  every frame with activity: the worst case);
- compression: a prior run on TimescaleDB 2.28.3 (issue 16): 610 MB -> 49 MB for 30
  days x 1,000 elevators; not measured here (no TimescaleDB on this machine).

Printed: the table; written: bench/out/capacity.json and the capacity section of
bench/RESULTS.md. `capacity_rows` is the pure computation (tests/bench).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import psycopg

from bench.results import write_section
from brightwatch.db.migrate import migrate
from brightwatch.db.timeseries import refresh_rollups
from brightwatch.edge.elevator_sim.model import Car, fleet_spec
from brightwatch.embedded import EmbeddedPostgres
from brightwatch.ingest.classify import Limits, TopicCache, classify
from brightwatch.ingest.writer import BatchWriter

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"

ELEVATOR_FLEETS = (10_000, 100_000, 300_000)
CAMERA_FLEETS = (10_000, 50_000)
DAY_S = 86_400

# --- figures taken from documentation or earlier runs (labelled as such in the output)
COMPRESSED_FRACTION = 49 / 610  # TimescaleDB 2.28.3 columnstore, issue 16's prior run
COMPRESSION_SOURCE = (
    "prior run on TimescaleDB 2.28.3 (issue 16): 610 MB -> 49 MB, 30 days x 1,000 elevators"
)
INGEST_US_PER_MSG = 13.7 + 11.97 + 5.6  # worker + PostgreSQL + broker, bench/RESULTS.md ingest
RULES_US_PER_MSG = 45.5  # elevators + alerts, bench/RESULTS.md alert_latency
CAMERA_MS_PER_FRAME = 89.3  # worker + PostgreSQL + broker, bench/RESULTS.md vision-pipeline
CAMERA_FPS = 1.0  # kitchens.md: the edge samples 1-2 fps; the vision bench runs 1 fps
COMPRESS_AFTER_DAYS = 7  # db/timescale.py default (BW_FLEET__COMPRESS_AFTER_DAYS)


@dataclass(frozen=True)
class Rates:
    """Per elevator and day, measured on the simulator."""

    status: float
    event: float
    stats: float
    peak_hour_status: float  # status messages in the busiest hour

    @property
    def per_day(self) -> float:
        return self.status + self.event + self.stats


@dataclass(frozen=True)
class RowBytes:
    """Bytes per stored row, table + indexes, measured on plain PostgreSQL."""

    status: float
    event: float | None
    stats: float
    hourly: float  # one row per elevator and hour


@dataclass
class _Inbound:
    topic: str
    payload: bytes
    received_at: datetime


def simulate(cars: int, hours: float, store_cars: int, store: Any) -> Rates:
    """Run the simulated fleet; `store(messages)` gets the first `store_cars` cars'
    messages hour by hour."""
    start_ms = int((time.time() - hours * 3600 - 600) * 1000)
    fleet = [Car(fleet_spec(f"CAP{i:05d}", i), seed=i, start_ms=start_ms) for i in range(cars)]
    counts: Counter[str] = Counter()
    hourly: Counter[int] = Counter()
    enc = msgspec.json.Encoder()
    for h in range(1, int(hours) + 1):
        batch: list[_Inbound] = []
        now = datetime.now(UTC)
        for i, car in enumerate(fleet):
            for m in car.advance(h * 3600.0):
                counts[m.channel] += 1
                if m.channel == "status":
                    hourly[h] += 1
                if i < store_cars and m.channel in ("status", "event", "stats"):
                    topic = f"bw/elevators/{car.spec.elevator_id}/{m.channel}"
                    batch.append(_Inbound(topic, enc.encode(m.payload), now))
        store(batch)
    days = hours / 24
    return Rates(
        status=counts["status"] / cars / days,
        event=counts["event"] / cars / days,
        stats=counts["stats"] / cars / days,
        peak_hour_status=max(hourly.values()) / cars,
    )


def table_bytes(conn: psycopg.Connection[Any], table: str) -> tuple[int, int]:
    """(rows, bytes of table + indexes + TOAST) over the partitions holding rows (the
    empty ones made ahead are left out: their index metapages are no cost per row)."""
    rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    size = conn.execute(
        "SELECT coalesce(sum(pg_total_relation_size(relid)), 0)::int8"
        " FROM (SELECT relid FROM pg_partition_tree(%s::regclass)"
        "       WHERE isleaf AND pg_relation_size(relid) > 0"
        "       UNION SELECT %s::regclass WHERE NOT EXISTS"
        "       (SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass)) t",
        (table, table, table),
    ).fetchone()
    return (int(rows[0]) if rows else 0, int(size[0]) if size else 0)


def _per_row(conn: psycopg.Connection[Any], table: str) -> tuple[float | None, int]:
    rows, size = table_bytes(conn, table)
    return (round(size / rows, 1) if rows else None, rows)


def capacity_rows(rates: Rates, row: RowBytes) -> list[dict[str, Any]]:
    """The table: one row per fleet. Pure."""
    raw_day_per_elevator = (
        rates.status * row.status
        + rates.event * (row.event or row.status)
        + rates.stats * row.stats
        + 24 * row.hourly
    )
    out: list[dict[str, Any]] = []
    for n in ELEVATOR_FLEETS:
        msg_s = n * rates.per_day / DAY_S
        peak_s = n * (rates.peak_hour_status + (rates.stats + rates.event) / 24) / 3600
        raw_day = n * raw_day_per_elevator
        compressed_day = raw_day * COMPRESSED_FRACTION
        year = COMPRESS_AFTER_DAYS * raw_day + (365 - COMPRESS_AFTER_DAYS) * compressed_day
        out.append(
            {
                "fleet": f"{n:,} elevators",
                "msg_s_mean": msg_s,
                "msg_s_peak_hour": peak_s,
                "bytes_per_sample_raw": row.status,
                "bytes_per_sample_compressed": row.status * COMPRESSED_FRACTION,
                "disk_day_raw": raw_day,
                "disk_day_compressed": compressed_day,
                "disk_year": year,
                "cores_mean": msg_s * (INGEST_US_PER_MSG + RULES_US_PER_MSG) / 1e6,
                "cores_peak_hour": peak_s * (INGEST_US_PER_MSG + RULES_US_PER_MSG) / 1e6,
            }
        )
    for n in CAMERA_FLEETS:
        msg_s = n * CAMERA_FPS
        cores = msg_s * CAMERA_MS_PER_FRAME / 1000
        out.append(
            {
                "fleet": f"{n:,} cameras",
                "msg_s_mean": msg_s,
                "msg_s_peak_hour": msg_s,
                # frames are not stored in the database: only alerts, evidence images (on
                # disk, per alert) and daily per-camera hours
                "bytes_per_sample_raw": 0.0,
                "bytes_per_sample_compressed": 0.0,
                "disk_day_raw": 0.0,
                "disk_day_compressed": 0.0,
                "disk_year": 0.0,
                "cores_mean": cores,
                "cores_peak_hour": cores,
            }
        )
    return out


def _size(b: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= scale:
            return f"{b / scale:,.1f} {unit}"
    return f"{b:,.0f} B" if b else "—"


def markdown(figures: dict[str, Any]) -> str:
    r, b = figures["rates"], figures["row_bytes"]
    lines = [
        "<!-- capacity:begin -->",
        "## Capacity for a city (`bench/capacity.py`)",
        "",
        f"Command: `python -m bench.capacity --rate-cars {figures['args']['rate_cars']}"
        f" --store-cars {figures['args']['store_cars']} --hours {figures['args']['hours']}`",
        "",
        f"Last run: {figures['when']}, {figures['machine']}.",
        "",
        "**Measured here** (plain PostgreSQL, private instance): reporting rates of the"
        f" simulated fleet ({figures['args']['rate_cars']} elevators, {figures['args']['hours']} h,"
        " interfaces.md's rates, residential traffic): per elevator and day"
        f" {r['status']:,.0f} status + {r['stats']:,.0f} stats + {r['event']:,.1f} event"
        f" messages, busiest hour {r['peak_hour_status']:,.0f} status messages; bytes per"
        f" stored row (table + indexes, {figures['stored_rows']:,} rows through ingest's writer):"
        f" status {b['status']}, stats {b['stats']}, event {b['event'] or 'none stored'},"
        f" hourly rollup {b['hourly']}.",
        "",
        "**From documentation or earlier runs, not measured here**: compressed size ="
        f" raw x {COMPRESSED_FRACTION:.3f} ({COMPRESSION_SOURCE}); CPU per elevator message"
        f" {INGEST_US_PER_MSG:.1f} µs ingest path + {RULES_US_PER_MSG} µs rules and alerts"
        f" (bench/RESULTS.md ingest and alert_latency sections); {CAMERA_MS_PER_FRAME} ms of"
        f" server CPU per camera frame at {CAMERA_FPS:g} fps (vision-pipeline section, every"
        " frame with activity: the worst case).",
        "",
        "| fleet | msg/s (day mean / busiest hour) | bytes per sample raw / compressed"
        " | disk per day raw / compressed | disk per year | cores (mean / busiest hour) |",
        "|---|---|---|---|---|---|",
    ]
    for row in figures["table"]:
        cam = "cameras" in row["fleet"]
        lines.append(
            f"| {row['fleet']} | {row['msg_s_mean']:,.0f} / {row['msg_s_peak_hour']:,.0f} | "
            + (
                "— (frames not stored) | — | — | "
                if cam
                else f"{row['bytes_per_sample_raw']:.0f} / {row['bytes_per_sample_compressed']:.0f} | "
                f"{_size(row['disk_day_raw'])} / {_size(row['disk_day_compressed'])} | "
                f"{_size(row['disk_year'])} | "
            )
            + f"{row['cores_mean']:,.1f} / {row['cores_peak_hour']:,.1f} |"
        )
    lines += [
        "",
        f"Disk per year: {COMPRESS_AFTER_DAYS} days raw + the rest of the year compressed"
        " (columnstore after 7 days), indexes and the hourly rollup included, no WAL, no"
        " replicas, no backups. Cores: the service and PostgreSQL's CPU per message at the"
        " measured rates (no headroom); cameras: the server-side vision pipeline at 1 fps"
        " (edge inference or motion gating cut it).",
        "<!-- capacity:end -->",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--rate-cars", type=int, default=100, help="elevators simulated")
    parser.add_argument("--store-cars", type=int, default=40, help="of which stored")
    parser.add_argument("--hours", type=int, default=24, help="simulated hours")
    parser.add_argument("--no-results", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bw-bench-capacity-"))
    pg = EmbeddedPostgres(workdir / "pg")
    try:
        pg.start()
        url = pg.create_database("bench")
        migrate(url)
        writer = BatchWriter("capacity")
        topics = TopicCache("bw")
        limits = Limits(max_future=timedelta(days=1), retention=timedelta(days=400))
        with psycopg.connect(url, autocommit=True) as conn:

            def store(batch: list[_Inbound]) -> None:
                classified = classify(batch, topics, limits)
                if classified.dead:
                    raise RuntimeError(f"simulated messages refused: {classified.dead[:1]}")
                for i in range(0, len(classified.samples), 5000):
                    writer.write(conn, classified.samples[i : i + 5000], [], [])

            rates = simulate(args.rate_cars, args.hours, args.store_cars, store)
            refresh_rollups(conn, datetime.now(UTC))
            conn.execute("VACUUM ANALYZE")
            status, stored = _per_row(conn, "elevator_status")
            event, events = _per_row(conn, "elevator_event")
            stats, statss = _per_row(conn, "elevator_stats")
            hourly, _ = _per_row(conn, "elevator_status_hourly")
    finally:
        pg.stop("immediate")
        shutil.rmtree(workdir, ignore_errors=True)
    row = RowBytes(status=status or 0.0, event=event, stats=stats or 0.0, hourly=hourly or 0.0)
    figures: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, CPython {platform.python_version()}",
        "args": {"rate_cars": args.rate_cars, "store_cars": args.store_cars, "hours": args.hours},
        "rates": asdict(rates),
        "row_bytes": asdict(row),
        "stored_rows": stored + events + statss,
        "table": capacity_rows(rates, row),
    }
    (OUT / "capacity.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    text = markdown(figures)
    print(text)
    if not args.no_results:
        write_section("capacity", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
