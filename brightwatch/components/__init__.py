"""The components `brightwatch serve` can run, each `run(runtime, stop)` in its own thread,
and the upkeep loops that run beside them."""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg

from brightwatch.health import HOST, ProcessHealth
from brightwatch.runtime import Runtime
from brightwatch.stopping import join_within

log = logging.getLogger(__name__)

ComponentRun = Callable[[Runtime, threading.Event], None]

# name -> "module:function"; imported only when the component is started
COMPONENTS: dict[str, str] = {
    "ingest": "brightwatch.components.ingest:run",
    "elevators": "brightwatch.components.elevators:run",
    "vision": "brightwatch.components.vision:run",
    "alerts": "brightwatch.components.alerts:run",
    "api": "brightwatch.components.api:run",
}

# Upkeep of packages that are no component: name -> (the component it runs beside,
# "module:function"). It runs, in a thread of its own, in every process that runs that
# component (compose and the demo included), and stops the process when it fails, as a
# component does.
UPKEEP: dict[str, tuple[str, str]] = {
    # the city dashboard's per-district hourly rollup, in one replica at a time
    "fleet_rollup": ("alerts", "brightwatch.components.alerts:fleet_rollup_loop"),
}


def _imported(target: str) -> ComponentRun:
    module_name, func = target.split(":")
    return getattr(importlib.import_module(module_name), func)


def resolve(name: str) -> ComponentRun:
    if name not in COMPONENTS:
        raise ValueError(f"unknown component {name!r}; choose from {', '.join(COMPONENTS)}")
    return _imported(COMPONENTS[name])


def runs(names: Sequence[str]) -> dict[str, ComponentRun]:
    """The named components and the upkeep that runs beside them, by name."""
    found = {n: resolve(n) for n in names}
    beside_them = {u: _imported(t) for u, (beside, t) in UPKEEP.items() if beside in found}
    return found | beside_them


TWIN_QUERY = """
SELECT component, host, pid, updated_at FROM component_heartbeat
WHERE replica = %s AND (host, pid) <> (%s, %s)
  AND updated_at > now() - make_interval(secs => %s)
  AND (component = ANY(%s) OR split_part(component, '.', 1) = ANY(%s))
"""


def live_twin(runtime: Runtime, names: Sequence[str], stop: threading.Event) -> str | None:
    """Another process that runs one of `names` under this process's BW_INSTANCE and is
    alive ("host pid"), or None.

    Two processes with one instance share their MQTT client ids: the broker takes the
    session from one to give it to the other, over and over. A heartbeat row of this
    instance written by another host or pid that is refreshed within two heartbeat
    intervals is such a twin; a row that stays still is a predecessor that died (a
    restart), which is no reason to wait longer. A database that cannot be reached is
    no reason to refuse either: the components wait for it as usual."""
    s = runtime.settings
    interval = s.health.heartbeat_interval_s
    params = (s.instance, HOST, os.getpid(), s.health.heartbeat_stale_s, list(names), list(names))

    def rows(conn: psycopg.Connection[Any]) -> dict[tuple[str, str, int], datetime]:
        return {(r[0], r[1], int(r[2])): r[3] for r in conn.execute(TWIN_QUERY, params)}

    try:
        with psycopg.connect(runtime.database_url, autocommit=True, connect_timeout=5) as conn:
            before = rows(conn)
            if not before or stop.wait(2 * interval + 0.5):
                return None
            after = rows(conn)
    except psycopg.Error as exc:
        log.warning("could not check for another process with BW_INSTANCE=%s: %s", s.instance, exc)
        return None
    for key, at in after.items():
        if key in before and at > before[key]:
            return f"{key[1]} pid {key[2]}"
    return None


class ComponentSet:
    """Runs components in threads; the first one to fail stops them all. Beside them the
    process's health (brightwatch.health): heartbeat rows and, with BW_METRICS_ADDR, the
    /metrics and /healthz server."""

    def __init__(self, runtime: Runtime, names: Sequence[str]) -> None:
        self.runtime = runtime
        self.names = list(names)
        self.runs = runs(self.names)
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.failed: list[str] = []
        self.health = ProcessHealth(runtime, self.stop)

    def _guard(self, name: str, run: ComponentRun) -> None:
        try:
            run(self.runtime, self.stop)
        except Exception:
            log.exception("component %s failed", name)
            self.failed.append(name)
            self.stop.set()
        else:
            if not self.stop.is_set():
                log.error("component %s returned before being asked to stop", name)
                self.failed.append(name)
                self.stop.set()

    def start(self) -> None:
        """Start the health server (OSError when BW_METRICS_ADDR is taken), then the
        components. A live process with the same BW_INSTANCE running one of them
        (`live_twin`) stops this one before anything starts (failed: "instance")."""
        twin = live_twin(self.runtime, self.names, self.stop)
        if twin is not None:
            log.error(
                "BW_INSTANCE=%s already runs %s on %s: give each replica its own stable"
                " instance (ingest-0, ingest-1, ...; never the host name); not starting",
                self.runtime.settings.instance,
                ", ".join(self.names),
                twin,
            )
            self.failed.append("instance")
            self.stop.set()
            return
        self.health.start()
        for name, run in self.runs.items():
            t = threading.Thread(
                target=self._guard, args=(name, run), name=f"bw-{name}", daemon=True
            )
            t.start()
            self.threads.append(t)
        self.runtime.started.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until stopped (signal or failure); True when stopped."""
        return self.stop.wait(timeout)

    def shutdown(self, timeout: float = 20.0) -> None:
        """Stop every component within `timeout` in all; those still running are named
        (their threads are daemons: they cannot hold the process)."""
        self.stop.set()
        stuck = join_within(self.threads, timeout)
        if stuck:
            log.warning("%s did not stop within %.0f s", ", ".join(stuck), timeout)
        self.health.close()
