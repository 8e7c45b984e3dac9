"""Health and metrics of one process: its components' progress, the heartbeat rows, and
the small HTTP server on BW_METRICS_ADDR.

Each process judges its own progress sources (brightwatch.progress) and answers for them
alone on its own address (`/healthz`: 503 naming a stuck component; `/metrics`), so a
container health check restarts only the process that is stuck. Every heartbeat interval
it also writes one row per source to `component_heartbeat` (db.heartbeat), from which the
API's /healthz shows the whole system (api/routes/health.py).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, Histogram, generate_latest

from brightwatch import stopping
from brightwatch.db import heartbeat
from brightwatch.db.heartbeat import Heartbeat
from brightwatch.progress import Verdict
from brightwatch.runtime import Runtime

log = logging.getLogger(__name__)

LAST_GOOD = Gauge(
    "brightwatch_component_last_good_timestamp_seconds",
    "When a component's last good batch (or loop pass) went through (0: not yet)",
    ["component"],
)
BACKLOG = Gauge(
    "brightwatch_component_backlog", "Work a component received and has not done yet", ["component"]
)
CONSECUTIVE_FAILURES = Gauge(
    "brightwatch_component_consecutive_failures",
    "Failed batches (or loop passes) of a component since its last good one",
    ["component"],
)
STUCK = Gauge(
    "brightwatch_component_stuck",
    "1 when a component is stuck: failing, or work waiting and no good batch, too long",
    ["component"],
)
CONSUMER_LAG = Histogram(
    "brightwatch_consumer_lag_seconds",
    "Broker receipt to commit of the oldest message of each batch the handler committed",
    ["component"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)

HOST = socket.gethostname()
APP_NAME = "brightwatch-heartbeat"  # in pg_stat_activity
STATES = ("ok", "silent", "stuck")  # worst last


def observe_lag(component: str, handler: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    """`handler` (an MQTT consumer's) that also observes the consumer lag of each batch
    it returns from (the consumer acknowledges right after)."""
    lag = CONSUMER_LAG.labels(component)

    def handle(batch: list[Any]) -> Any:
        result = handler(batch)
        if batch:
            lag.observe(max(0.0, time.time() - batch[0].received_at.timestamp()))
        return result

    return handle


def publish(verdicts: Iterable[Verdict]) -> None:
    """The component gauges from the latest verdicts."""
    for v in verdicts:
        p = v.progress
        LAST_GOOD.labels(v.name).set(p.last_good_at or 0.0)
        BACKLOG.labels(v.name).set(p.backlog)
        CONSECUTIVE_FAILURES.labels(v.name).set(p.consecutive_failures)
        STUCK.labels(v.name).set(1 if v.stuck else 0)


# ------------------------------------------------------------------ reports


def _iso(ts: float | datetime | None) -> str | None:
    if ts is None:
        return None
    if isinstance(ts, datetime):
        return ts.astimezone(UTC).isoformat()
    return datetime.fromtimestamp(ts, UTC).isoformat()


def beat_of(runtime: Runtime, v: Verdict) -> Heartbeat:
    p = v.progress
    return Heartbeat(
        component=v.name,
        replica=runtime.settings.instance,
        host=HOST,
        pid=os.getpid(),
        state="stuck" if v.stuck else "ok",
        reason=v.reason,
        last_good_at=datetime.fromtimestamp(p.last_good_at, UTC) if p.last_good_at else None,
        backlog=p.backlog,
        consecutive_failures=p.consecutive_failures,
        detail=dict(p.counters),
    )


def replica_view(b: Heartbeat, stale_s: float | None = None) -> dict[str, Any]:
    """One replica's line of /healthz; a heartbeat older than `stale_s` is silent."""
    silent = stale_s is not None and b.age_s > stale_s
    return {
        "component": b.component,
        "replica": b.replica,
        "host": b.host,
        "pid": b.pid,
        "state": "silent" if silent else b.state,
        "reason": f"no heartbeat for {b.age_s:.0f} s" if silent else b.reason,
        "last_good_at": _iso(b.last_good_at),
        "backlog": b.backlog,
        "consecutive_failures": b.consecutive_failures,
        "heartbeat_age_s": round(b.age_s, 1),
    }


def own_replicas(runtime: Runtime) -> list[dict[str, Any]]:
    """This process's progress sources, judged now."""
    verdicts = runtime.verdicts()
    publish(verdicts)
    return [replica_view(beat_of(runtime, v)) for v in verdicts]


def system_replicas(runtime: Runtime, rows: Sequence[Heartbeat]) -> list[dict[str, Any]]:
    """Every replica of the system: the heartbeat rows, this process's own sources live."""
    own = own_replicas(runtime)
    mine = {(r["component"], r["replica"]) for r in own}
    me = (runtime.settings.instance, HOST, os.getpid())
    stale_s = runtime.settings.health.heartbeat_stale_s
    others = [
        replica_view(b, stale_s)
        for b in rows
        if (b.component, b.replica) not in mine and (b.replica, b.host, b.pid) != me
    ]
    return sorted(own + others, key=lambda r: (r["component"], r["replica"]))


def probe_parts(runtime: Runtime, mqtt_fallback: Callable[[], bool] | None) -> dict[str, str]:
    """`mqtt` (every broker probe of the process) and the other probes, ok or unavailable."""
    probes = dict(runtime.health)
    parts: dict[str, str] = {}
    mqtt = [p for k, p in probes.items() if k.startswith("mqtt")]
    if mqtt:
        parts["mqtt"] = "ok" if all(p() for p in mqtt) else "unavailable"
    elif mqtt_fallback is not None:
        parts["mqtt"] = "ok" if mqtt_fallback() else "unavailable"
    else:
        parts["mqtt"] = "unused"  # no component of this process talks to the broker
    for name, probe in probes.items():
        if not name.startswith("mqtt"):
            parts[name] = "ok" if probe() else "unavailable"
    return parts


def report(parts: dict[str, str], replicas: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, /healthz body): 200 when every part is ok and no component is stuck
    or silent, else 503 with `detail` naming what is wrong."""
    body: dict[str, Any] = {"status": "ok", **parts}
    problems = [f"{k} {v}" for k, v in parts.items() if v not in ("ok", "unused")]
    if replicas:
        components: dict[str, str] = {}
        for r in replicas:
            worst = max(components.get(r["component"], "ok"), r["state"], key=STATES.index)
            components[r["component"]] = worst
            if r["state"] != "ok":
                problems.append(f"{r['component']} {r['state']} ({r['replica']}: {r['reason']})")
        body["components"] = components
        body["replicas"] = replicas
    if problems:
        body["status"] = "degraded"
        body["detail"] = "; ".join(problems)
        return 503, body
    return 200, body


def database_part(url: str) -> str:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        log.warning("health: database: %s", type(exc).__name__)
        return "unavailable"
    return "ok"


def process_report(runtime: Runtime) -> tuple[int, dict[str, Any]]:
    """The /healthz of a process without the API: its own parts and components only."""
    parts = {"db": database_part(runtime.database_url), **probe_parts(runtime, None)}
    return report(parts, own_replicas(runtime))


# ------------------------------------------------------------------ the HTTP server


class _Handler(BaseHTTPRequestHandler):
    server: _MetricsServer

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            own_replicas(self.server.runtime)  # fresh component gauges
            self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            status, body = process_report(self.server.runtime)
            self._send(status, json.dumps(body).encode(), "application/json")
        else:
            self._send(404, b'{"detail": "not found"}', "application/json")

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("metrics server: " + format, *args)


class _MetricsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], runtime: Runtime) -> None:
        self.runtime = runtime
        super().__init__(address, _Handler)


def serve_metrics(runtime: Runtime, addr: str) -> _MetricsServer:
    """Serve /metrics and /healthz on `addr` (host:port) from a daemon thread."""
    host, _, port = addr.rpartition(":")
    server = _MetricsServer((host, int(port)), runtime)
    threading.Thread(target=server.serve_forever, name="bw-metrics", daemon=True).start()
    log.info("metrics and health on http://%s/metrics, /healthz", addr)
    return server


# ------------------------------------------------------------------ heartbeats


class HeartbeatWriter:
    """Writes this process's heartbeat rows every interval; deletes them on a clean stop."""

    FORGET_EVERY_S = 60.0

    def __init__(self, runtime: Runtime, stop: threading.Event) -> None:
        self.runtime = runtime
        self.stop = stop
        self.writes = 0
        self._failing = False
        self._forgotten_at = 0.0
        self._wrote = False
        # one connection kept between beats (every few seconds), opened again after a failure
        self._conn: psycopg.Connection[Any] | None = None

    def _connection(self) -> psycopg.Connection[Any]:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            conn = self._conn = psycopg.connect(
                self.runtime.database_url,
                autocommit=True,
                connect_timeout=5,
                application_name=APP_NAME,
            )
        return conn

    def beat(self) -> None:
        """Judge every source, publish the gauges, write the rows."""
        verdicts = self.runtime.verdicts()
        publish(verdicts)
        if not verdicts:
            return
        conn = self._connection()
        with conn.transaction():
            heartbeat.write(conn, [beat_of(self.runtime, v) for v in verdicts])
            if time.monotonic() - self._forgotten_at >= self.FORGET_EVERY_S:
                self._forgotten_at = time.monotonic()
                heartbeat.forget(conn, self.runtime.settings.health.heartbeat_forget_s)
        self._wrote = True
        self.writes += 1

    def run(self) -> None:
        interval = self.runtime.settings.health.heartbeat_interval_s
        while True:
            try:
                self.beat()
                if self._failing:
                    log.info("heartbeat: written again")
                self._failing = False
            except Exception as exc:
                if self._conn is not None:  # a new connection for the next beat
                    self._conn.close()
                    self._conn = None
                if not self._failing:  # once per outage, not every interval
                    log.warning(
                        "heartbeat: cannot write: %s",
                        type(exc).__name__,
                        exc_info=not isinstance(exc, psycopg.Error),
                    )
                self._failing = True
            if self.stop.wait(interval):
                break
        if self._wrote:
            self._remove()
        if self._conn is not None:
            self._conn.close()

    def _remove(self) -> None:
        try:
            heartbeat.remove(self._connection(), self.runtime.settings.instance, HOST, os.getpid())
        except psycopg.Error as exc:
            log.warning("heartbeat: could not delete this process's rows: %s", exc)


class Watchdog:
    """Ends a frozen process. A native deadlock that holds the interpreter (two threads
    of a C extension, each waiting for the other and for the GIL) stops every thread:
    no component can report it, /healthz does not answer, Ctrl-C's handler never runs,
    and a container only turns unhealthy, which compose does not restart. This thread
    re-arms faulthandler's timer (a native thread that needs no GIL) every
    `after_s / 4`; when no Python thread has run for `after_s` the timer prints every
    thread's stack to stderr and ends the process (status 1), and the supervisor
    (compose's `restart: unless-stopped`, systemd) starts it again. A busy process
    still runs this thread every few milliseconds."""

    def __init__(self, after_s: float, stop: threading.Event) -> None:
        self.after_s = after_s
        self.stop = stop

    def run(self) -> None:
        while True:
            stopping.arm("watchdog", self.after_s, exit=True)
            if self.stop.wait(self.after_s / 4):
                break
        stopping.disarm("watchdog")  # a stop's own print (cli.stop_on_signals) stays

    def start(self) -> None:
        if self.after_s > 0:
            threading.Thread(target=self.run, name="bw-watchdog", daemon=True).start()


class ProcessHealth:
    """What `serve` runs beside the components: the heartbeat writer, the watchdog and,
    with BW_METRICS_ADDR, the metrics and health server."""

    def __init__(self, runtime: Runtime, stop: threading.Event) -> None:
        self.runtime = runtime
        self.stop = stop
        self.writer = HeartbeatWriter(runtime, stop)
        self.watchdog = Watchdog(runtime.settings.health.watchdog_s, stop)
        self.server: _MetricsServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        addr = self.runtime.settings.metrics_addr
        if addr:
            self.server = serve_metrics(self.runtime, addr)  # OSError: address in use
        self._thread = threading.Thread(target=self.writer.run, name="bw-heartbeat", daemon=True)
        self._thread.start()
        self.watchdog.start()

    def close(self, timeout: float = 10.0) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@dataclass(frozen=True)
class RuntimeHealth:
    """The runtime's health as the HTTP app reads it (api.parts.SystemHealth)."""

    runtime: Runtime

    def probes(self, mqtt_fallback: Callable[[], bool] | None) -> dict[str, str]:
        return probe_parts(self.runtime, mqtt_fallback)

    def own(self) -> list[dict[str, Any]]:
        return own_replicas(self.runtime)

    def system(self, rows: Sequence[Heartbeat]) -> list[dict[str, Any]]:
        return system_replicas(self.runtime, rows)

    def report(
        self, parts: dict[str, str], replicas: list[dict[str, Any]]
    ) -> tuple[int, dict[str, Any]]:
        return report(parts, replicas)
