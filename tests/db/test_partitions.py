"""Partition leases on a real PostgreSQL: sharing, takeover after silence, the fence,
the partition count, and the standby buffer (db/partitions.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from brightwatch.db.partitions import (
    Fenced,
    Leases,
    Ownership,
    PartitionCountError,
    Standby,
    partition_of,
)

TTL = 1.0  # seconds: orphans are taken after two lease times


@pytest.fixture
def conns(db_url: str) -> Iterator[list[psycopg.Connection[Any]]]:
    opened = [psycopg.connect(db_url) for _ in range(3)]
    yield opened
    for c in opened:
        c.close()


def members(conns: list[psycopg.Connection[Any]], n: int, partitions: int = 8) -> list[Leases]:
    out = [Leases("elevators", f"rules-{i}", partitions, TTL) for i in range(n)]
    for leases, conn in zip(out, conns, strict=False):
        leases.setup(conn)
    return out


def settle(pairs: list[tuple[Leases, psycopg.Connection[Any]]], rounds: int = 3) -> None:
    """Renew as the lease loops do, giving back what is above each member's share."""
    for _ in range(rounds):
        for leases, conn in pairs:
            change = leases.renew(conn)
            if change.surplus:
                leases.release(conn, change.surplus)


def test_partition_of_is_stable_and_spread() -> None:
    ids = [f"EL{i:05d}" for i in range(4000)]
    counts = [0] * 16
    for d in ids:
        counts[partition_of(d, 16)] += 1
    assert partition_of("EL00001", 16) == partition_of("EL00001", 16)
    assert min(counts) > 4000 / 16 * 0.7  # no partition starved


def test_two_members_share_every_partition_once(conns: list[psycopg.Connection[Any]]) -> None:
    a, b = members(conns, 2)
    first = a.renew(conns[0])
    assert first.gained == frozenset(range(8))  # alone: it takes everything
    b.renew(conns[1])  # b registers; a sees two members at its next renewal
    settle([(a, conns[0]), (b, conns[1])])
    assert set(a.held).isdisjoint(b.held)
    assert set(a.held) | set(b.held) == set(range(8))
    assert len(a.held) == len(b.held) == 4


def test_a_silent_member_loses_its_partitions_and_is_fenced(
    conns: list[psycopg.Connection[Any]],
) -> None:
    a, b = members(conns, 2)
    settle([(a, conns[0]), (b, conns[1])])
    a_parts = frozenset(a.held)
    assert a_parts
    # a stops renewing (a paused or dead replica); b takes a's partitions once they are orphans
    time.sleep(3 * TTL + 0.2)
    change = b.renew(conns[1])
    assert change.gained == a_parts
    assert set(b.held) == set(range(8))
    # a wakes up: every write it tries is refused, and its renewal says what it lost
    with pytest.raises(Fenced) as refused, conns[0].transaction():
        a.fence(conns[0], a_parts)
    assert refused.value.partitions == a_parts
    assert a.renew(conns[0]).lost == a_parts


def test_a_takeover_waits_for_the_old_owners_transaction(
    conns: list[psycopg.Connection[Any]],
) -> None:
    """The fence holds the lease rows FOR SHARE: a takeover cannot slip between the old
    owner's check and its commit (it skips the row and takes it at a later renewal)."""
    a, b = members(conns, 2, partitions=2)
    a.renew(conns[0])
    assert set(a.held) == {0, 1}
    time.sleep(3 * TTL + 0.2)  # a's leases are orphans now
    with conns[0].transaction():
        a.fence(conns[0], [0])  # a writes to partition 0 in this open transaction
        change = b.renew(conns[1])
        assert change.gained == frozenset({1})  # 0 is held by a's transaction: skipped
    assert b.renew(conns[1]).gained == frozenset({0})  # a committed: now b takes it


def test_leaving_hands_partitions_over_at_once(conns: list[psycopg.Connection[Any]]) -> None:
    a, b = members(conns, 2)
    settle([(a, conns[0]), (b, conns[1])])
    a.leave(conns[0])
    assert a.held == {}
    change = b.renew(conns[1])  # no waiting for a lease to expire
    assert set(b.held) == set(range(8))
    assert change.gained and not change.lost


def test_a_replica_restarted_under_its_name_adopts_its_leases_again(
    conns: list[psycopg.Connection[Any]],
) -> None:
    """A restart before the leases ran out: the new process finds leases under its name
    that it never took. It must adopt them (or nobody would handle those devices) with
    a new epoch, so the previous process, were it still writing, is fenced off."""
    (before,) = members(conns, 1, partitions=4)
    before.renew(conns[0])
    again = Leases("elevators", "rules-0", 4, TTL)  # same instance, new process
    again.setup(conns[1])
    change = again.renew(conns[1])
    assert change.gained == frozenset(range(4))
    assert all(again.held[p] == before.held[p] + 1 for p in range(4))
    with pytest.raises(Fenced), conns[0].transaction():
        before.fence(conns[0], [0])
    assert again.renew(conns[1]).gained == frozenset()  # adopted once


def test_the_partition_count_is_one_for_all_replicas(
    conns: list[psycopg.Connection[Any]],
) -> None:
    (a,) = members(conns, 1, partitions=8)
    a.renew(conns[0])
    other = Leases("elevators", "rules-9", 16, TTL)
    with pytest.raises(PartitionCountError, match="use 8 partitions"):
        other.setup(conns[1])
    a.leave(conns[0])  # every replica stopped: the count may change
    other.setup(conns[1])
    assert len(other.renew(conns[1]).gained) == 16


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_standby_keeps_recent_messages_in_order_within_its_bounds() -> None:
    clock = FakeClock()
    standby: Standby[str] = Standby("elevators", keep_s=10, max_items=5, clock=clock)
    standby.add(1, "a1")
    clock.t = 5
    standby.add(1, "a2")
    standby.add(2, "b1")
    clock.t = 12  # a1 is older than 10 s
    standby.add(1, "a3")
    assert standby.take([1]) == ["a2", "a3"]
    assert standby.take([1]) == []
    for i in range(7):
        standby.add(3, f"c{i}")
    assert len(standby) == 5  # the oldest went first, whatever their partition
    assert standby.dropped == 3
    assert standby.take([2]) == []  # b1 (kept since 5 s) was the oldest
    assert standby.take([3]) == ["c2", "c3", "c4", "c5", "c6"]


def test_ownership_handles_only_what_the_worker_activated(
    conns: list[psycopg.Connection[Any]],
) -> None:
    (leases,) = members(conns, 1, partitions=4)
    own: Ownership[str] = Ownership(leases, Standby("elevators", 60, 1000))
    device = "EL00042"
    part = own.partition(device)
    own.park(device, "early")
    assert not own.handles(device)  # held nothing yet
    leases.renew(conns[0])
    assert not own.handles(device)  # held, not yet replayed by the worker
    assert own.activate({part}) == ["early"]
    assert own.handles(device)
    own.deactivate({part})  # the replay failed: nothing is lost, it is tried again
    assert not own.handles(device) and part in own.idle()
    assert own.activate({part}) == ["early"]
    own.settle({part})  # the replay went through
    assert part not in own.idle() and own.activate({part}) == []
