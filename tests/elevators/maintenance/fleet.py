"""A small registered fleet with run counters, presence and status samples, for the
planner's database tests (scheduler, API)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from brightwatch.edge.elevator_sim.model import Car, fleet_spec
from brightwatch.registry import store
from brightwatch.registry.models import ElevatorRecord, FirmRecord, SiteRecord

NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # before the daily pass hour (02:00)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def ensure_partitions(conn: psycopg.Connection[Any], since: date, until: date) -> None:
    """Daily partitions of the telemetry tables (native flavour) for the days a test writes."""
    if conn.execute("SELECT to_regproc('bw_ensure_daily_partitions') IS NOT NULL").fetchone()[0]:  # type: ignore[index]
        for t in ("elevator_status", "elevator_stats", "elevator_event"):
            conn.execute("SELECT bw_ensure_daily_partitions(%s, %s, %s)", (t, since, until))


def register(conn: psycopg.Connection[Any]) -> None:
    store.upsert_firm(conn, "FA", FirmRecord(name="Firm A", credit_rating="A", credit_score=90))
    store.upsert_firm(conn, "FC", FirmRecord(name="Firm C", credit_rating="C", credit_score=40))
    store.upsert_site(conn, "B1", SiteRecord(kind="building", name="Tower", management_score=80))
    valid = date(2027, 6, 30)
    for elevator_id, firm, year in (("EA1", "FA", 2016), ("EA2", "FA", 2024), ("EC1", "FC", 2003)):
        store.upsert_elevator(
            conn,
            elevator_id,
            ElevatorRecord(
                firm_id=firm,
                site_id="B1",
                address=f"{elevator_id} Tower Road",
                install_year=year,
                inspection_valid_until=valid,
            ),
        )
        conn.execute(
            "INSERT INTO device_presence (device_kind, device_key, device_id, site_id, availability,"
            " availability_at, last_seen) VALUES ('elevator', %s, %s, 'B1', 'online', %s, %s)",
            (elevator_id, elevator_id, NOW, NOW),
        )


def add_run_counters(
    conn: psycopg.Connection[Any],
    runs_per_day: dict[str, int],
    days: int = 95,
    reopens_from: dict[str, date] | None = None,
) -> None:
    """One counter message a day: runs at the given rate, two door cycles a run (three
    from `reopens_from` on: doors re-opening)."""
    start = NOW - timedelta(days=days)
    ensure_partitions(conn, start.date(), NOW.date() + timedelta(days=400))
    for elevator_id, per_day in runs_per_day.items():
        cycles = 200_000
        worse = (reopens_from or {}).get(elevator_id)
        for d in range(days + 1):
            ts = start + timedelta(days=d)
            if d:
                cycles += per_day * (3 if worse and ts.date() >= worse else 2)
            conn.execute(
                "INSERT INTO elevator_stats (elevator_id, ts, seq, received_at, run_count,"
                " door_cycles) VALUES (%s, %s, %s, %s, %s, %s)",
                (elevator_id, ts, d, ts, 100_000 + per_day * d, cycles),
            )


def add_simulated_status(
    conn: psycopg.Connection[Any],
    elevator_id: str,
    index: int,
    days: int,
    shocks_from: date | None = None,
    slow_doors_from: date | None = None,
    slower_ms: int = 2000,
) -> int:
    """One simulated hour of the elevator simulator's status samples, replayed on each of
    the last `days` days; from `shocks_from` on, every 15th running sample carries a knock
    (a worn roller), which the vibration indicator must see; from `slow_doors_from` on,
    every door cycle closes `slower_ms` later (a worn door operator; the same samples
    otherwise, so the vibration indicator does not move), which the door-cycle time
    indicator must see."""
    ensure_partitions(conn, NOW.date() - timedelta(days=days), NOW.date() + timedelta(days=400))
    car = Car(fleet_spec(elevator_id, index, seed=7), seed=index, start_ms=0)
    hour = [m for m in car.advance(3600.0) if m.channel == "status"]
    rng = random.Random(index)
    rows = 0
    for d in range(days, 0, -1):
        day = NOW.date() - timedelta(days=d)
        base = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY elevator_status (elevator_id, ts, seq, received_at, service_mode, run_state,"
                " floor, door_zone, door_state, has_person, speed, vibration_rms) FROM STDIN"
            ) as copy,
        ):
            shift = 0
            previous_door = "closed"
            for i, m in enumerate(hour):
                p = m.payload
                assert isinstance(p, dict)
                if (
                    slow_doors_from is not None
                    and day >= slow_doors_from
                    and p["door_state"] == "closed"
                    and previous_door != "closed"
                ):
                    shift += slower_ms
                previous_door = p["door_state"]
                ts = base + timedelta(milliseconds=m.ts + shift)
                vib = p["vibration_rms"]
                if (
                    shocks_from is not None
                    and day >= shocks_from
                    and p["run_state"] == "running"
                    and i % 15 == 0
                ):
                    vib = round(vib + 1.5 + rng.random(), 3)
                copy.write_row(
                    (
                        elevator_id,
                        ts,
                        i,
                        ts,
                        p["service_mode"],
                        p["run_state"],
                        p["floor"],
                        p["door_zone"],
                        p["door_state"],
                        p["has_person"],
                        p["speed"],
                        vib,
                    )
                )
                rows += 1
    return rows
