"""The components `brightwatch serve` can run, each `run(runtime, stop)` in its own thread,
and the upkeep loops that run beside them."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Sequence

from brightwatch.health import ProcessHealth
from brightwatch.runtime import Runtime

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
    # the city dashboard's per-district hourly rollup
    "fleet_rollup": ("alerts", "brightwatch.dashboards.rollup:loop"),
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
        components."""
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

    def shutdown(self, timeout: float = 15.0) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout)
            if t.is_alive():
                log.warning("%s did not stop within %.0f s", t.name, timeout)
        self.health.close()
