"""The `vision` component: the vision worker on the camera topics, its ticker and the
retention sweep.

Its own persistent MQTT session (client id `<instance>-vision-0`) on
`bw/kitchens/+/cameras/+/{frame,detections,availability}` with QoS 1, acknowledged after
each batch's commit. As for the elevator rules, a camera's messages must all reach one
worker in order: with `[vision] partitions` the replicas share the cameras through leases
(a lease thread, progress `vision.leases`; see vision.worker and db.partitions), each on
its own session without a shared group; otherwise one vision worker takes every camera
(BW_SHARE_GROUP: `$share/<group>-vision/...`, exact only on a broker that dispatches by
topic hash). Health: `mqtt-vision`; progress: `vision` (the consumer, with the frames shed
for coming too late among its counters), `vision.ticker`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from brightwatch.alerts.evidence import retention
from brightwatch.components.consuming import worker_consumer
from brightwatch.components.leasing import lease_thread, ownership
from brightwatch.components.startup import when_reachable
from brightwatch.contract.topics import camera_filters
from brightwatch.db.connect import make_pool
from brightwatch.mqttlink.factory import Consumer
from brightwatch.progress import Beat, Progress, ProgressSource, loop_progress
from brightwatch.runtime import Runtime
from brightwatch.vision import metrics
from brightwatch.vision.inference import build
from brightwatch.vision.worker import VisionWorker

log = logging.getLogger(__name__)


def make_worker(runtime: Runtime) -> VisionWorker:
    settings = runtime.settings
    vs = settings.vision
    inference = build(vs, settings.model, settings.data_dir)
    log.info(
        "vision: detectors %s, classifiers %s",
        ", ".join(inference.models) or "none (edge detections and camera health only)",
        ", ".join(c.name for c in inference.classifiers) or "none",
    )
    pool = make_pool(runtime.database_url, min_size=1, max_size=3, name="vision")
    return VisionWorker(
        vs,
        runtime.alert_store,
        pool,
        settings.topic_root,
        settings.data_dir,
        inference if inference.detectors else None,
        unknown_devices=settings.unknown_devices,
        review_codes=settings.alerts.review.codes,
        max_future=timedelta(seconds=settings.ingest.max_future_skew_s),
        locale=settings.locale,
        ownership=ownership("vision", vs, settings.instance),
    )


def run(runtime: Runtime, stop: threading.Event) -> None:
    settings = runtime.settings
    vs = settings.vision
    worker = make_worker(runtime)
    consumer = worker_consumer(
        runtime,
        "vision",
        "vision",
        camera_filters(settings.topic_root),
        worker.handle,
        vs,
        shared=worker.ownership is None,
    )
    runtime.health["mqtt-vision"] = lambda: consumer.connected and consumer.subscribed.is_set()
    runtime.progress["vision"] = _with_shed(loop_progress(consumer), worker)
    metrics.FRAME_QUEUE.set_function(lambda: consumer.backlog)
    ticker = threading.Thread(
        target=_tick_loop,
        args=(worker, consumer, runtime, stop),
        name="bw-vision-ticker",
        daemon=True,
    )
    leasing = lease_thread(runtime, "vision", worker.ownership, worker, consumer, stop)
    try:
        known = when_reachable(stop, "vision worker", worker.load_all)
        if known is None:  # asked to stop while the database was away
            return
        log.info("vision worker: %d camera(s) with a saved rule state", known)
        ticker.start()
        if leasing is not None:
            leasing.start()
        consumer.run(stop)
    finally:
        stop.set()
        if ticker.is_alive():
            ticker.join(10)
        if leasing is not None and leasing.is_alive():
            leasing.join(15)
        worker.pool.close()
        if worker.inference is not None:
            worker.inference.close()


def _with_shed(read: ProgressSource, worker: VisionWorker) -> ProgressSource:
    """The consumer's progress with the frames shed so far (`[vision] shed_after_s`) among
    its counters: the heartbeat tells an over-capacity node from a stuck one."""

    def progress() -> Progress:
        p = read()
        return replace(p, counters={**p.counters, "frames_shed": worker.stats.shed})

    return progress


def _tick_loop(
    worker: VisionWorker, consumer: Consumer, runtime: Runtime, stop: threading.Event
) -> None:
    vs = runtime.settings.vision
    ticks = runtime.progress["vision.ticker"] = Beat()
    # the backlog queued while we were away comes first (frames may clear a silence)
    consumer.subscribed.wait(30)
    last_sweep = 0.0
    while not stop.wait(vs.tick_interval_ms / 1000):
        try:
            worker.tick_due()
            if time.monotonic() - last_sweep >= vs.cleanup_interval_s:
                last_sweep = time.monotonic()
                _sweep(worker, runtime)
            ticks.good()
        except Exception:
            ticks.failed()
            log.exception("vision ticker: a tick failed; retrying")
            stop.wait(1.0)


def _sweep(worker: VisionWorker, runtime: Runtime) -> None:
    keep = timedelta(days=runtime.settings.vision.frame_retention_days)
    now = datetime.now(UTC)
    with worker.pool.connection() as conn:
        gone = retention.sweep_evidence(conn, worker.data_dir, now, keep)
    days = retention.sweep_frames(worker.data_dir, now, keep)
    if gone or days:
        log.info("vision retention: %d evidence file(s), %d frame day(s) deleted", gone, days)
