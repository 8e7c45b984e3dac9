"""`brightwatch serve`: run components until SIGINT/SIGTERM or a failure."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from brightwatch.components import COMPONENTS, ComponentSet
from brightwatch.settings import Settings, redact_url
from brightwatch.wiring import build_runtime

log = logging.getLogger(__name__)


def run_service(settings: Settings, names: Sequence[str]) -> int:
    from brightwatch.cli import stop_on_signals

    unknown = [n for n in names if n not in COMPONENTS]
    if unknown or not names:
        log.error("unknown components %s; choose from %s", unknown, ", ".join(COMPONENTS))
        return 2
    runtime = build_runtime(settings)
    components = ComponentSet(runtime, names)
    log.info(
        "starting %s (database %s, broker %s)",
        ", ".join(names),
        redact_url(runtime.database_url),
        redact_url(settings.mqtt_url.get_secret_value()),
    )
    with stop_on_signals(components.stop):
        try:
            components.start()
        except OSError as exc:  # BW_METRICS_ADDR taken or not ours
            log.error("cannot serve metrics on BW_METRICS_ADDR=%s: %s", settings.metrics_addr, exc)
            components.shutdown()
            return 1
        components.wait()
    components.shutdown()
    if components.failed:
        log.error("stopped because %s failed", ", ".join(components.failed))
        return 1
    return 0
