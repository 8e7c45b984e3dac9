"""The API in several worker processes (issue 13, item 5): real `brightwatch serve` and
`brightwatch demo` processes on a loopback port, the private test database and broker.

- requests are served by more than one worker process, and /metrics on any worker sums
  the counters of all of them (Prometheus multiprocess mode);
- an alert changed once reaches live-stream clients connected to different workers
  exactly once, woken by the broker (the fallback poll is set far beyond the wait);
- the workers run no other component: the alerts component and its upkeep run once, in
  the service process;
- the demo stays one process whatever BW_API__WORKERS says.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from brightwatch.db import heartbeat
from brightwatch.embedded import free_port
from brightwatch.settings import Settings
from tests.support.alerts import fire_trapped

REPO = Path(__file__).resolve().parents[2]
WORKERS = 2
RESPONSES = re.compile(
    r'^brightwatch_api_responses_total\{method="GET",status="2xx"\} (\S+)$', re.M
)


@dataclass
class Served:
    base: str
    port: int
    proc: subprocess.Popen[bytes]
    metrics_root: Path
    log: Path

    def workers(self) -> list[int]:
        return children(self.proc.pid)


def children(pid: int) -> list[int]:
    """Pids whose parent is `pid` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: fields follow the last ')'
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return sorted(out)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _env(settings: Settings, tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        BW_DATABASE_URL=settings.database_url.get_secret_value(),
        BW_MQTT_URL=settings.mqtt_url.get_secret_value(),
        BW_MQTT_PROTOCOL=settings.mqtt_protocol,
        BW_TOPIC_ROOT=settings.topic_root,
        BW_DATA_DIR=str(tmp_path / "data"),
        BW_INSTANCE=settings.instance,
        BW_UNKNOWN_DEVICES="accept",
        BW_HTTP_ADDR=f"127.0.0.1:{port}",
        BW_ELEVATORS__MAINTENANCE__ENABLED="false",
        **extra,
    )
    return env


def _wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"{base}/healthz?scope=process", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"not serving within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes], log: Path, sig: int = signal.SIGTERM) -> None:
    proc.send_signal(sig)
    try:
        code = proc.wait(40)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = None
    assert code == 0, f"exited with {code}:\n{log.read_text()[-3000:]}"


@contextmanager
def serve(
    settings: Settings, tmp_path: Path, components: str = "api", **extra: str
) -> Iterator[Served]:
    """`brightwatch serve --components <components>` with BW_API__WORKERS=2 and the
    worker metrics under a folder of the test (PROMETHEUS_MULTIPROC_DIR)."""
    port = free_port()
    metrics_root = tmp_path / "metrics"
    metrics_root.mkdir()
    env = _env(
        settings,
        tmp_path,
        port,
        BW_API__WORKERS=str(WORKERS),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_root),
        **extra,
    )
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "brightwatch", "serve", "--components", components],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", port, proc, metrics_root, log)
    try:
        _wait_ready(served.base, proc, log)
        deadline = time.monotonic() + 30
        while len(served.workers()) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.2)
        yield served
    finally:
        if proc.poll() is None:
            _stop(proc, log)
    # the workers stopped with the service, their metrics folder removed
    assert not list(metrics_root.glob("bw-api-metrics-*"))


def _responses_by_pid(metrics_root: Path) -> dict[int, float]:
    """brightwatch_api_responses_total (GET, 2xx) per worker, from each worker's own
    multiprocess file."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    out: dict[int, float] = {}
    (folder,) = metrics_root.glob("bw-api-metrics-*")
    for f in folder.glob("counter_*.db"):
        pid = int(f.stem.split("_")[1])
        one = f.parent.parent / f"one-{pid}"
        one.mkdir(exist_ok=True)
        (one / f.name).write_bytes(f.read_bytes())
        registry = CollectorRegistry()
        MultiProcessCollector(registry, str(one))
        out[pid] = (
            registry.get_sample_value(
                "brightwatch_api_responses_total", {"method": "GET", "status": "2xx"}
            )
            or 0.0
        )
    return out


@pytest.mark.timeout(180)
def test_requests_spread_over_workers_and_metrics_sum_them(
    settings: Settings, tmp_path: Path
) -> None:
    with serve(settings, tmp_path) as s:
        workers = s.workers()
        assert len(workers) == WORKERS, f"worker processes: {workers}"
        served_ok = 0

        def one(_: int) -> int:
            # a new connection per request: the kernel hands it to any worker
            r = httpx.get(f"{s.base}/healthz?scope=process", timeout=10)
            return 1 if r.status_code == 200 else 0

        by_pid: dict[int, float] = {}
        with ThreadPoolExecutor(8) as pool:
            for _ in range(20):  # bounded: 20 rounds of 32 requests
                served_ok += sum(pool.map(one, range(32)))
                by_pid = _responses_by_pid(s.metrics_root)
                if sum(1 for v in by_pid.values() if v > 0) >= 2:
                    break
        busy = {pid for pid, n in by_pid.items() if n > 0}
        assert len(busy) >= 2, f"one worker served everything: {by_pid}"
        assert busy <= set(workers), f"{busy} are not the workers {workers}"
        # /metrics from whichever worker answers: the sum over every worker
        text = httpx.get(f"{s.base}/metrics", timeout=10).text
        (value,) = RESPONSES.findall(text)
        # the readiness probe's 200 counted too: at least every 200 this test received
        assert float(value) == sum(by_pid.values()) >= served_ok
        assert "pid=" not in text.split("brightwatch_api_responses_total", 1)[1].split("\n")[0]


# ------------------------------------------------------------------ live stream


@dataclass
class StreamReader:
    """A raw HTTP/1.1 client on the SSE stream (its own connection, whose local port
    tells which worker serves it)."""

    port: int
    token: str
    sock: socket.socket = field(init=False)
    raw: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.sock.sendall(
            (
                "GET /api/v1/alerts/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    @property
    def local_port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _read(self) -> None:
        self.sock.settimeout(0.5)
        while not self._stop.is_set():
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            self.raw += chunk

    def started(self) -> bool:
        return b"retry: " in self.raw

    def events(self) -> list[dict[str, object]]:
        text = self.raw.decode(errors="replace")
        return [json.loads(m) for m in re.findall(r"^data: (\{.*\})\r?$", text, re.M)]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


def _server_pid(client_port: int, server_port: int, pids: list[int]) -> int | None:
    """The worker holding the server end of the connection from `client_port`."""
    want_local = f"{server_port:04X}"
    want_remote = f"{client_port:04X}"
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[1].endswith(":" + want_local) and cols[2].endswith(":" + want_remote):
                inode = cols[9]
    if inode is None:
        return None
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def _fire(settings: Settings, device: str) -> None:
    fire_trapped(settings, device, summary=f"trapped on {device}")


@pytest.mark.timeout(240)
def test_an_alert_reaches_stream_clients_of_every_worker_once_and_runs_once(
    settings: Settings,
    tmp_path: Path,
    make_token,
) -> None:
    token = make_token("admin")["Authorization"].split()[1]
    # the stream's fallback poll (60 s) is far beyond the waits below: only the broker's
    # wake-up call (the alerts component's outbox message) delivers the events in time
    with serve(
        settings,
        tmp_path,
        "api,alerts",
        BW_API__LIVE_POLL_S="60",
        BW_HEALTH__HEARTBEAT_INTERVAL_S="0.5",
    ) as s:
        workers = s.workers()
        assert len(workers) == WORKERS
        readers: list[StreamReader] = []
        on: dict[int, list[StreamReader]] = {}
        try:
            for _ in range(24):  # bounded: new connections until two workers hold some
                r = StreamReader(s.port, token)
                readers.append(r)
                deadline = time.monotonic() + 10
                while not r.started() and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert r.started(), r.raw[:500]
                pid = _server_pid(r.local_port, s.port, workers)
                assert pid in workers, f"connection on {pid}, workers {workers}"
                on.setdefault(pid, []).append(r)
                if len(on) >= 2 and len(readers) >= 4:
                    break
            assert len(on) >= 2, f"every stream landed on one worker: {list(on)}"
            time.sleep(1.0)  # each stream past its first read, waiting on the broker
            started = time.monotonic()
            _fire(settings, "E1")
            _fire(settings, "E2")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and any(
                sum(e["action"] == "fired" for e in r.events()) < 2 for r in readers
            ):
                time.sleep(0.1)
            delivered = time.monotonic() - started
            time.sleep(2.0)  # anything sent twice would arrive by now
            for pid, group in on.items():
                for r in group:
                    got = [(e["device_id"], e["action"]) for e in r.events()]
                    # later actions (the alerts component's own "notified") may follow; each
                    # event arrives once, and both alerts fired in order
                    fired = [g for g in got if g[1] == "fired"]
                    assert fired == [("E1", "fired"), ("E2", "fired")], f"worker {pid}: {got}"
                    assert len(set(got)) == len(got), f"worker {pid} sent twice: {got}"
            assert delivered < 25, f"events took {delivered:.1f} s (the fallback poll is 60 s)"
        finally:
            for r in readers:
                r.close()

        # the alerts component (and its upkeep) ran in the service process only
        with psycopg.connect(settings.database_url.get_secret_value()) as conn:
            rows = heartbeat.read(conn)
        mine = [h for h in rows if h.replica == settings.instance]
        assert any(h.component.startswith("alerts") for h in mine), mine
        assert {h.pid for h in mine} == {s.proc.pid}, (s.proc.pid, workers, mine)


@pytest.mark.timeout(180)
def test_the_demo_stays_one_process(settings: Settings, tmp_path: Path) -> None:
    """BW_API__WORKERS applies to `brightwatch serve`; the demo serves from itself."""
    port = free_port()
    env = _env(settings, tmp_path, port, BW_API__WORKERS="3")
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "brightwatch", "demo", "--elevators", "2", "--kitchens", "1"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(f"http://127.0.0.1:{port}", proc, log, timeout=120)
        api_workers = [
            p for p in children(proc.pid) if b"brightwatch.components.api" in _cmdline(p)
        ]
        assert api_workers == [], f"the demo started API workers {api_workers}"
        assert "worker processes" not in log.read_text()
    finally:
        if proc.poll() is None:
            _stop(proc, log, signal.SIGINT)
