"""GET /api/v1/elevators/{id} and the console's elevator page show the maintenance plan,
explained, for simulated elevators (status samples from the elevator simulator, run
counters, faults through the alert store) after the scheduler's daily pass."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import psycopg
from fastapi.testclient import TestClient

from brightwatch.elevators.maintenance.scheduler import MaintenanceScheduler
from brightwatch.elevators.maintenance.settings import MaintenanceSettings
from brightwatch.settings import Settings
from brightwatch.wiring import build_alert_store, build_ticket_desk
from tests.elevators.maintenance.fleet import (
    NOW,
    Clock,
    add_run_counters,
    add_simulated_status,
    register,
)

MakeToken = Callable[..., dict[str, str]]
FACTORS = [
    "age",
    "fault rate",
    "trapped faults",
    "usage",
    "health trend",
    "firm",
    "user unit management",
]


def compute_plans(settings: Settings) -> None:
    url = settings.database_url.get_secret_value()
    with psycopg.connect(url, autocommit=True) as conn:
        register(conn)
        add_run_counters(conn, {"EA1": 150, "EA2": 400, "EC1": 80})
        assert add_simulated_status(conn, "EA1", 1, days=30) > 0
        add_simulated_status(conn, "EA2", 2, days=30, shocks_from=NOW.date() - timedelta(days=4))
        clock = Clock(NOW.replace(hour=2, minute=30))
        desk = build_ticket_desk(settings, build_alert_store(settings, clock), clock)
        MaintenanceScheduler(
            MaintenanceSettings(), clock, open_ticket=desk.open_maintenance
        ).run_once(conn)


def test_elevator_detail_explains_the_plan(
    client: TestClient, settings: Settings, make_token: MakeToken
) -> None:
    compute_plans(settings)
    admin = make_token("admin")

    ea1 = client.get("/api/v1/elevators/EA1", headers=admin).json()["maintenance"]
    plan = ea1["plan"]
    assert plan["reason"] == "daily" and plan["eligible"] is True
    assert [f["factor"] for f in plan["factors"]] == FACTORS
    assert abs(sum(f["contribution"] for f in plan["factors"]) - plan["risk_score"]) < 1e-3
    assert all(f["explain"] and "inputs" in f for f in plan["factors"])
    # the healthy simulated car: its vibration stays on its baseline
    health = next(f for f in plan["factors"] if f["factor"] == "health trend")
    assert health["missing"] is False and health["x"] == 0.0
    assert health["inputs"]["indicators"][0]["indicator"] == "vibration"
    # each indicator explained against its own baseline, door-cycle time included (the
    # simulated car's median door cycle, ~10.5 s), and its daily values in the inputs
    doors = next(i for i in health["inputs"]["indicators"] if i["indicator"] == "door-cycle time")
    assert 9 < doors["baseline_mean"] < 12 and doors["z"] == 0.0 and doors["baseline_days"] >= 3
    series = {s["name"]: s for s in plan["inputs"]["health"]}
    assert (
        len(series["door-cycle time"]["days"]) == 30
        and series["door-cycle time"]["min_sigma"] == 0.5
    )
    assert plan["interval_days"] in (30, 21) and plan["interval_reason"].startswith("R ")
    assert plan["next_due_at"].startswith(
        (NOW.date() + timedelta(days=plan["interval_days"])).isoformat()
    )
    assert {c["check"] for c in plan["eligibility"]} >= {"firm credit rating"}
    assert set(plan["calendar"]) == {"quarterly", "half_yearly", "yearly"}
    assert plan["inputs"]["install_year"] == 2016
    assert [h["reason"] for h in ea1["history"]] == ["daily"]

    # knocks in the last days: the health trend is at its top and a visit is asked for now
    ea2 = client.get("/api/v1/elevators/EA2", headers=admin).json()["maintenance"]["plan"]
    health = next(f for f in ea2["factors"] if f["factor"] == "health trend")
    assert health["x"] == 1.0, health
    assert ["on_demand", "HEALTH_3SIGMA"] in [
        [t["type"], t["trigger"]] for t in ea2["tickets_requested"]
    ]
    assert ea2["risk_score"] > plan["risk_score"]

    # a firm rated C: not eligible, the statutory round
    ec1 = client.get("/api/v1/elevators/EC1", headers=admin).json()["maintenance"]["plan"]
    assert ec1["eligible"] is False and ec1["interval_days"] == 15
    assert "firm credit rating" in ec1["interval_reason"]


def test_firm_sees_its_own_plans_only(
    client: TestClient, settings: Settings, make_token: MakeToken
) -> None:
    compute_plans(settings)
    fa = make_token("firm", firm_id="FA")
    assert client.get("/api/v1/elevators/EA1", headers=fa).json()["maintenance"]["plan"]
    assert client.get("/api/v1/elevators/EC1", headers=fa).status_code == 404


def test_elevator_without_a_plan_says_so(
    client: TestClient, settings: Settings, make_token: MakeToken
) -> None:
    with psycopg.connect(settings.database_url.get_secret_value()) as conn:
        register(conn)
    body = client.get("/api/v1/elevators/EA1", headers=make_token("admin")).json()
    assert body["maintenance"] == {"plan": None, "on_demand": None, "history": []}


def test_console_elevator_page_explains_the_plan(
    client: TestClient, settings: Settings, make_token: MakeToken
) -> None:
    compute_plans(settings)
    page = client.get("/console/views/elevators/EA2?lang=en", headers=make_token("supervisor"))
    assert page.status_code == 200
    text = page.text
    assert "Why: risk factors" in text and "health trend" in text
    assert "On-demand eligibility" in text and "firm credit rating" in text
    assert "Interval over time" in text and "No maintenance plan" not in text
