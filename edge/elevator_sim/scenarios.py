"""Scenarios as data: one TOML file per scenario in `scenarios/`.

```toml
description = "A passenger is trapped between floors ..."
lookalike = false            # true: harmless, must raise no fault
duration_s = 420             # simulated time
seed = 11
[car]                        # CarSpec overrides (floors, rated speed, traffic ...)
traffic = 4.0
[[fault]]                    # what to inject, from when on (it waits for its moment)
kind = "stall"
at_s = 60
hold_s = 90
[[expect]]                   # the alerts the rules must raise, from the ground truth
code = "TRAPPED_OUT_ZONE"
severity = "P1"
mark = "stall"               # a mark the fault recorded: the condition's onset
after_s = 30                 # the rule's window: raised at mark + after_s (+ 1 s)
clear_mark = "doors_open"    # optional: cleared then (+ clear_after_s)
```

`to_trace` runs the scenario and writes the messages and the expected alerts as a
trace (`edge.elevator_sim.trace`), which the rule tests replay.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from brightwatch.edge.elevator_sim.faults import FAULTS
from brightwatch.edge.elevator_sim.model import Car, CarSpec, Fault, Outgoing
from brightwatch.edge.elevator_sim.trace import DEFAULT_T0, Expected, Trace, TraceMessage

SCENARIO_DIR = Path(__file__).parent / "scenarios"
_CAR_FIELDS = {f.name for f in fields(CarSpec)} - {"elevator_id"}


class ScenarioError(ValueError):
    """A scenario that does not exist or does not follow the format."""


@dataclass(frozen=True)
class ExpectSpec:
    code: str
    severity: str
    mark: str
    after_s: float = 0.0
    started_mark: str | None = None
    clear_mark: str | None = None
    clear_after_s: float = 0.0
    within_s: float = 1.0


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    lookalike: bool
    duration_s: float
    seed: int
    car: dict[str, Any]
    faults: list[dict[str, Any]]
    expect: list[ExpectSpec] = field(default_factory=list)

    def spec(self, elevator_id: str) -> CarSpec:
        return CarSpec(elevator_id=elevator_id, **self.car)

    def make_faults(self, offset_s: float = 0.0) -> list[Fault]:
        out = []
        for f in self.faults:
            params = {k: v for k, v in f.items() if k not in ("kind", "at_s")}
            out.append(Fault(f["kind"], float(f.get("at_s", 0)) + offset_s, params))
        return out


def list_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def load_scenario(name: str) -> Scenario:
    path = SCENARIO_DIR / f"{name}.toml"
    if not path.is_file():
        raise ScenarioError(f"no scenario {name!r}; choose from {', '.join(list_scenarios())}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path.name}: {exc}") from None
    car = data.get("car", {})
    unknown = set(car) - _CAR_FIELDS
    if unknown:
        raise ScenarioError(f"{path.name}: unknown car fields {', '.join(sorted(unknown))}")
    faults = data.get("fault", [])
    for f in faults:
        if f.get("kind") not in FAULTS:
            raise ScenarioError(f"{path.name}: unknown fault kind {f.get('kind')!r}")
    try:
        expect = [ExpectSpec(**e) for e in data.get("expect", [])]
    except TypeError as exc:
        raise ScenarioError(f"{path.name}: expect: {exc}") from None
    if data.get("lookalike") and any(e.severity != "INFO" for e in expect):
        raise ScenarioError(f"{path.name}: a look-alike may only expect INFO records")
    return Scenario(
        name=name,
        description=str(data.get("description", "")).strip(),
        lookalike=bool(data.get("lookalike", False)),
        duration_s=float(data.get("duration_s", 600)),
        seed=int(data.get("seed", 1)),
        car=car,
        faults=faults,
        expect=expect,
    )


def run_scenario(
    scn: Scenario, elevator_id: str = "E-SIM-1", start_ms: int = DEFAULT_T0
) -> tuple[list[Outgoing], dict[str, float]]:
    car = Car(scn.spec(elevator_id), scn.seed, start_ms, scn.make_faults())
    messages = car.advance(scn.duration_s)
    missing = [f.kind for f in car.faults if not f.started]
    if missing:
        raise ScenarioError(f"{scn.name}: fault(s) {missing} never found their moment")
    return messages, car.marks


def expected_alerts(scn: Scenario, marks: dict[str, float]) -> list[Expected]:
    out = []
    for e in scn.expect:
        for name in (e.mark, e.started_mark, e.clear_mark):
            if name is not None and name not in marks:
                raise ScenarioError(f"{scn.name}: the fault recorded no mark {name!r}")
        out.append(
            Expected(
                code=e.code,
                severity=e.severity,
                raise_at=round(marks[e.mark] + e.after_s, 3),
                within=e.within_s,
                started=round(marks[e.started_mark or e.mark], 3),
                clear=(round(marks[e.clear_mark] + e.clear_after_s, 3) if e.clear_mark else None),
            )
        )
    return out


def to_trace(scn: Scenario, elevator_id: str = "E-SIM-1", start_ms: int = DEFAULT_T0) -> Trace:
    messages, marks = run_scenario(scn, elevator_id, start_ms)
    return Trace(
        scenario=f"sim_{scn.name}",
        description=scn.description,
        elevator=elevator_id,
        t0=start_ms,
        thresholds=scn.spec(elevator_id).thresholds(),
        expect=expected_alerts(scn, marks),
        messages=[TraceMessage((m.ts - start_ms) / 1000, m.channel, m.payload) for m in messages],
        lookalike=scn.lookalike,
        source="simulator",
        covers=sorted({e.code for e in scn.expect}),
    )
