"""The demo's elevator scenarios, acted out by a simulated car through its mailbox and
replayed through the fault rules: each raises the fault it is named for, soon enough for
a demo (the trapped passenger within 30 s of the request)."""

from __future__ import annotations

import msgspec
import pytest

from brightwatch.edge.elevator_sim.faults import FAULTS
from brightwatch.edge.elevator_sim.model import Car, Fault, fleet_spec
from brightwatch.elevators.config import RuleConfig
from brightwatch.elevators.replay import decode, run
from brightwatch.elevators.settings import Thresholds
from brightwatch.scenario.elevators import (
    ELEVATOR_SCENARIOS,
    MAILBOX,
    Mailboxes,
    mailbox_fault,
)

T0 = 1_790_000_000_000
# seconds after the request by which each scenario's fault must be raised
WITHIN_S = {"trapped": 30, "door": 160, "overspeed": 20, "safety": 30, "power": 20}


def _car(mailboxes: Mailboxes, index: int = 0) -> Car:
    table = {**FAULTS, MAILBOX: ("idle", lambda car, f, ctx: True, mailbox_fault(mailboxes))}
    return Car(fleet_spec("E1", index, 7), 7 * 7919 + index, T0, [Fault(MAILBOX, 0.0)], table)


def _raised(car: Car, until_s: float) -> dict[str, float]:
    """First raise of each fault code, seconds after T0."""
    messages = car.advance(until_s)
    timeline = []
    for m in messages:
        body = m.payload.encode() if isinstance(m.payload, str) else msgspec.json.encode(m.payload)
        timeline.append((m.ts, decode(m.channel, body, m.ts)))
    cfg = RuleConfig.build(Thresholds.model_validate(car.spec.thresholds()))
    _, fired = run(timeline, cfg, until=T0 + round(until_s * 1000))
    first: dict[str, float] = {}
    for f in fired:
        if f.event.active:
            first.setdefault(f.event.code, (f.at - T0) / 1000)
    return first


@pytest.mark.parametrize("name", sorted(ELEVATOR_SCENARIOS))
def test_each_scenario_raises_its_fault_in_time(name: str) -> None:
    mailboxes = Mailboxes(["E1"])
    car = _car(mailboxes)
    mailboxes.post("E1", name)
    raised = _raised(car, 400)
    code = ELEVATOR_SCENARIOS[name].code
    assert code in raised, f"{name}: {code} not raised; got {raised}"
    assert raised[code] <= WITHIN_S[name], f"{name}: {code} at {raised[code]} s"
    assert mailboxes.waiting() == 0
    assert len(car.faults) == 1, "the mailbox must not pile up faults"


def test_without_a_request_the_car_raises_nothing() -> None:
    car = _car(Mailboxes(["E1"]))
    raised = _raised(car, 600)
    assert not {c for c in raised if c != "MODE_CHANGE"}, raised


def test_a_request_posted_while_the_car_runs_waits_for_it_to_be_idle() -> None:
    mailboxes = Mailboxes(["E1"])
    car = _car(mailboxes)
    car.advance(3600)  # an hour of ordinary traffic first
    mailboxes.post("E1", "trapped")
    raised = _raised(car, 3600 + 300)
    assert "TRAPPED_OUT_ZONE" in raised


def test_unknown_scenario_is_refused() -> None:
    with pytest.raises(KeyError):
        Mailboxes(["E1"]).post("E1", "earthquake")
