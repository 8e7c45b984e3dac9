"""Components started in this process, as `brightwatch serve` starts them."""

from __future__ import annotations

import time

from brightwatch.components import ComponentSet
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime


def started(settings: Settings, component: str, health: str, timeout: float = 60) -> ComponentSet:
    """`component` running on `settings`, once its health probe `health` (its MQTT
    subscription) says so; the caller shuts it down."""
    runtime = build_runtime(settings)
    components = ComponentSet(runtime, [component])
    components.start()
    deadline = time.monotonic() + timeout
    while not (health in runtime.health and runtime.health[health]()):
        if components.failed or time.monotonic() > deadline:
            components.shutdown()
            raise AssertionError(f"{component} did not start (failed: {components.failed})")
        time.sleep(0.05)
    return components
