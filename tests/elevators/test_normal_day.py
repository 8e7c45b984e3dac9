"""24 hours of simulated normal traffic for 100 elevators raise no fault alert.

The simulator's cars (buildings of 6 to 33 floors, day/night traffic, door re-openings,
idle nights) run a whole day faster than real time, every message goes through the pure
engine, and nothing may be raised: a rule that fires on normal service is a false alarm
a firm would be dispatched for. Two processes share the work (the cars are independent),
started fresh (`spawn`): a forked copy of the test process inherits the locks its other
threads (an MQTT client, an event loop) held at that instant: after a run of the alert,
API and web tests both forked workers hung for minutes, idle inside the simulator.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import msgspec
import pytest

from brightwatch.contract.payloads import ElevatorEvent, ElevatorStats, ElevatorStatus
from brightwatch.edge.elevator_sim.model import Car, fleet_spec
from brightwatch.edge.elevator_sim.trace import DEFAULT_T0
from brightwatch.elevators.config import RuleConfig
from brightwatch.elevators.engine import new_state, step
from brightwatch.elevators.inputs import AvailabilityIn, EventIn, Message, StatsIn, StatusIn
from brightwatch.elevators.settings import Thresholds

ELEVATORS = 100
HOURS = 24
START_MS = DEFAULT_T0 - 8 * 3600 * 1000  # 00:26 local time: a whole day from night to night


def _engine_message(channel: str, payload: dict | str, ts: int) -> Message:
    if isinstance(payload, str):
        return AvailabilityIn(ts, payload == "online")
    if channel == "status":
        return StatusIn(ts, payload["seq"], msgspec.convert(payload, ElevatorStatus))
    if channel == "stats":
        return StatsIn(ts, payload["seq"], msgspec.convert(payload, ElevatorStats))
    return EventIn(ts, payload["seq"], msgspec.convert(payload, ElevatorEvent))


def run_cars(indexes: list[int]) -> tuple[int, Counter[str], list[str]]:
    messages = 0
    runs: Counter[str] = Counter()
    raised: list[str] = []
    for i in indexes:
        spec = fleet_spec(f"E-DAY-{i:03d}", i)
        cfg = RuleConfig.build(Thresholds.model_validate(spec.thresholds()))
        car = Car(spec, seed=i, start_ms=START_MS)
        state = new_state()
        start_runs = car.run_count
        for m in car.advance(HOURS * 3600):
            state, events = step(state, _engine_message(m.channel, m.payload, m.ts), cfg)
            raised += [
                f"{spec.elevator_id} {e.code} {e.severity} at {(e.confirmed_at - START_MS) / 1000:.0f} s: {e.details.get('rule')}"
                for e in events
                if e.active
            ]
            messages += 1
        runs["runs"] += car.run_count - start_runs
        runs["gaps"] += state.gaps
    return messages, runs, raised


@pytest.mark.slow
def test_a_day_of_normal_traffic_raises_nothing() -> None:
    chunks = [list(range(k, ELEVATORS, 2)) for k in range(2)]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(run_cars, chunks))
    messages = sum(r[0] for r in results)
    runs = sum((r[1] for r in results), Counter())
    raised = [line for r in results for line in r[2]]
    assert not raised, f"{len(raised)} alerts on normal traffic, first: {raised[:5]}"
    assert runs["gaps"] == 0
    # the traffic is the real thing: a busy day of trips, not an idle fleet
    assert runs["runs"] > ELEVATORS * 200, runs
    assert messages > ELEVATORS * 5000, messages
