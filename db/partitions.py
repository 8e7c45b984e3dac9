"""Device partitions owned through leases in PostgreSQL, with a fencing epoch.

The rules and the vision workers keep per-device state (rule states, timers, clock
offsets), so every message of one device must be handled by one replica, in order, and a
device whose replica dies must move, state and running timers included, to another.

- **Partitions.** A component's devices fall into a fixed number of partitions,
  `partition_of(id, n)` = CRC-32 of the id modulo n: the same answer in every replica and
  release. The count is part of the deployment (`partitions` of the component's settings);
  every replica of a component must use the same one (`Leases.setup` refuses another).
- **Leases** (table `partition_lease`, migration 0113): a replica owns a partition while it
  renews the row's `expires_at`, on the database's clock, every third of the lease time.
  Taking a partition increments its `epoch`.
- **Fence.** Every transaction that writes a device's state or raises its alerts first
  reads the rows of the partitions it touches `FOR SHARE` and checks owner and epoch
  (`Leases.fence`). Taking a lease is an UPDATE of the same row, which waits for such a
  transaction to end: an old owner's write either commits before the new owner reads the
  state, or it is refused (`Fenced`) and rolled back.
- **Balance.** Replicas register in `partition_member` with the same lease time; each aims
  at ceil(partitions / live replicas), releases what it holds above that (after saving
  its states), takes free partitions while below it, and takes any partition whose owner
  has not renewed for two lease times whatever its share. A replica that dies therefore
  loses its partitions to the others within `2 × ttl` plus one renewal.
- **Transport.** Every replica subscribes to every device's topics in its own persistent
  session (no shared group: mosquitto dispatches shared subscriptions round-robin per
  message, which would split a device between replicas). It handles the partitions it
  owns and keeps the recent messages of the others in a `Standby` buffer: on taking a
  partition it replays them first, so what the old owner had not committed is applied
  (the rule state's seq window drops what it had). The cost is one copy of the
  traffic per replica, measured in bench/RESULTS.md ("Scale"). With EMQX the same code
  runs unchanged; see the README ("Replicas") for what a broker cluster changes.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import psycopg
from prometheus_client import Counter, Gauge

log = logging.getLogger(__name__)

T = TypeVar("T")

OWNED = Gauge("brightwatch_partitions_owned", "Device partitions this process owns", ["component"])
TAKEN = Counter(
    "brightwatch_partitions_taken_total", "Device partitions this process took", ["component"]
)
LOST = Counter(
    "brightwatch_partitions_lost_total",
    "Device partitions this process lost to another replica without releasing them",
    ["component"],
)
STANDBY = Gauge(
    "brightwatch_partition_standby_messages",
    "Messages of partitions owned elsewhere kept for a takeover",
    ["component"],
)


def partition_of(device_id: str, partitions: int) -> int:
    """The partition of a device: stable across replicas, processes and releases."""
    return zlib.crc32(device_id.encode()) % partitions


class Fenced(RuntimeError):
    """A transaction touched partitions this replica no longer owns; nothing was written."""

    def __init__(self, partitions: Iterable[int]) -> None:
        self.partitions = frozenset(partitions)
        super().__init__(f"partitions {sorted(self.partitions)} are owned by another replica")


class PartitionCountError(RuntimeError):
    """The component's leases were set up for another partition count."""


@dataclass(frozen=True, slots=True)
class Change:
    """What one renewal changed: partitions taken, lost to another replica (their states
    cannot be saved any more), and held above this replica's share (to save, then give)."""

    gained: frozenset[int] = frozenset()
    lost: frozenset[int] = frozenset()
    surplus: frozenset[int] = frozenset()


class Leases:
    """The lease rows of one component, seen by one member (a replica's instance name)."""

    def __init__(self, component: str, member: str, partitions: int, ttl_s: float) -> None:
        if partitions < 1:
            raise ValueError("partitions must be at least 1")
        self.component = component
        self.member = member
        self.partitions = partitions
        self.ttl_s = ttl_s
        self._held: dict[int, int] = {}  # partition -> epoch, replaced whole (read by workers)

    @property
    def held(self) -> dict[int, int]:
        return self._held

    def _params(self, **extra: Any) -> dict[str, Any]:
        return {"c": self.component, "m": self.member, "ttl": self.ttl_s, **extra}

    def setup(self, conn: psycopg.Connection[Any]) -> None:
        """Create the component's lease rows; refuse a partition count other replicas use."""
        with conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext('bw_partitions:' || %s))", (self.component,)
            )
            count, live = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE owner IS NOT NULL AND expires_at > now())"
                " FROM partition_lease WHERE component = %s",
                (self.component,),
            ).fetchone() or (0, 0)
            if count not in (0, self.partitions):
                if live:
                    raise PartitionCountError(
                        f"{self.component}: the running replicas use {count} partitions, this one"
                        f" {self.partitions}; stop them all before changing the count"
                    )
                log.warning(
                    "%s: partition count changes from %d to %d (no replica holds a lease)",
                    self.component,
                    count,
                    self.partitions,
                )
                conn.execute("DELETE FROM partition_lease WHERE component = %s", (self.component,))
            conn.execute(
                "INSERT INTO partition_lease (component, partition)"
                " SELECT %s, p FROM generate_series(0, %s - 1) AS p ON CONFLICT DO NOTHING",
                (self.component, self.partitions),
            )

    def renew(self, conn: psycopg.Connection[Any]) -> Change:
        """Renew this member's leases, take its share, say what it must give back."""
        with conn.transaction():
            conn.execute(
                "INSERT INTO partition_member (component, member, expires_at)"
                " VALUES (%(c)s, %(m)s, now() + make_interval(secs => %(ttl)s))"
                " ON CONFLICT (component, member) DO UPDATE SET expires_at = EXCLUDED.expires_at",
                self._params(),
            )
            live = conn.execute(
                "SELECT count(*) FROM partition_member WHERE component = %s AND expires_at > now()",
                (self.component,),
            ).fetchone()
            share = math.ceil(self.partitions / max(1, int(live[0]) if live else 1))
            # rows locked in partition order, as the fence does, so the two never deadlock
            mine = dict(
                conn.execute(
                    "UPDATE partition_lease SET expires_at = now() + make_interval(secs => %(ttl)s)"
                    " WHERE (component, partition) IN (SELECT component, partition"
                    "  FROM partition_lease WHERE component = %(c)s AND owner = %(m)s"
                    "  ORDER BY partition FOR UPDATE)"
                    " RETURNING partition, epoch",
                    self._params(),
                ).fetchall()
            )
            lost = frozenset(p for p, e in self._held.items() if mine.get(p) != e)
            # leases under this member's name that this process does not know of: it
            # restarted under the same instance before they ran out. Taken again with a
            # new epoch (whatever the previous process might still write is fenced off)
            # and adopted like any partition taken
            unknown = sorted(p for p in mine if p not in self._held)
            readopted: dict[int, int] = {}
            if unknown:
                readopted = dict(
                    conn.execute(
                        "UPDATE partition_lease SET epoch = epoch + 1, taken_at = now()"
                        " WHERE component = %(c)s AND owner = %(m)s AND partition = ANY(%(p)s)"
                        " RETURNING partition, epoch",
                        self._params(p=unknown),
                    ).fetchall()
                )
                mine.update(readopted)
            # free (released) partitions while below the share; orphans (an owner silent for
            # two lease times) whatever the share, so no partition is left without an owner
            free = conn.execute(
                "SELECT partition, owner IS NOT NULL"
                " AND expires_at < now() - make_interval(secs => %(ttl)s) FROM partition_lease"
                " WHERE component = %(c)s AND owner IS DISTINCT FROM %(m)s AND expires_at < now()"
                " ORDER BY partition FOR UPDATE SKIP LOCKED",
                self._params(),
            ).fetchall()
            orphans = [p for p, orphan in free if orphan]
            expired_free = [p for p, orphan in free if not orphan]
            random.shuffle(expired_free)
            room = max(0, share - len(mine) - len(orphans))
            take = sorted(set(orphans) | set(expired_free[:room]))
            gained: dict[int, int] = {}
            if take:
                gained = dict(
                    conn.execute(
                        "UPDATE partition_lease SET owner = %(m)s, epoch = epoch + 1,"
                        " expires_at = now() + make_interval(secs => %(ttl)s), taken_at = now()"
                        " WHERE component = %(c)s AND partition = ANY(%(p)s)"
                        " RETURNING partition, epoch",
                        self._params(p=take),
                    ).fetchall()
                )
        held = {**mine, **gained}
        gained.update(readopted)
        surplus = sorted(held)[share:] if len(held) > share else []
        self._held = held
        if gained:
            TAKEN.labels(self.component).inc(len(gained))
        if lost:
            LOST.labels(self.component).inc(len(lost))
        OWNED.labels(self.component).set(len(held))
        return Change(frozenset(gained), lost, frozenset(surplus))

    def release(self, conn: psycopg.Connection[Any], partitions: Iterable[int]) -> None:
        """Give partitions back (their states saved first): free for another replica now."""
        held = self._held
        give = sorted(p for p in partitions if p in held)
        if not give:
            return
        with conn.transaction():
            conn.execute(
                "UPDATE partition_lease SET owner = NULL, expires_at = '-infinity'"
                " WHERE component = %(c)s AND owner = %(m)s AND partition = ANY(%(p)s)"
                "  AND epoch = ANY(%(e)s)",
                self._params(p=give, e=[held[p] for p in give]),
            )
        self._held = {p: e for p, e in held.items() if p not in give}
        OWNED.labels(self.component).set(len(self._held))

    def leave(self, conn: psycopg.Connection[Any]) -> None:
        """A clean stop: every lease given back, the member gone (the others rebalance now)."""
        self.release(conn, list(self._held))
        with conn.transaction():
            conn.execute(
                "DELETE FROM partition_member WHERE component = %s AND member = %s",
                (self.component, self.member),
            )

    def fence(self, conn: psycopg.Connection[Any], partitions: Iterable[int]) -> None:
        """Inside the caller's transaction: hold the partitions' rows (FOR SHARE) until it
        ends, or raise `Fenced` when one of them is not, or no longer, this member's."""
        wanted = sorted(set(partitions))
        if not wanted:
            return
        held = self._held
        rows = conn.execute(
            "SELECT partition, owner, epoch FROM partition_lease"
            " WHERE component = %s AND partition = ANY(%s) ORDER BY partition FOR SHARE",
            (self.component, wanted),
        ).fetchall()
        ok = {p for p, owner, epoch in rows if owner == self.member and held.get(p) == epoch}
        if len(ok) < len(wanted):
            raise Fenced(set(wanted) - ok)


def live_owners(conn: psycopg.Connection[Any], component: str) -> dict[int, str]:
    """partition -> owner of every lease of `component` not expired (for operators,
    tests and benchmarks: who handles what now)."""
    rows = conn.execute(
        "SELECT partition, owner FROM partition_lease WHERE component = %s"
        " AND owner IS NOT NULL AND expires_at > now()",
        (component,),
    ).fetchall()
    return {int(p): str(o) for p, o in rows}


def forget_member(conn: psycopg.Connection[Any], component: str, member: str) -> int:
    """A replica removed for good: its expired leases are freed at once (no waiting for
    the orphan delay), its member row goes. Returns the leases freed; a lease it still
    renews is left alone."""
    with conn.transaction():
        freed = conn.execute(
            "UPDATE partition_lease SET owner = NULL, expires_at = '-infinity'"
            " WHERE component = %s AND owner = %s AND expires_at < now()",
            (component, member),
        ).rowcount
        conn.execute(
            "DELETE FROM partition_member WHERE component = %s AND member = %s",
            (component, member),
        )
    return freed


class Standby(Generic[T]):
    """Recent messages of partitions owned elsewhere, per partition, in arrival order:
    what a takeover replays. Kept `keep_s` seconds and at most `max_items` in all."""

    def __init__(
        self,
        component: str,
        keep_s: float,
        max_items: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.component = component
        self.keep_s = keep_s
        self.max_items = max_items
        self.clock = clock
        self._parts: dict[int, deque[tuple[float, T]]] = {}
        self._count = 0
        self.dropped = 0  # removed by the count bound before their time (a takeover may miss them)
        self._lock = threading.Lock()
        self._gauge = STANDBY.labels(component)  # set on every message parked: looked up once

    def __len__(self) -> int:
        return self._count

    def add(self, partition: int, item: T) -> None:
        now = self.clock()
        with self._lock:
            queue = self._parts.setdefault(partition, deque())
            queue.append((now, item))
            self._count += 1
            self._expire(queue, now)
            if self._count > self.max_items:
                self._shed()
        self._gauge.set(self._count)

    def take(self, partitions: Iterable[int]) -> list[T]:
        """The kept messages of these partitions, oldest first per partition; forgotten here."""
        out = self.peek(partitions)
        self.forget(partitions)
        return out

    def peek(self, partitions: Iterable[int]) -> list[T]:
        """The kept messages of these partitions, oldest first per partition; still kept."""
        now = self.clock()
        with self._lock:
            return [
                item
                for p in sorted(set(partitions))
                for at, item in self._parts.get(p, ())
                if now - at <= self.keep_s
            ]

    def forget(self, partitions: Iterable[int]) -> None:
        with self._lock:
            for p in set(partitions):
                queue = self._parts.pop(p, None)
                if queue is not None:
                    self._count -= len(queue)
        self._gauge.set(self._count)

    def _expire(self, queue: deque[tuple[float, T]], now: float) -> None:
        while queue and now - queue[0][0] > self.keep_s:
            queue.popleft()
            self._count -= 1

    def _shed(self) -> None:
        now = self.clock()
        for queue in self._parts.values():
            self._expire(queue, now)
        while self._count > self.max_items:
            oldest = min((q for q in self._parts.values() if q), key=lambda q: q[0][0])
            oldest.popleft()
            self._count -= 1
            self.dropped += 1


class Ownership(Generic[T]):
    """What a worker asks about its devices: which partitions it handles now, where the
    others' messages wait, and the fence of its transactions.

    `active` is what the worker handles; it changes only through `activate` and
    `deactivate`, which the worker calls under its own lock (after replaying a new
    partition's standby messages, before dropping a lost one's states), so a message
    never overtakes the replay of the messages before it."""

    def __init__(self, leases: Leases, standby: Standby[T]) -> None:
        self.leases = leases
        self.standby = standby
        self.active: frozenset[int] = frozenset()

    @property
    def partitions(self) -> int:
        return self.leases.partitions

    def partition(self, device_id: str) -> int:
        return partition_of(device_id, self.leases.partitions)

    def handles(self, device_id: str) -> bool:
        return self.partition(device_id) in self.active

    def park(self, device_id: str, item: T) -> None:
        self.standby.add(self.partition(device_id), item)

    def activate(self, partitions: Iterable[int]) -> list[T]:
        """Start handling these partitions; returns their kept messages to replay first.
        They stay kept until `settle` (the replay went through): a replay that fails is
        undone with `deactivate` and tried again with nothing lost."""
        parts = frozenset(partitions) & frozenset(self.leases.held)
        self.active = self.active | parts
        return self.standby.peek(parts)

    def settle(self, partitions: Iterable[int]) -> None:
        """The replay of these partitions' kept messages went through: forget them."""
        self.standby.forget(partitions)

    def idle(self) -> frozenset[int]:
        """Partitions held but not handled (their adoption failed): to adopt again."""
        return frozenset(self.leases.held) - self.active

    def deactivate(self, partitions: Iterable[int]) -> None:
        self.active = self.active - frozenset(partitions)

    def fence(self, conn: psycopg.Connection[Any], device_ids: Iterable[str]) -> None:
        self.leases.fence(conn, {self.partition(d) for d in device_ids})


def standby_seconds(ttl_s: float) -> float:
    """How long the others' messages are kept: the time a dead owner's partitions take to
    move (two lease times and a renewal) and what its last batch may not have committed,
    with a margin. What it changed earlier is in the table: every change that raises or
    clears an alert, or starts a life-safety timer, is saved in its own batch (a lazily
    saved P2/P3 timer may restart later, as after a crash of a single worker)."""
    return 3 * ttl_s + 10
