"""The `api` component: uvicorn serving the app until the service stops.

`run` serves in this process (the demo, and `brightwatch serve` with one API worker).
`run_workers` is what `brightwatch serve` runs for several (`BW_API__WORKERS`, one per
CPU unless set): this process binds the address once and starts that many worker
processes on the socket (`python -m brightwatch.components.api`); the kernel spreads the
connections over them. A worker runs the HTTP app and nothing else (no ingest, rules,
vision or alerts component, no upkeep loop: those run once, in this process or their
own), holds its own database pool and its own MQTT client (api.live: a client id with its
host and pid), and counts its metrics in Prometheus multiprocess mode, in a folder made
empty for this run, so that /metrics on any worker sums them all. A worker that dies is
replaced (its metrics kept as a dead process's); one that dies at start-up again and
again stops the service.
"""

from __future__ import annotations

import base64
import logging
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from brightwatch.api.app import create_app
from brightwatch.api.routes.public import app_pictures
from brightwatch.runtime import Runtime
from brightwatch.settings import Settings

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# a worker that exits sooner than this after its start counts as failing to start
EARLY_EXIT_S = 10.0
EARLY_EXITS_MAX = 3
STOP_GRACE_S = 10.0


def _config(app: Any, s: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=s.http_host,
        port=s.http_port,
        log_config=None,  # our logging set-up (text or JSON, redacted)
        access_log=False,
        proxy_headers=True,
        server_header=False,
        # a stop does not wait on a client that keeps a request open (the live stream)
        timeout_graceful_shutdown=int(STOP_GRACE_S),
    )


def _serving_app(runtime: Runtime) -> Any:
    """The HTTP app of a serving process (not a test client's), its public pictures'
    privacy filter loading in the background."""
    app = create_app(runtime)
    app_pictures(app).prepare()
    return app


def run(runtime: Runtime, stop: threading.Event) -> None:
    s = runtime.settings
    server = uvicorn.Server(_config(_serving_app(runtime), s))

    def stop_server() -> None:
        stop.wait()
        server.should_exit = True

    watcher = threading.Thread(target=stop_server, name="bw-api-stop", daemon=True)
    watcher.start()
    server.run()
    if not stop.is_set() and not server.started:
        raise RuntimeError(f"HTTP server could not start on {s.http_addr}")


# ------------------------------------------------------------------ several workers


def cpu_count() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def metrics_folder() -> Path:
    """An empty folder for this run's worker metrics: under PROMETHEUS_MULTIPROC_DIR when
    the operator set one, else the system's temporary folder."""
    parent = os.environ.get(MULTIPROC_ENV) or None
    if parent:
        Path(parent).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="bw-api-metrics-", dir=parent))


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    started: float


class WorkerPool:
    """API worker processes on one listening socket."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.count = count
        self.metrics_dir = metrics_folder()
        self.sock = _config("brightwatch.components.api:run", settings).bind_socket()
        self.workers: list[_Worker] = []
        self.early_exits = 0
        self._blob = base64.b64encode(pickle.dumps(settings))

    def _start(self) -> _Worker:
        fd = self.sock.fileno()
        env = {**os.environ, MULTIPROC_ENV: str(self.metrics_dir)}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "brightwatch.components.api",
                "--fd",
                str(fd),
                "--parent",
                str(os.getpid()),
            ],
            stdin=subprocess.PIPE,
            env=env,
            pass_fds=(fd,),
            # a terminal's Ctrl-C reaches this process, which stops the workers in order
            start_new_session=True,
        )
        assert proc.stdin is not None
        proc.stdin.write(self._blob)
        proc.stdin.close()
        return _Worker(proc, time.monotonic())

    def start(self) -> None:
        self.workers = [self._start() for _ in range(self.count)]
        log.info(
            "API on http://%s: %d worker processes (pids %s), metrics summed from %s",
            self.settings.http_addr,
            self.count,
            ", ".join(str(w.proc.pid) for w in self.workers),
            self.metrics_dir,
        )

    def pids(self) -> list[int]:
        return [w.proc.pid for w in self.workers]

    def replace_dead(self) -> None:
        """Start a worker for each one that exited; RuntimeError when they keep failing
        at start-up."""
        for i, w in enumerate(self.workers):
            code = w.proc.poll()
            if code is None:
                continue
            _mark_dead(w.proc.pid, self.metrics_dir)
            if time.monotonic() - w.started < EARLY_EXIT_S:
                self.early_exits += 1
                if self.early_exits >= EARLY_EXITS_MAX:
                    raise RuntimeError(
                        f"API workers on {self.settings.http_addr} exit at start-up"
                        f" (exit code {code}, {self.early_exits} times)"
                    )
            else:
                self.early_exits = 0
            log.warning("API worker pid %d exited (code %s); starting another", w.proc.pid, code)
            self.workers[i] = self._start()

    def close(self, grace_s: float = STOP_GRACE_S) -> None:
        """SIGTERM (uvicorn finishes the requests in flight), SIGKILL after `grace_s`."""
        for w in self.workers:
            if w.proc.poll() is None:
                w.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for w in self.workers:
            try:
                w.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("API worker pid %d did not stop in %.0f s", w.proc.pid, grace_s)
                w.proc.kill()
                w.proc.wait(5)
            _mark_dead(w.proc.pid, self.metrics_dir)
        self.sock.close()
        shutil.rmtree(self.metrics_dir, ignore_errors=True)


def _mark_dead(pid: int, folder: Path) -> None:
    from prometheus_client.multiprocess import mark_process_dead

    mark_process_dead(pid, str(folder))


def run_workers(runtime: Runtime, stop: threading.Event, workers: int) -> None:
    """`workers` API processes until `stop` (the component `brightwatch serve` runs for
    BW_API__WORKERS > 1)."""
    pool = WorkerPool(runtime.settings, workers)  # OSError when the address is taken
    try:
        pool.start()
        while not stop.wait(0.5):
            pool.replace_dead()
    finally:
        pool.close()


# ------------------------------------------------------------------ one worker


def _worker_main(fd: int, parent: int) -> None:
    """A worker process: the settings (pickled, base64) on stdin, the listening socket
    as `fd`; stops on SIGTERM or SIGINT, or when its parent is gone."""
    from brightwatch.logs import setup_logging
    from brightwatch.wiring import build_runtime

    settings: Settings = pickle.loads(base64.b64decode(sys.stdin.buffer.read()))  # from our parent
    setup_logging(settings.log_level, settings.log_format)
    sock = socket.socket(fileno=fd)
    runtime = build_runtime(settings)
    server = uvicorn.Server(_config(_serving_app(runtime), settings))

    def orphaned() -> None:
        while not server.should_exit:
            if os.getppid() != parent:
                log.warning("API worker pid %d: the service is gone; stopping", os.getpid())
                server.should_exit = True
                return
            time.sleep(1.0)

    threading.Thread(target=orphaned, name="bw-api-parent", daemon=True).start()
    server.run(sockets=[sock])


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m brightwatch.components.api")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    args = parser.parse_args(argv)
    _worker_main(args.fd, args.parent)


if __name__ == "__main__":
    main()
