"""The `elevators` component: the rules worker on the elevator topics, and its ticker.

Its own persistent MQTT session (client id `<instance>-rules-0`) on
`bw/elevators/+/{status,event,stats,availability}`, acknowledged after each batch's
commit. With `[elevators] partitions` the replicas share the elevators through leases
(a lease thread, progress `elevators.leases`; see elevators.worker and db.partitions),
each on its own session without a shared group; otherwise, with BW_SHARE_GROUP, through
`$share/<group>-rules/...`. A ticker thread fires due timers every
`tick_interval_ms`. Health: `mqtt-rules`; progress: `elevators` (the consumer),
`elevators.ticker`. A third thread runs the on-demand
maintenance scheduler (elevators.maintenance.scheduler) when `[elevators.maintenance]`
is enabled.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from brightwatch.components.consuming import worker_consumer
from brightwatch.components.leasing import lease_thread, ownership
from brightwatch.components.startup import when_reachable
from brightwatch.contract.topics import elevator_filters
from brightwatch.db.connect import make_pool
from brightwatch.elevators.worker import RulesWorker
from brightwatch.mqttlink.factory import Consumer
from brightwatch.progress import Beat, loop_progress
from brightwatch.runtime import Runtime

log = logging.getLogger(__name__)


def run(runtime: Runtime, stop: threading.Event) -> None:
    settings = runtime.settings
    rules = settings.elevators
    pool = make_pool(runtime.database_url, min_size=1, max_size=4, name="rules")
    worker = RulesWorker(
        rules,
        runtime.alert_store,
        pool,
        settings.topic_root,
        unknown_devices=settings.unknown_devices,
        max_future=timedelta(seconds=settings.ingest.max_future_skew_s),
        max_age=timedelta(days=settings.ingest.raw_retention_days),
        locale=settings.locale,
        ownership=ownership("elevators", rules, settings.instance),
    )
    consumer = worker_consumer(
        runtime,
        "elevators",
        "rules",
        elevator_filters(settings.topic_root),
        worker.handle,
        rules,
        shared=worker.ownership is None,
    )
    runtime.health["mqtt-rules"] = lambda: consumer.connected and consumer.subscribed.is_set()
    runtime.progress["elevators"] = loop_progress(consumer)
    ticks = runtime.progress["elevators.ticker"] = Beat()
    ticker = threading.Thread(
        target=_tick_loop,
        args=(
            worker,
            consumer,
            stop,
            rules.tick_interval_ms / 1000,
            rules.state_save_interval_s,
            ticks,
        ),
        name="bw-rules-ticker",
        daemon=True,
    )
    planner = _maintenance_thread(runtime, stop)
    leasing = lease_thread(runtime, "elevators", worker.ownership, worker, consumer, stop)
    try:
        pending = when_reachable(stop, "rules worker", worker.load_dues)
        if pending is None:  # asked to stop while the database was away
            return
        log.info("rules worker: %d elevator(s) with a pending deadline", pending)
        ticker.start()
        if leasing is not None:
            leasing.start()
        if planner is not None:
            planner.start()
        consumer.run(stop)
    finally:
        stop.set()
        if ticker.is_alive():
            ticker.join(10)
        if leasing is not None and leasing.is_alive():
            leasing.join(15)
        if planner is not None and planner.is_alive():
            planner.join(10)
        pool.close()


def _maintenance_thread(runtime: Runtime, stop: threading.Event) -> threading.Thread | None:
    settings = runtime.settings
    if not settings.elevators.maintenance.enabled:
        return None
    from brightwatch.db.connect import connect
    from brightwatch.elevators.maintenance.notice import WithdrawalNotice
    from brightwatch.elevators.maintenance.scheduler import MaintenanceScheduler

    scheduler = MaintenanceScheduler(
        settings.elevators.maintenance,
        runtime.clock,
        open_ticket=runtime.tickets.open_maintenance,
        on_withdrawn=WithdrawalNotice(runtime.pipeline, runtime.alert_store),
    )
    return threading.Thread(
        target=scheduler.run,
        args=(lambda: connect(runtime.database_url), stop),
        name="bw-maintenance",
        daemon=True,
    )


def _tick_loop(
    worker: RulesWorker,
    consumer: Consumer,
    stop: threading.Event,
    interval: float,
    flush_every: float,
    ticks: Beat,
) -> None:
    # messages queued for us while we were away come first: deadlines that they may
    # move (a terminal that did speak) are not fired before the session is live
    consumer.subscribed.wait(30)
    last_flush = time.monotonic()
    while not stop.wait(interval):
        try:
            worker.tick_due()
            if flush_every and time.monotonic() - last_flush >= flush_every:
                last_flush = time.monotonic()
                worker.flush()
            ticks.good()
        except Exception:
            ticks.failed()
            log.exception("rules ticker: a tick failed; retrying")
            stop.wait(1.0)
    try:
        worker.flush()  # a clean stop leaves nothing unsaved
    except Exception:
        log.exception("rules worker: could not save the last states")
