"""Cost of the maintenance planner's daily pass per elevator.

A private PostgreSQL; N registered elevators with hourly run/door counters over 95 days
and, for the last D days, the elevator simulator's status samples (one simulated hour of
traffic, ~850 samples of which ~420 running, replayed each day). Timed: the first pass
(every day's vibration and door-cycle time indicators read from raw samples) and the next
day's pass (earlier days taken from the previous plan). Prints ms per elevator and the hours a 200,000-elevator
city would take at that rate on one scheduler.

    python -m bench.maintenance_pass [--elevators 40] [--days 14]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from brightwatch.db.migrate import migrate
from brightwatch.db.timeseries import ensure_partitions
from brightwatch.edge.elevator_sim.model import Car, fleet_spec
from brightwatch.elevators.maintenance.scheduler import MaintenanceScheduler
from brightwatch.elevators.maintenance.settings import MaintenanceSettings
from brightwatch.embedded import EmbeddedPostgres
from brightwatch.settings import Settings
from brightwatch.wiring import build_alert_store, build_ticket_desk

NOW = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def generate(conn: psycopg.Connection[Any], n: int, days: int) -> int:
    start = NOW - timedelta(days=95)
    last = NOW.date() + timedelta(days=3)
    ensure_partitions(
        conn, (start.date() + timedelta(days=i) for i in range((last - start.date()).days + 1))
    )
    conn.execute("INSERT INTO firm (firm_id, credit_rating, credit_score) VALUES ('F1', 'A', 90)")
    rows = 0
    for i in range(n):
        eid = f"E{i:05d}"
        conn.execute(
            "INSERT INTO elevator (elevator_id, firm_id, install_year, inspection_valid_until)"
            " VALUES (%s, 'F1', %s, '2027-12-31')",
            (eid, 2000 + i % 25),
        )
        conn.execute(
            "INSERT INTO device_presence (device_kind, device_key, device_id, last_seen)"
            " VALUES ('elevator', %s, %s, %s)",
            (eid, eid, NOW),
        )
        per_hour = 5 + i % 20
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY elevator_stats (elevator_id, ts, seq, received_at, run_count, door_cycles)"
                " FROM STDIN"
            ) as copy,
        ):
            for h in range(95 * 24):
                ts = start + timedelta(hours=h)
                copy.write_row((eid, ts, h, ts, 10_000 + per_hour * h, 20_000 + 2 * per_hour * h))
        car = Car(fleet_spec(eid, i, seed=3), seed=i, start_ms=0)
        hour = [m for m in car.advance(3600.0) if m.channel == "status"]
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY elevator_status (elevator_id, ts, seq, received_at, service_mode, run_state,"
                " floor, door_zone, door_state, has_person, speed, vibration_rms) FROM STDIN"
            ) as copy,
        ):
            for d in range(days, 0, -1):
                base = datetime.combine(NOW.date() - timedelta(days=d), datetime.min.time(), UTC)
                for k, m in enumerate(hour):
                    p = m.payload
                    assert isinstance(p, dict)
                    ts = base + timedelta(hours=9, milliseconds=m.ts)
                    copy.write_row(
                        (eid, ts, k, ts, p["service_mode"], p["run_state"], p["floor"],
                         p["door_zone"], p["door_state"], p["has_person"], p["speed"],
                         p["vibration_rms"])
                    )  # fmt: skip
                    rows += 1
    conn.execute("ANALYZE")
    return rows


def timed_pass(s: MaintenanceScheduler, conn: psycopg.Connection[Any], n: int) -> float:
    t = time.perf_counter()
    done = 0
    while done < n:
        r = s.run_once(conn)
        if not r.computed:
            break
        done += len(r.computed)
    assert done == n, done
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elevators", type=int, default=40)
    ap.add_argument("--days", type=int, default=14)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bw-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg")
        pg.start()
        try:
            url = pg.create_database("bench")
            migrate(url)
            with psycopg.connect(url, autocommit=True) as conn:
                rows = generate(conn, args.elevators, args.days)
                clock = Clock(NOW)
                settings = Settings(database_url=url, data_dir=Path(tmp) / "data")
                alerts = build_alert_store(settings, clock)
                s = MaintenanceScheduler(
                    MaintenanceSettings(),
                    clock,
                    open_ticket=build_ticket_desk(settings, alerts, clock).open_maintenance,
                    batch=args.elevators,
                )
                first = timed_pass(s, conn, args.elevators)
                clock.at += timedelta(days=1)
                second = timed_pass(s, conn, args.elevators)
        finally:
            pg.stop("fast")
    n = args.elevators
    print(f"{n} elevators, {rows:,} status samples over {args.days} days, counters over 95 days")
    for label, secs in (
        ("first pass (all days from raw samples)", first),
        ("next day's pass", second),
    ):
        per = 1000 * secs / n
        print(
            f"{label:40s} {secs:6.2f} s  {per:6.1f} ms/elevator"
            f"  -> 200,000 elevators: {200_000 * per / 3_600_000:.1f} h on one scheduler"
        )


if __name__ == "__main__":
    main()
