"""The `elevators` component (built in a later issue)."""

from __future__ import annotations

import logging
import threading

from brightwatch.runtime import Runtime

log = logging.getLogger(__name__)


def run(runtime: Runtime, stop: threading.Event) -> None:
    log.warning("the elevators component has no rules yet")
    stop.wait()
