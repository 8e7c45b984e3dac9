"""Rules replicas sharing the elevators through partition leases (db/partitions.py), on a
real PostgreSQL: every replica gets every message (as each has its own session on the
broker), the owner steps it, the others keep it for a takeover.

The workers' clocks are test clocks (the rule timers); the leases run on the database's
clock with a short lease time."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from brightwatch.components.leasing import renew
from brightwatch.db.partitions import Leases, Ownership, Standby, partition_of
from brightwatch.edge.elevator_sim.trace import Trace, load
from brightwatch.elevators.state import decode_state
from brightwatch.elevators.worker import Parked, RulesWorker
from brightwatch.mqttlink.consumer import Inbound
from tests.elevators.test_worker import SCENARIOS, Clock, alerts, inbound, make_worker, ms

TTL = 1.0
PARTS = 4
STALL = 10  # the car stops out of the door zone with someone inside at 10 s; P1 at 40 s


@dataclasses.dataclass
class Replica:
    name: str
    worker: RulesWorker
    leases: Leases
    conn: psycopg.Connection[Any]

    def renew(self) -> None:
        renew(self.leases, self.worker, self.conn)


@pytest.fixture
def conns(db_url: str) -> Iterator[list[psycopg.Connection[Any]]]:
    opened = [psycopg.connect(db_url) for _ in range(2)]
    yield opened
    for c in opened:
        c.close()


def replica(db_url: str, clock: Clock, name: str, conn: psycopg.Connection[Any]) -> Replica:
    leases = Leases("elevators", name, PARTS, TTL)
    leases.setup(conn)
    own: Ownership[Parked] = Ownership(leases, Standby("elevators", 600, 10_000))
    worker = make_worker(db_url, clock)
    worker.ownership = own
    return Replica(name, worker, leases, conn)


def as_elevator(trace: Trace, i: int, elevator: str) -> Inbound:
    item = inbound(trace, i)
    return dataclasses.replace(item, topic=item.topic.replace(trace.elevator, elevator))


def elevator_in(partitions: set[int]) -> str:
    return next(e for n in range(1000) if partition_of(e := f"EL{n:05d}", PARTS) in partitions)


def until_stall(trace: Trace) -> list[int]:
    return [i for i, m in enumerate(trace.messages) if m.t <= STALL and m.channel != "tick"]


def trapped(db_url: str) -> list[tuple[Any, ...]]:
    return [r for r in alerts(db_url) if r[0] == "TRAPPED_OUT_ZONE"]


@pytest.mark.parametrize("a_commits_the_stall", [True, False], ids=["saved", "unsaved"])
def test_a_dead_owners_running_timer_fires_once_on_time_at_the_new_owner(
    db_url: str, conns: list[psycopg.Connection[Any]], a_commits_the_stall: bool
) -> None:
    """saved: a committed the sample that started the timer (its state in the table, the
    fence keeps a from firing it again when it wakes); unsaved: a died before committing
    it, and only b's replay of the kept messages can start the timer."""
    trace = load(SCENARIOS / "hw_trapped_timer_fires_between_samples.jsonl")
    clock = Clock(trace.t0 / 1000 - 1)
    a = replica(db_url, clock, "rules-0", conns[0])
    b = replica(db_url, clock, "rules-1", conns[1])
    a.renew()  # alone: a takes every partition and starts handling them
    b.renew()
    b.renew()
    a.renew()  # two members now: a gives the higher half back, b takes it
    b.renew()
    assert set(a.leases.held) | set(b.leases.held) == set(range(PARTS))
    elevator = elevator_in(set(a.leases.held))
    indexes = until_stall(trace)
    *committed, last = indexes
    for i in indexes:  # both replicas get every message, as on the broker
        clock.t = trace.messages[i].ts_ms(trace.t0) / 1000 + 0.04
        if i != last or a_commits_the_stall:
            a.worker.handle([as_elevator(trace, i, elevator)])
        b.worker.handle([as_elevator(trace, i, elevator)])
    assert trapped(db_url) == []
    # a is silent for two lease times: b takes its partitions, replays what it kept (the
    # sample a never committed starts the trapped timer) and loads their deadlines
    time.sleep(3 * TTL + 0.3)
    b.renew()
    assert set(b.leases.held) == set(range(PARTS))
    assert b.worker.ownership is not None and b.worker.ownership.handles(elevator)
    clock.t = trace.t0 / 1000 + STALL + 29.9
    b.worker.tick_due()
    assert trapped(db_url) == []
    clock.t = trace.t0 / 1000 + STALL + 30.1
    assert b.worker.tick_due() == 1
    ((code, severity, state, count, started, _, _),) = trapped(db_url)
    assert (code, severity, state, count, started) == (
        "TRAPPED_OUT_ZONE",
        "P1",
        "firing",
        1,
        ms(trace, STALL),
    )
    # b steps the elevator's next message while a is still asleep
    later = next(i for i, m in enumerate(trace.messages) if m.t > STALL and m.channel != "tick")
    clock.t = trace.messages[later].ts_ms(trace.t0) / 1000 + 0.04
    b.worker.handle([as_elevator(trace, later, elevator)])
    # a wakes up: its ticks and saves are fenced off (its stale state would overwrite b's),
    # its renewal says what it lost
    a.worker.tick_due()
    a.worker.flush()
    a.renew()
    assert a.leases.held == {}
    assert a.worker.ownership is not None and not a.worker.ownership.handles(elevator)
    assert len(trapped(db_url)) == 1
    with psycopg.connect(db_url) as conn:
        (raw,) = conn.execute(
            "SELECT state FROM elevator_rule_state WHERE elevator_id = %s", (elevator,)
        ).fetchone()
    assert decode_state(bytes(raw)).max_seq == b.worker.cache[elevator].state.max_seq


def test_a_partition_handed_over_on_rebalance_keeps_its_timer(
    db_url: str, conns: list[psycopg.Connection[Any]]
) -> None:
    trace = load(SCENARIOS / "hw_trapped_timer_fires_between_samples.jsonl")
    clock = Clock(trace.t0 / 1000 - 1)
    a = replica(db_url, clock, "rules-0", conns[0])
    a.renew()
    assert set(a.leases.held) == set(range(PARTS))
    elevator = elevator_in({PARTS - 1})  # a gives back its highest partitions first
    for i in until_stall(trace):
        clock.t = trace.messages[i].ts_ms(trace.t0) / 1000 + 0.04
        a.worker.handle([as_elevator(trace, i, elevator)])
    b = replica(db_url, clock, "rules-1", conns[1])  # a second replica starts
    b.renew()
    a.renew()  # a saves and gives back its surplus, including the elevator's partition
    assert PARTS - 1 not in a.leases.held
    b.renew()
    assert PARTS - 1 in b.leases.held
    clock.t = trace.t0 / 1000 + STALL + 30.1
    assert a.worker.tick_due() == 0  # a forgot the elevator's deadline with its partition
    assert b.worker.tick_due() == 1
    assert [r[:4] for r in trapped(db_url)] == [("TRAPPED_OUT_ZONE", "P1", "firing", 1)]
    # a later message of the elevator is stepped by b only; a keeps it for a takeover
    later = next(i for i, m in enumerate(trace.messages) if m.t > STALL and m.channel != "tick")
    clock.t = trace.messages[later].ts_ms(trace.t0) / 1000 + 0.04
    a.worker.handle([as_elevator(trace, later, elevator)])
    b.worker.handle([as_elevator(trace, later, elevator)])
    assert a.worker.ownership is not None and len(a.worker.ownership.standby) == 1
    assert len(trapped(db_url)) == 1


def test_a_takeover_whose_replay_fails_is_adopted_again_with_nothing_lost(
    db_url: str, conns: list[psycopg.Connection[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = load(SCENARIOS / "hw_trapped_timer_fires_between_samples.jsonl")
    clock = Clock(trace.t0 / 1000 - 1)
    a = replica(db_url, clock, "rules-0", conns[0])
    b = replica(db_url, clock, "rules-1", conns[1])
    a.renew()
    elevator = elevator_in(set(a.leases.held))
    for i in until_stall(trace):  # a dies before it commits anything; b keeps them all
        clock.t = trace.messages[i].ts_ms(trace.t0) / 1000 + 0.04
        b.worker.handle([as_elevator(trace, i, elevator)])
    time.sleep(3 * TTL + 0.3)
    real = b.worker._transaction
    calls = [0]

    def down_once(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            raise psycopg.OperationalError("database restarting")
        return real(*args, **kwargs)

    monkeypatch.setattr(b.worker, "_transaction", down_once)
    with pytest.raises(psycopg.OperationalError):
        b.renew()  # b took the partitions, the replay failed: none handled, none forgotten
    assert b.worker.ownership is not None and not b.worker.ownership.handles(elevator)
    b.renew()  # the next renewal adopts the held partitions again
    assert b.worker.ownership.handles(elevator)
    clock.t = trace.t0 / 1000 + STALL + 30.1
    assert b.worker.tick_due() == 1
    assert [r[:4] for r in trapped(db_url)] == [("TRAPPED_OUT_ZONE", "P1", "firing", 1)]
