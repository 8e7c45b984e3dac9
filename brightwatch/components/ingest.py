"""The `ingest` component: consumers writing device messages, and the upkeep loop.

`run(runtime, stop)` consumes in the calling thread (worker 0), runs the maintenance
loop in a thread, and with `BW_INGEST__WORKERS` > 1 starts and watches that many more
worker processes, which share the load through the `$share/<BW_SHARE_GROUP>/...`
subscription (each has its own client id, hence its own persistent session).

Replicas: each ingest process needs its own stable BW_INSTANCE (`ingest-0`, `ingest-1`:
a replica number, never the host name, which changes with every container), so its
client ids `<instance>-ingest-<n>` are unique in the group and a restarted replica
resumes its persistent session and loses nothing. mosquitto keeps a departed member's
share of the group in its session until it expires; a member removed for good is
retired (`retire`, `brightwatch replicas retire`): its sessions are drained through the
normal handler into the database and then ended.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from multiprocessing.process import BaseProcess

from brightwatch.components.consuming import isolation
from brightwatch.contract.topics import Channel, camera_filters, elevator_filters
from brightwatch.health import observe_lag
from brightwatch.ingest import metrics
from brightwatch.ingest.maintenance import maintenance_loop
from brightwatch.ingest.worker import IngestWorker
from brightwatch.mqttlink import factory
from brightwatch.mqttlink.factory import Consumer
from brightwatch.mqttlink.retire import Retired
from brightwatch.mqttlink.retire import retire as retire_session
from brightwatch.progress import loop_progress
from brightwatch.runtime import Runtime, broker_of, utcnow
from brightwatch.settings import Settings

log = logging.getLogger(__name__)


def topic_filters(root: str) -> list[str]:
    """Elevator status, event, stats and availability; camera availability (frames and
    detections are the vision worker's)."""
    return [*elevator_filters(root), *camera_filters(root, (Channel.AVAILABILITY,))]


def client_id(settings: Settings, n: int) -> str:
    """Runtime.client_id("ingest", n), also where no Runtime exists (worker processes):
    stable across restarts, so the persistent session is found again."""
    return f"{settings.instance}-ingest-{n}"


def make_consumer(settings: Settings, n: int, worker: IngestWorker) -> Consumer:
    s = settings.ingest
    return factory.make_consumer(
        s.mqtt_client,
        broker_of(settings),
        client_id(settings, n),
        topic_filters(settings.topic_root),
        observe_lag("ingest", worker),
        share_group=settings.share_group,
        batch_size=s.batch_size,
        batch_wait_s=s.batch_wait_ms / 1000,
        receive_maximum=s.receive_maximum,
        max_backlog_bytes=s.max_backlog_mb * 1024 * 1024,
        isolation=isolation(settings, "ingest", client_id(settings, n)),
        name="ingest",
    )


def make_worker(settings: Settings, n: int) -> IngestWorker:
    return IngestWorker(
        settings.ingest,
        settings.database_url.get_secret_value(),
        settings.topic_root,
        client_id(settings, n),
        settings.unknown_devices,
    )


def consume(settings: Settings, n: int, stop: threading.Event, runtime: Runtime | None) -> None:
    worker = make_worker(settings, n)
    consumer = make_consumer(settings, n, worker)
    if runtime is not None:
        runtime.health["mqtt-ingest"] = lambda: consumer.connected
        runtime.progress["ingest"] = loop_progress(consumer)
    if n == 0:
        metrics.BACKLOG.set_function(lambda: consumer.backlog)
    try:
        consumer.run(stop)
    finally:
        worker.close()
        log.info(
            "ingest worker %d stopped: %d messages, %d stored, %d duplicates, %d dead letters",
            n,
            worker.totals.messages,
            worker.totals.stored,
            worker.totals.duplicates,
            worker.totals.dead_letters,
        )


def _worker_process(settings: Settings, n: int) -> None:
    """Entry of an extra worker process: consume until SIGTERM."""
    from brightwatch.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    consume(settings, n, stop, None)


class WorkerProcesses:
    """Extra worker processes, restarted when one dies."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.context = multiprocessing.get_context("spawn")
        self.procs: dict[int, BaseProcess] = {}
        self.count = count

    def _start(self, n: int) -> None:
        p = self.context.Process(
            target=_worker_process, args=(self.settings, n), name=f"bw-ingest-{n}", daemon=True
        )
        p.start()
        self.procs[n] = p

    def start(self) -> None:
        for n in range(1, self.count):
            self._start(n)

    def watch(self, stop: threading.Event) -> None:
        while not stop.wait(1.0):
            for n, p in list(self.procs.items()):
                if not p.is_alive():
                    log.error("ingest worker %d exited (code %s); starting it again", n, p.exitcode)
                    self._start(n)

    def stop(self, timeout: float = 15.0) -> None:
        for p in self.procs.values():
            if p.is_alive():
                p.terminate()  # SIGTERM: the worker finishes its batch and disconnects
        for p in self.procs.values():
            p.join(timeout)
            if p.is_alive():
                p.kill()


def run(runtime: Runtime, stop: threading.Event) -> None:
    settings = runtime.settings
    workers = settings.ingest.workers
    if workers > 1 and not settings.share_group:
        raise ValueError("BW_INGEST__WORKERS > 1 needs BW_SHARE_GROUP (a shared subscription)")
    clock = runtime.clock if runtime.clock is not None else utcnow
    upkeep = threading.Thread(
        target=maintenance_loop,
        args=(runtime.database_url, settings.ingest, stop, clock),
        name="bw-ingest-maintenance",
        daemon=True,
    )
    upkeep.start()
    extra = WorkerProcesses(settings, workers)
    extra.start()
    watcher = threading.Thread(
        target=extra.watch, args=(stop,), name="bw-ingest-watch", daemon=True
    )
    watcher.start()
    try:
        consume(settings, 0, stop, runtime)
    finally:
        extra.stop()
        upkeep.join(15)


def retire(
    settings: Settings,
    instance: str,
    workers: int,
    *,
    quiet_s: float = 3.0,
    max_s: float = 600.0,
    stop: threading.Event | None = None,
) -> list[Retired]:
    """Retire the ingest sessions of the member BW_INSTANCE=`instance` (removed for good,
    `workers` worker sessions): each is drained into the database by an ingest worker of
    that name, then ended (mqttlink.retire)."""
    gone = settings.model_copy(update={"instance": instance})
    out: list[Retired] = []
    for n in range(workers):
        worker = make_worker(gone, n)
        try:
            out.append(
                retire_session(
                    broker_of(settings),
                    client_id(gone, n),
                    topic_filters(settings.topic_root),
                    worker,
                    share_group=settings.share_group,
                    isolation=isolation(gone, "ingest", client_id(gone, n)),
                    quiet_s=quiet_s,
                    max_s=max_s,
                    stop=stop,
                )
            )
        finally:
            worker.close()
    return out
