"""Elevator statistics: random raw rows (tickets, alerts, run counters), the figures from
SQL (`/api/v1/stats/elevators`) against the same figures recomputed here in Python."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient

from brightwatch.alerts.stats.elevators import FAULT_CODES
from brightwatch.api.app import create_app
from brightwatch.db.timeseries import ensure_partitions
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=10)
SLA = timedelta(minutes=30)
ELEVATORS = {f"E{i}": (f"D{i % 3}", f"F{i % 2}") for i in range(8)}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(
        create_app(build_runtime(settings, lambda: NOW)), raise_server_exceptions=False
    ) as c:
        yield c


@pytest.fixture
def raw(db_url: str) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(5)
    tickets: list[dict[str, Any]] = []
    faults: list[dict[str, Any]] = []
    counters: list[dict[str, Any]] = []
    with psycopg.connect(db_url) as conn:
        conn.execute("INSERT INTO firm (firm_id) VALUES ('F0'), ('F1'), ('F2')")
        for eid, (district, firm) in ELEVATORS.items():
            conn.execute(
                "INSERT INTO elevator (elevator_id, firm_id, district) VALUES (%s, %s, %s)",
                (eid, firm, district),
            )
        ensure_partitions(conn, [(SINCE + timedelta(days=d)).date() for d in range(-3, 12)])
        for n in range(60):
            eid = rng.choice(list(ELEVATORS))
            district, firm = ELEVATORS[eid]
            firm = rng.choice([firm, "F2"])  # reassigned sometimes: the ticket's firm counts
            confirmed = SINCE + timedelta(minutes=rng.randrange(-2000, 15000))
            arrived = (
                confirmed + timedelta(minutes=rng.uniform(3, 60)) if rng.random() < 0.85 else None
            )
            if arrived is not None and arrived > NOW:
                arrived = None
            state = rng.choice(["completed", "arrived", "false_alarm", "accepted"])
            if arrived is None and state in ("completed", "arrived"):
                state = "accepted"
            row = dict(
                type="rescue",
                state=state,
                elevator_id=eid,
                firm_id=firm,
                district=district,
                trigger=f"TRAPPED_OUT_ZONE.{n}",
                confirmed_at=confirmed,
                arrived_at=arrived,
                due_at=None,
                completed_at=None,
            )
            tickets.append(row)
        open_pairs: set[tuple[str, str]] = set()
        for _n in range(40):
            eid = rng.choice(list(ELEVATORS))
            district, firm = ELEVATORS[eid]
            due = SINCE + timedelta(hours=rng.randrange(-48, 300))
            completed = due + timedelta(hours=rng.uniform(-60, 30)) if rng.random() < 0.7 else None
            if completed is not None and completed > NOW:
                completed = None
            kind = rng.choice(["on_demand", "quarterly", "yearly"])
            state = "completed" if completed else rng.choice(["dispatched", "cancelled"])
            if state == "dispatched" and (eid, kind) in open_pairs:
                state = "cancelled"  # one open maintenance ticket per elevator and type
            open_pairs.add((eid, kind))
            row = dict(
                type=kind,
                state=state,
                elevator_id=eid,
                firm_id=firm,
                district=district,
                trigger="DUE_DATE",
                confirmed_at=None,
                arrived_at=None,
                due_at=due,
                completed_at=completed,
            )
            tickets.append(row)
        for row in tickets:
            conn.execute(
                "INSERT INTO ticket (type, state, elevator_id, firm_id, district, trigger,"
                " confirmed_at, arrived_at, due_at, completed_at, created_at, updated_at)"
                " VALUES (%(type)s, %(state)s, %(elevator_id)s, %(firm_id)s, %(district)s,"
                " %(trigger)s, %(confirmed_at)s, %(arrived_at)s, %(due_at)s, %(completed_at)s,"
                " now(), now())",
                row,
            )
        codes = [*FAULT_CODES, "DOOR_CYCLING", "OFFLINE", "TICKET_SLA_BREACH"]
        for n in range(120):
            eid = rng.choice(list(ELEVATORS))
            code = rng.choice(codes)
            sev = {"DOOR_CYCLING": "P3", "OFFLINE": "P3"}.get(code, rng.choice(["P1", "P2"]))
            started = SINCE + timedelta(minutes=rng.randrange(-3000, 15000))
            faults.append(dict(elevator_id=eid, code=code, severity=sev, started_at=started))
            conn.execute(
                "INSERT INTO alert (kind, code, severity, state, device_id, fingerprint,"
                " started_at, updated_at, last_raised_at) VALUES ('elevator', %s, %s, 'resolved',"
                " %s, %s, %s, %s, %s)",
                (code, sev, eid, f"fp{n}", started, started, started),
            )
        for eid in ELEVATORS:
            count = rng.randrange(1000, 100000)
            for k in range(rng.randrange(0, 12)):
                ts = SINCE + timedelta(days=rng.uniform(-2, 10.5))
                count += rng.randrange(0, 400)
                counters.append(dict(elevator_id=eid, ts=ts, seq=k, run_count=count))
        for c in counters:
            conn.execute(
                "INSERT INTO elevator_stats (elevator_id, ts, seq, run_count, received_at)"
                " VALUES (%(elevator_id)s, %(ts)s, %(seq)s, %(run_count)s, %(ts)s)",
                c,
            )
    return {"tickets": tickets, "faults": faults, "counters": counters}


def recompute(raw: dict[str, list[dict[str, Any]]], level: str) -> dict[Any, dict[str, Any]]:
    def tkey(t: dict[str, Any]) -> Any:
        return {
            "elevator": t["elevator_id"],
            "district": t["district"],
            "firm": t["firm_id"],
            "city": "city",
        }[level]

    def ekey(eid: str) -> Any:
        district, firm = ELEVATORS[eid]
        return {"elevator": eid, "district": district, "firm": firm, "city": "city"}[level]

    out: dict[Any, dict[str, Any]] = defaultdict(dict)
    rescues = [
        t
        for t in raw["tickets"]
        if t["type"] == "rescue"
        and SINCE <= t["confirmed_at"] < NOW
        and t["state"] not in ("false_alarm", "cancelled")
    ]
    for key in {tkey(t) for t in rescues}:
        mine = [t for t in rescues if tkey(t) == key]
        minutes = [
            (t["arrived_at"] - t["confirmed_at"]).total_seconds() / 60
            for t in mine
            if t["arrived_at"]
        ]
        due = [t for t in mine if t["arrived_at"] or t["confirmed_at"] + SLA <= NOW]
        within = [t for t in mine if t["arrived_at"] and t["arrived_at"] <= t["confirmed_at"] + SLA]
        out[key].update(
            rescues=len(mine),
            median=float(np.percentile(minutes, 50)) if minutes else None,
            p90=float(np.percentile(minutes, 90)) if minutes else None,
            within=len(within) / len(due) if due else None,
        )
    upkeep = [
        t
        for t in raw["tickets"]
        if t["type"] != "rescue"
        and SINCE <= t["due_at"] < NOW
        and t["state"] != "cancelled"
        and (t["due_at"] <= NOW or t["completed_at"])
    ]
    for key in {tkey(t) for t in upkeep}:
        mine = [t for t in upkeep if tkey(t) == key]
        on_time = [t for t in mine if t["completed_at"] and t["completed_at"] <= t["due_at"]]
        out[key]["on_time"] = len(on_time) / len(mine)
    faults: dict[Any, int] = defaultdict(int)
    for f in raw["faults"]:
        if (
            f["code"] in FAULT_CODES
            and f["severity"] in ("P1", "P2")
            and SINCE <= f["started_at"] < NOW
        ):
            faults[ekey(f["elevator_id"])] += 1
    runs: dict[Any, int] = defaultdict(int)
    for eid in ELEVATORS:
        mine = sorted(
            (c for c in raw["counters"] if c["elevator_id"] == eid), key=lambda c: c["ts"]
        )
        inside = [c for c in mine if SINCE <= c["ts"] < NOW]
        before = [c for c in mine if c["ts"] < SINCE]
        if not inside:
            continue
        base = before[-1]["run_count"] if before else inside[0]["run_count"]
        runs[ekey(eid)] += max(0, inside[-1]["run_count"] - base)
    for key in set(faults) | set(runs):
        out[key]["faults"] = faults.get(key, 0)
        out[key]["runs"] = runs.get(key, 0)
        out[key]["per_1000"] = faults.get(key, 0) * 1000 / runs[key] if runs.get(key) else None
    return out


def close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-6)


@pytest.mark.parametrize("level", ["elevator", "district", "firm", "city"])
def test_sql_figures_match_an_independent_recomputation(
    raw: dict[str, list[dict[str, Any]]],
    client: TestClient,
    make_token,
    level: str,  # type: ignore[no-untyped-def]
) -> None:
    sup = make_token("supervisor")
    r = client.get(
        "/api/v1/stats/elevators",
        params={"level": level, "since": SINCE.isoformat(), "until": NOW.isoformat()},
        headers=sup,
    )
    assert r.status_code == 200, r.text
    name = {"elevator": "elevator_id", "district": "district", "firm": "firm_id", "city": None}[
        level
    ]
    got = {(i[name] if name else "city"): i for i in r.json()["items"]}
    want = recompute(raw, level)
    assert set(got) == set(want)
    checked = 0
    for key, w in want.items():
        g = got[key]
        if "rescues" in w:
            assert g["rescues"] == w["rescues"]
            assert close(g["arrival_median_min"], w["median"]), key
            assert close(g["arrival_p90_min"], w["p90"]), key
            assert close(g["within_sla"], w["within"]), key
            checked += 1
        if "on_time" in w:
            assert close(g["maintenance_on_time_rate"], w["on_time"]), key
        if "runs" in w:
            assert (g["faults"], g["runs"]) == (w["faults"], w["runs"]), key
            assert close(g["faults_per_1000_runs"], w["per_1000"]), key
    assert checked >= 1


def test_firm_sees_only_its_own(
    raw: dict[str, list[dict[str, Any]]],
    client: TestClient,
    make_token,  # type: ignore[no-untyped-def]
) -> None:
    f1 = make_token("firm", firm_id="F1")
    params = {"level": "firm", "since": SINCE.isoformat(), "until": NOW.isoformat()}
    items = client.get("/api/v1/stats/elevators", params=params, headers=f1).json()["items"]
    assert [i["firm_id"] for i in items] == ["F1"]
    other = client.get("/api/v1/stats/elevators", params={**params, "firm_id": "F0"}, headers=f1)
    assert other.status_code == 404
    op = make_token("operator", site_id="S1")
    assert client.get("/api/v1/stats/elevators", headers=op).status_code == 404
