"""The door-cycle time indicator on synthetic status sample sequences and on the
elevator simulator (a slower door operator must show)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from brightwatch.edge.elevator_sim.model import Car, fleet_spec
from brightwatch.elevators.maintenance.doors import (
    MIN_CYCLES,
    DoorSample,
    door_cycle_time_indicator,
    door_cycles,
)


def cycle(
    t0: float,
    opening: float = 2.5,
    dwell: float = 4.0,
    closing: float = 3.0,
    mode: str = "normal",
    idle_after: float = 30.0,
) -> list[DoorSample]:
    """One door cycle starting at t0 from a closed, stopped car: samples on each change,
    then the car runs to the next floor."""
    t1, t2, t3 = t0 + opening, t0 + opening + dwell, t0 + opening + dwell + closing
    return [
        DoorSample(t0, mode, "stopped", "opening"),
        DoorSample(t1, mode, "stopped", "open"),
        DoorSample(t2, mode, "stopped", "closing"),
        DoorSample(t3, mode, "stopped", "closed"),
        DoorSample(t3 + 1.0, mode, "running", "closed"),
        DoorSample(t3 + idle_after, mode, "stopped", "closed"),
    ]


def day(*cycles: list[DoorSample]) -> list[DoorSample]:
    return [DoorSample(0.0, "normal", "stopped", "closed")] + [s for c in cycles for s in c]


def test_normal_cycles_are_timed_from_leaving_closed_to_closed() -> None:
    samples = day(*(cycle(100.0 * i, dwell=3.0 + i) for i in range(1, 8)))
    assert door_cycles(samples) == pytest.approx([8.5 + i for i in range(1, 8)])
    assert door_cycle_time_indicator(samples) == pytest.approx(12.5)  # the median


def test_a_re_opened_door_is_one_longer_cycle() -> None:
    reopen = [
        DoorSample(100.0, "normal", "stopped", "opening"),
        DoorSample(102.5, "normal", "stopped", "open"),
        DoorSample(106.0, "normal", "stopped", "closing"),
        DoorSample(107.0, "normal", "stopped", "opening"),  # someone steps in
        DoorSample(108.0, "normal", "stopped", "open"),
        DoorSample(110.0, "normal", "stopped", "closing"),
        DoorSample(113.0, "normal", "stopped", "closed"),
    ]
    assert door_cycles(day(reopen)) == [13.0]


def test_held_doors_are_dropped_not_clipped() -> None:
    normal = [cycle(200.0 * i) for i in range(1, 6)]  # 9.5 s each
    held = [cycle(200.0 * i, dwell=150.0) for i in range(6, 14)]  # 155.5 s: someone holds it
    samples = day(*normal, *held)
    assert door_cycles(samples) == pytest.approx([9.5] * 5)
    assert door_cycle_time_indicator(samples) == pytest.approx(9.5)
    # clipped at 120 s, the eight held doors would have made the median 120 s
    assert door_cycle_time_indicator(samples, max_cycle_s=200.0) == pytest.approx(155.5)


def test_cycles_outside_normal_service_are_ignored() -> None:
    normal = [cycle(100.0 * i) for i in range(1, 6)]
    tests = [cycle(100.0 * i, opening=8.0, closing=9.0, mode="inspection") for i in range(6, 20)]
    fire = [cycle(100.0 * i, dwell=40.0, mode="fire_return") for i in range(20, 25)]
    assert door_cycle_time_indicator(day(*normal, *tests, *fire)) == pytest.approx(9.5)
    # a cycle during which the car is switched to inspection does not count either
    switched = cycle(3000.0)
    switched[2] = switched[2]._replace(service_mode="inspection")
    assert door_cycles(day(switched)) == []


def test_missing_samples_do_not_make_cycles_up() -> None:
    # the day starts with the door open: the cycle's start is unknown
    starts_open = [DoorSample(0.0, "normal", "stopped", "open")] + cycle(100.0)[2:]
    assert door_cycles(starts_open) == []
    # the `opening` sample was lost: first seen `open`, the start is later than it was
    lost_start = cycle(100.0)[1:]
    assert door_cycles(day(lost_start)) == []
    # the `closed` sample was lost: first seen closed while running, the end is unknown
    lost_end = [
        s
        for s in cycle(100.0)
        if not (s.door_state == "closed" and s.run_state == "stopped" and s.ts < 115)
    ]
    assert door_cycles(day(lost_end)) == []
    # a lost `closing` sample does not matter: both ends were seen
    lost_closing = [s for s in cycle(100.0) if s.door_state != "closing"]
    assert door_cycles(day(lost_closing)) == [9.5]
    # the day ends with the door open: no end, no cycle
    assert door_cycles(day(cycle(100.0)[:2])) == []
    # out of order on arrival is the caller's to sort; an empty day has no value
    assert door_cycle_time_indicator([]) is None


def test_too_few_cycles_give_no_value() -> None:
    few = day(*(cycle(100.0 * i) for i in range(1, MIN_CYCLES)))
    assert len(door_cycles(few)) == MIN_CYCLES - 1
    assert door_cycle_time_indicator(few) is None


def _simulated_day(open_s: float, close_s: float, seed: int) -> float | None:
    spec = replace(fleet_spec("E1", 1, seed=7), door_open_s=open_s, door_close_s=close_s)
    car = Car(spec, seed=seed, start_ms=0)
    samples = [
        DoorSample(m.ts / 1000, p["service_mode"], p["run_state"], p["door_state"])
        for m in car.advance(3600.0)
        if m.channel == "status" and isinstance(p := m.payload, dict)
    ]
    return door_cycle_time_indicator(samples)


def test_a_slower_door_operator_shows_on_the_simulator() -> None:
    healthy = [_simulated_day(2.5, 3.0, seed) for seed in range(4)]
    slow = [_simulated_day(3.5, 4.2, seed) for seed in range(4)]
    assert all(v is not None for v in healthy + slow)
    h = [v for v in healthy if v is not None]
    s = [v for v in slow if v is not None]
    # passengers make the cycle ~10 s; day to day it moves by well under a second
    assert min(h) > 8 and max(h) - min(h) < 1.0
    # 1 s slower opening and 1.2 s slower closing: about 2 s longer cycles, every day
    assert min(s) - max(h) > 1.0
