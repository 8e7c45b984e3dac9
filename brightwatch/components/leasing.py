"""The lease loop of a partitioned worker (the rules or the vision worker with
`partitions` set): renews its partitions' leases every third of the lease time and tells
the worker what it took, lost or must give back (db/partitions.py has the design)."""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

import psycopg

from brightwatch.db.connect import connect
from brightwatch.db.partitions import Leases, Ownership, Standby, standby_seconds
from brightwatch.mqttlink.consumer import Inbound
from brightwatch.progress import Beat
from brightwatch.runtime import Runtime

log = logging.getLogger(__name__)


class Partitioned(Protocol):
    """What the lease loop asks of a worker."""

    @property
    def ownership(self) -> Ownership[Any] | None: ...

    def adopt(self, partitions: frozenset[int]) -> int: ...

    def give_up(self, partitions: frozenset[int], lost: bool = False) -> int: ...


class PartitionSettings(Protocol):
    """The partition fields of `[elevators]` and `[vision]`."""

    @property
    def partitions(self) -> int: ...

    @property
    def lease_ttl_s(self) -> float: ...

    @property
    def standby_max_messages(self) -> int: ...


def ownership(
    component: str, section: PartitionSettings, instance: str
) -> Ownership[Inbound] | None:
    """The partitions of `component` this replica may own, when its section sets
    `partitions`; None (every device handled here) otherwise."""
    if not section.partitions:
        return None
    leases = Leases(component, instance, section.partitions, section.lease_ttl_s)
    keep = standby_seconds(section.lease_ttl_s)
    return Ownership(leases, Standby(component, keep, section.standby_max_messages))


class Subscribed(Protocol):
    @property
    def subscribed(self) -> threading.Event: ...


def lease_thread(
    runtime: Runtime,
    component: str,
    ownership: Ownership[Any] | None,
    worker: Partitioned,
    consumer: Subscribed,
    stop: threading.Event,
) -> threading.Thread | None:
    """The lease loop of a partitioned worker, not started (progress `<component>.leases`);
    None when the worker runs without partitions."""
    if ownership is None:
        return None
    beat = runtime.progress[f"{component}.leases"] = Beat()
    return threading.Thread(
        target=lease_loop,
        args=(runtime.database_url, ownership.leases, worker, consumer, stop, beat),
        name=f"bw-{component}-leases",
        daemon=True,
    )


def lease_loop(
    database_url: str,
    leases: Leases,
    worker: Partitioned,
    consumer: Subscribed,
    stop: threading.Event,
    beat: Beat,
) -> None:
    """Run until `stop`; a clean stop saves and gives back every partition."""
    # the session's queued messages fill the standby buffer before any partition is taken
    consumer.subscribed.wait(30)
    conn: psycopg.Connection[Any] | None = None
    interval = leases.ttl_s / 3
    first = True
    while first or not stop.wait(interval):
        first = False
        try:
            if conn is None or conn.closed:
                conn = connect(database_url)
                leases.setup(conn)
            renew(leases, worker, conn)
            beat.good()
        except Exception:
            beat.failed()
            log.exception("%s: lease renewal failed; retrying", leases.component)
            if conn is not None:
                conn.close()
                conn = None
    try:
        worker.give_up(frozenset(leases.held))
        if conn is None or conn.closed:
            conn = connect(database_url)
        leases.leave(conn)
    except Exception:
        log.exception("%s: could not give the partitions back; they expire", leases.component)
    finally:
        if conn is not None:
            conn.close()


def renew(leases: Leases, worker: Partitioned, conn: psycopg.Connection[Any]) -> None:
    """One renewal and what follows from it."""
    change = leases.renew(conn)
    if change.lost:
        log.warning(
            "%s: partitions %s taken by another replica", leases.component, sorted(change.lost)
        )
        worker.give_up(change.lost, lost=True)
    # taken now, and held ones whose adoption failed before (tried again)
    own = worker.ownership
    idle = own.idle() - change.surplus if own is not None else frozenset()
    adopt = change.gained | idle
    if adopt:
        replayed = worker.adopt(adopt)
        log.info(
            "%s: took partitions %s (%d kept messages replayed)",
            leases.component,
            sorted(adopt),
            replayed,
        )
    if change.surplus:
        worker.give_up(change.surplus)
        leases.release(conn, change.surplus)
        log.info("%s: gave back partitions %s", leases.component, sorted(change.surplus))
