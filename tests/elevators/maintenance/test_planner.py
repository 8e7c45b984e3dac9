"""The planner against its table (planner_cases.toml): factor values -> score -> interval,
eligibility, overrides, due dates and the tickets a plan asks for."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from brightwatch.elevators.maintenance.planner import (
    DailySeries,
    Fault,
    FleetFigures,
    PlanInputs,
    plan,
)
from brightwatch.elevators.maintenance.settings import MaintenancePolicy, MaintenanceSettings
from brightwatch.elevators.settings import ElevatorSettings

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
TODAY = NOW.date()
TABLE = tomllib.loads((Path(__file__).parent / "planner_cases.toml").read_text())
CASES = TABLE["case"]
# the table's health series keys and the indicator names gather gives them
SERIES = {
    "vibration": "vibration",
    "door_cycles_per_run": "door cycles per run",
    "door_time": "door-cycle time",
}


def _opt(value: Any) -> Any:
    """-1 / "" in the table mean unknown."""
    return None if value in (-1, "") else value


def build(case: dict[str, Any]) -> tuple[PlanInputs, MaintenancePolicy]:
    c = {**TABLE["base"], **case}
    age = _opt(c["age"])
    yesterday = TODAY - timedelta(days=1)
    health: list[DailySeries] = []
    for key, name in SERIES.items():
        if key not in c:
            continue
        recent = c[key]["recent"]
        baseline = c[key]["baseline"]
        first_recent = yesterday - timedelta(days=len(recent) - 1)
        days = [
            (first_recent - timedelta(days=len(baseline) - i), v) for i, v in enumerate(baseline)
        ]
        days += [(first_recent + timedelta(days=i), v) for i, v in enumerate(recent)]
        health.append(DailySeries(name, tuple(days), c[key].get("min_sigma", 0.0)))
    done = {k: NOW - timedelta(days=d) for k, d in c.get("done", {}).items()}
    last = c.get("last_maintenance_days_ago")
    inputs = PlanInputs(
        elevator_id="E1",
        now=NOW,
        install_year=TODAY.year - age if age is not None else None,
        inspection_valid_until=TODAY + timedelta(days=c["inspection_days"])
        if c["inspection_days"] > -10000
        else None,
        firm_id="F1",
        firm_credit_rating=_opt(c["rating"]),
        firm_credit_score=_opt(c["credit"]),
        management_score=_opt(c["management"]),
        online_ratio=_opt(c["online"]),
        offline_since=NOW - timedelta(hours=c["offline_hours"]) if "offline_hours" in c else None,
        faults=tuple(
            Fault(f["code"], f["severity"], NOW - timedelta(days=f["days_ago"]), i)
            for i, f in enumerate(c.get("faults", []), 1)
        ),
        runs_in_fault_window=_opt(c["runs"]),
        runs_per_day=_opt(c["runs_per_day"]),
        health=tuple(health),
        last_maintenance_at=NOW - timedelta(days=last) if last is not None else None,
        last_done=done,
        fleet=FleetFigures(tuple(c["fleet_rates"]), tuple(float(r) for r in c["fleet_runs"])),
    )
    return inputs, MaintenancePolicy.model_validate(c.get("policy", {}))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_planner_table(case: dict[str, Any]) -> None:
    inputs, policy = build(case)
    p = plan(inputs, policy, TODAY)
    want = case.get("expect", {})
    got_x = {f.name: f.value for f in p.factors}
    assert len(p.factors) == 7
    # the score is the sum of the contributions shown, each weight x value
    assert p.risk_score == pytest.approx(sum(f.contribution for f in p.factors), abs=1e-4)
    for f in p.factors:
        assert f.contribution == pytest.approx(f.weight * f.value, abs=1e-4)
        assert f.explain
    if "eligible" in want:
        assert p.eligible is want["eligible"], [c for c in p.eligibility if not c.ok]
    if "score" in want:
        assert p.risk_score == pytest.approx(want["score"], abs=1e-4), got_x
    if "interval" in want:
        assert p.interval_days == want["interval"], p.interval_reason
    if "targeted" in want:
        assert p.targeted_inspection is want["targeted"]
    if "reason_contains" in want:
        assert want["reason_contains"] in p.interval_reason
    if "overrides" in want:
        assert len(p.overrides) == want["overrides"], p.overrides
    if "withdrawn" in want:
        assert p.on_demand["withdrawn"] is want["withdrawn"]
        assert p.on_demand["notify_bureau"] is want["withdrawn"]
    if "next_due" in want:
        assert p.next_due_at == datetime.combine(
            date.fromisoformat(want["next_due"]), datetime.min.time(), UTC
        )
    if "open_now" in want:
        assert sorted([t.type, t.trigger] for t in p.tickets if t.open_from <= NOW) == sorted(
            want["open_now"]
        )
    if "health_worst" in want:
        health = next(f for f in p.factors if f.name == "health trend")
        assert health.explain.startswith(f"worst drift: {want['health_worst']} at"), health
    if "health_explain_contains" in want:
        health = next(f for f in p.factors if f.name == "health trend")
        assert want["health_explain_contains"] in health.explain, health
    if "health_checks" in want:
        assert [
            i["code"] for t in p.tickets if t.trigger == "HEALTH_3SIGMA" for i in t.items
        ] == want["health_checks"]
    for kind, due in want.get("calendar", {}).items():
        assert p.calendar[kind]["due_at"].startswith(due)
    for name, x in case.get("expect_x", {}).items():
        assert got_x[name] == pytest.approx(x, abs=1e-4), name
    if "expect_missing" in case:
        assert sorted(f.name for f in p.factors if f.missing) == sorted(case["expect_missing"])


def test_every_plan_is_stored_with_its_inputs() -> None:
    inputs, policy = build(CASES[1])
    row = plan(inputs, policy, TODAY).as_row(inputs, policy)
    assert row["inputs"]["data"]["elevator_id"] == "E1"
    assert row["inputs"]["policy"]["weight_fault_rate"] == 0.25
    assert {f["name"] for f in row["factors"]} >= {"age", "health trend"}
    assert all({"name", "value", "weight", "inputs"} <= set(f) for f in row["factors"])
    assert all({"check", "value", "required", "ok"} <= set(c) for c in row["eligibility"])


def test_per_elevator_policy_overrides_the_fleet() -> None:
    s = ElevatorSettings.model_validate(
        {"maintenance": {"band_mid_days": 20, "per_elevator": {"E7": {"band_low_days": 25}}}}
    )
    assert s.maintenance.policy_for("E7").band_low_days == 25
    assert s.maintenance.policy_for("E7").band_mid_days == 20  # the fleet default still applies
    assert s.maintenance.policy_for("E8").band_low_days == 30


@pytest.mark.parametrize(
    ("maintenance", "message"),
    [
        ({"weight_age": 0.5}, "add up to 1"),
        (
            {"per_elevator": {"E7": {"interval": 3}}},
            "per_elevator.E7: unknown policy fields interval",
        ),
        ({"per_elevator": {"E7": {"band_low_days": 0}}}, "per_elevator.E7: band_low_days"),
        ({"band_low_below": 0.6}, "band_low_below <= band_mid_below"),
        ({"credit_ratings": ["A", "E"]}, "credit ratings are A, B, C or D"),
    ],
)
def test_wrong_policy_names_the_field(maintenance: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        MaintenanceSettings.model_validate(maintenance)
    assert message in str(exc.value)


def test_the_fewest_baseline_days_cannot_exceed_the_baseline() -> None:
    with pytest.raises(ValidationError, match="health_min_baseline_days"):
        MaintenancePolicy(health_min_baseline_days=10, health_baseline_days=5)
    with pytest.raises(ValidationError, match="health_min_baseline_days"):
        MaintenancePolicy(health_min_baseline_days=2)
    assert MaintenancePolicy(health_min_baseline_days=5, health_baseline_days=5)
