"""`brightwatch serve`: run components until SIGINT/SIGTERM or a failure; the API in
several worker processes (brightwatch.components.api.run_workers) unless BW_API__WORKERS
is 1 or the machine has one CPU."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from brightwatch.components import COMPONENTS, ComponentSet
from brightwatch.settings import Settings, redact_url
from brightwatch.wiring import build_runtime

log = logging.getLogger(__name__)


def api_workers(settings: Settings) -> int:
    """API worker processes of `brightwatch serve`: BW_API__WORKERS, else one per CPU."""
    from brightwatch.components.api import cpu_count

    return settings.api.workers or cpu_count()


def run_service(settings: Settings, names: Sequence[str]) -> int:
    from brightwatch.cli import stop_on_signals

    unknown = [n for n in names if n not in COMPONENTS]
    if unknown or not names:
        log.error("unknown components %s; choose from %s", unknown, ", ".join(COMPONENTS))
        return 2
    if "ingest" in names:
        # a TimescaleDB older than 2.19 loses replayed rows (issue 16 (a)): refuse to start
        from brightwatch.db.migrate import MigrationError, check_server

        try:
            check_server(settings.database_url.get_secret_value())
        except MigrationError as exc:
            log.error("%s", exc)
            return 1
        except Exception as exc:  # the database may be starting: the components wait for it
            log.warning("database not checked at start: %s", type(exc).__name__)
    runtime = build_runtime(settings)
    components = ComponentSet(runtime, names)
    workers = api_workers(settings) if "api" in names else 1
    if workers > 1:
        # the API in worker processes of its own; the other components stay here, once
        from brightwatch.components.api import run_workers

        components.runs["api"] = partial(run_workers, workers=workers)
        if len(names) > 1 and not settings.metrics_addr:
            log.info(
                "/metrics on %s shows the API workers; set BW_METRICS_ADDR for those of %s",
                settings.http_addr,
                ", ".join(n for n in names if n != "api"),
            )
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
