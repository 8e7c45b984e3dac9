"""Elevator faults the demo's simulated cars act out on request.

The simulator's faults (`edge.elevator_sim.faults`) wait for a moment of ordinary
traffic (a delivery trip with passengers, doors open at a landing), which at night may
not come for an hour. Here each car runs a mailbox instead: a fault of the idle hook
that comes back every `POLL_S` simulated seconds, takes a request posted by the player
(any thread) and acts it out from where the car stands, idle at a landing, borrowing the
simulator's own fault processes for the part the rules must see. Only the car's own
thread touches the car; the player only posts names.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from brightwatch.edge.elevator_sim.agent import ElevatorAgent, Fleet
from brightwatch.edge.elevator_sim.faults import FAULTS, far_floor
from brightwatch.edge.elevator_sim.model import Car, Fault, Process, fleet_spec

log = logging.getLogger("brightwatch.demo")

MAILBOX = "demo_mailbox"
POLL_S = 2.0  # how soon an idle car notices a request


def _borrowed(kind: str, car: Car, ctx: dict[str, Any], **params: Any) -> Process:
    """The simulator's fault `kind` run now on `car` with `params`."""
    _, _, run = FAULTS[kind]
    return run(car, Fault(kind, car.t, params), ctx)


def trapped(car: Car) -> Process:
    """Two passengers get in and the car stops between floors on the way; one presses
    the alarm button 3 s later (TRAPPED_OUT_ZONE at once); a technician frees them after
    4 min (inspection mode, a slow move to the landing, doors open)."""
    yield from car.door_cycle(board=2)
    yield from _borrowed(
        "stall",
        car,
        {"dest": far_floor(car)},
        with_person=True,
        alarm_after_s=3,
        hold_s=240,
        rescue="technician",
    )


def door(car: Car) -> Process:
    """The doors open at the landing and stay open for 150 s, nobody inside
    (DOOR_CLOSE_FAIL after 120 s)."""
    yield from car.open_doors()
    yield from _borrowed("door_stuck_open", car, {"persons": 0}, hold_s=150)


def overspeed(car: Car) -> Process:
    """An empty run to the far end at 112 % of the rated speed for 3 s (OVERSPEED)."""
    yield from _borrowed("overspeed", car, {}, ratio=1.12)


def safety(car: Car) -> Process:
    """The safety circuit opens during a run: emergency stop between floors for 20 s
    (SAFETY_CIRCUIT at once)."""
    yield from _borrowed("safety_open_running", car, {}, hold_s=20)


def power(car: Car) -> Process:
    """Mains lost for 90 s while the car stands at a landing (POWER_FAIL after 5 s)."""
    yield from _borrowed("power_fail", car, {}, hold_s=90)


Act = Callable[[Car], Process]


@dataclass(frozen=True)
class ElevatorScenario:
    act: Act
    code: str  # the fault the rules raise for it (contract.codes)


ELEVATOR_SCENARIOS: dict[str, ElevatorScenario] = {
    "trapped": ElevatorScenario(trapped, "TRAPPED_OUT_ZONE"),
    "door": ElevatorScenario(door, "DOOR_CLOSE_FAIL"),
    "overspeed": ElevatorScenario(overspeed, "OVERSPEED"),
    "safety": ElevatorScenario(safety, "SAFETY_CIRCUIT"),
    "power": ElevatorScenario(power, "POWER_FAIL"),
}


class Mailboxes:
    """Requests waiting for each car, by elevator id (thread-safe queues)."""

    def __init__(self, elevator_ids: list[str]) -> None:
        self._queues: dict[str, queue.SimpleQueue[str]] = {
            eid: queue.SimpleQueue() for eid in elevator_ids
        }

    def post(self, elevator_id: str, scenario: str) -> None:
        if scenario not in ELEVATOR_SCENARIOS:
            raise KeyError(f"no elevator scenario {scenario!r}")
        self._queues[elevator_id].put(scenario)

    def take(self, elevator_id: str) -> str | None:
        try:
            return self._queues[elevator_id].get_nowait()
        except (KeyError, queue.Empty):
            return None

    def waiting(self) -> int:
        return sum(q.qsize() for q in self._queues.values())


def _always(car: Car, fault: Fault, ctx: dict[str, Any]) -> bool:
    return True


def mailbox_fault(mailboxes: Mailboxes) -> Callable[[Car, Fault, dict[str, Any]], Process]:
    """The idle-hook fault that takes one request, acts it out and comes back."""

    def run(car: Car, fault: Fault, ctx: dict[str, Any]) -> Process:
        car.faults[:] = [f for f in car.faults if not f.started]  # no growing list
        name = mailboxes.take(car.spec.elevator_id)
        if name is not None:
            log.info("elevator %s acts out scenario %s", car.spec.elevator_id, name)
            yield from ELEVATOR_SCENARIOS[name].act(car)
        car.faults.append(Fault(MAILBOX, car.t + POLL_S))
        yield car.t

    return run


def attach_mailboxes(agent: ElevatorAgent, seed: int) -> Mailboxes:
    """Give every car of `agent` (not yet running) a mailbox; the cars are the ones the
    agent would have built itself (same specs and random streams), so the registry
    written from `fleet_spec` still describes them."""
    mailboxes = Mailboxes(agent.ids)
    table = {**FAULTS, MAILBOX: ("idle", _always, mailbox_fault(mailboxes))}
    cars = [
        Car(
            fleet_spec(eid, i, seed),
            seed * 7919 + i,
            agent.start_ms,
            [Fault(MAILBOX, 0.0)],
            fault_table=table,
        )
        for i, eid in enumerate(agent.ids)
    ]
    agent.fleet = Fleet(cars)
    return mailboxes
