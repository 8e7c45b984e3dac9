"""Private PostgreSQL and MQTT broker instances on loopback.

Used by `brightwatch demo` (nothing configured), by the test suite and by the
benchmarks, so every one of them gets a real server it can stop and restart without
touching anything else on the machine.

PostgreSQL: the local server binaries (Debian's /usr/lib/postgresql/N/bin or PATH) when
present, otherwise those bundled by the `pgserver` wheel. MQTT: a local `mosquitto`
binary when present, otherwise the pure-Python amqtt broker (MQTT 3.1.1 only; the
service then talks 3.1.1 to it).
"""

from __future__ import annotations

import contextlib
import getpass
import glob
import logging
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


class EmbeddedError(RuntimeError):
    """A private server that cannot start, with the reason in words."""


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive_running(pid: int, word: str) -> bool:
    """Whether `pid` is a live process whose command line holds `word` (a recycled PID
    of some other program does not count)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and any(word in a for a in proc.cmdline())
    except psutil.Error:
        return False


def _live_pid(path: Path, word: str) -> int | None:
    """The PID a PID file names when that process is alive and `word` is in its command."""
    pid = _pid_in(path)
    return pid if pid is not None and _alive_running(pid, word) else None


def _wait_gone(probe: Callable[[], int | None], wait_s: float, what: str) -> int | None:
    """Poll `probe` (a live PID, or None) for up to `wait_s` seconds until it answers
    None, saying once what it waits for; the PID still alive at the end, else None."""
    deadline = time.monotonic() + wait_s
    pid = probe()
    if pid is not None and wait_s > 0:
        log.info("%s (PID %d) is still running: waiting for it", what, pid)
    while pid is not None and time.monotonic() < deadline:
        time.sleep(0.25)
        pid = probe()
    return pid


def claim(folder: Path, what: str = "brightwatch demo", wait_s: float = 30.0) -> Path:
    """Make this process the owner of the private servers under `folder` (its PID in
    `folder/owner.pid`; the caller deletes the file when it is done). A previous owner
    still alive (a demo still stopping) is waited for up to `wait_s` seconds, then refused
    in words; a dead owner's servers are the caller's to reclaim (`stop_orphan`)."""
    owner = folder / "owner.pid"

    def other_owner() -> int | None:
        pid = _live_pid(owner, "brightwatch")
        return None if pid == os.getpid() else pid

    pid = _wait_gone(other_owner, wait_s, f"the previous {what}")
    if pid is not None:
        raise EmbeddedError(
            f"another `{what}` (PID {pid}) uses {folder}: stop it, or give this one"
            " another folder (BW_DATA_DIR)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    owner.write_text(f"{os.getpid()}\n")
    return owner


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f} s")


# ---------------------------------------------------------------- PostgreSQL


def find_postgres_bin() -> Path:
    """Folder holding initdb/pg_ctl/postgres: local install first, the pgserver wheel second."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for c in candidates:
        if (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - pgserver is a dependency
        raise RuntimeError("no PostgreSQL binaries found and pgserver is not installed") from exc
    bin_dir = Path(pgserver.__file__).parent / "pginstall" / "bin"
    if not (bin_dir / "initdb").exists():
        raise RuntimeError(f"pgserver has no binaries at {bin_dir}")
    return bin_dir


def _service_user() -> str | None:
    """PostgreSQL refuses to run as root: pick (or create) an unprivileged account."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "bwpostgres"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(["useradd", "--system", "--no-create-home", "bwpostgres"], check=True)
    return "bwpostgres"


def _make_traversable(path: Path) -> None:
    for parent in [path, *path.parents]:
        with contextlib.suppress(PermissionError):
            mode = parent.stat().st_mode
            if mode & 0o005 != 0o005:
                parent.chmod(mode | 0o005)


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL cluster in `data_dir`, listening on 127.0.0.1:`port` with trust auth."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    bin_dir: Path = field(default_factory=find_postgres_bin)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        self.user = _service_user()

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True)

    def init(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        if self.user:
            _make_traversable(self.data_dir)
            _make_traversable(self.bin_dir)
            entry = pwd.getpwnam(self.user)
            for p in (self.data_dir, self.pgdata):
                os.chown(p, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8" if _has_c_utf8() else "--locale=C",
        )

    def running_pid(self) -> int | None:
        """The PID of a server still running in this cluster's folder (its postmaster.pid
        names a live postgres), else None; a stale lock file the server clears itself."""
        return _live_pid(self.pgdata / "postmaster.pid", "postgres")

    def stop_orphan(self) -> int | None:
        """Stop a server left running in this folder by an owner that is gone (a demo
        ended at once by a second Ctrl-C); its PID, or None when there was none."""
        pid = self.running_pid()
        if pid is not None:
            log.warning(
                "PostgreSQL (PID %d) was left running in %s by a demo that ended: stopping it",
                pid,
                self.pgdata,
            )
            self.stop()
        return pid

    def start(self, timeout: float = 30.0, busy_wait: float = 30.0) -> None:
        """Start the cluster. A server still running in the folder (a previous demo still
        stopping, or another one using it) is waited for up to `busy_wait` seconds, then
        refused with a message that says so; a failed start says what the server logged."""
        self.init()
        pid = _wait_gone(self.running_pid, busy_wait, f"PostgreSQL in {self.pgdata}")
        if pid is not None:
            raise EmbeddedError(
                f"PostgreSQL (PID {pid}) still runs in {self.pgdata} after {busy_wait:.0f} s:"
                " another `brightwatch demo` is using this data folder; stop it, or give this"
                " one another folder (BW_DATA_DIR)"
            )
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.pgdata} "
            "-c max_connections=200 -c shared_buffers=256MB -c fsync=on "
            "-c synchronous_commit=on -c max_wal_size=2GB -c log_min_messages=warning"
        )
        started = self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.pgdata / "server.log"),
            "-o",
            opts,
            "-w",
            "-t",
            str(int(timeout)),
            "start",
            check=False,
        )
        if started.returncode != 0:
            raise EmbeddedError(
                f"PostgreSQL did not start in {self.pgdata}: {self._last_words(started)}"
            )
        wait_for_port(self.port, timeout)

    def _last_words(self, done: subprocess.CompletedProcess[str]) -> str:
        """What the server said last: the FATAL lines of server.log, else pg_ctl's output."""
        said = ""
        with contextlib.suppress(OSError):
            said = (self.pgdata / "server.log").read_text(errors="replace")[-4000:]
        fatal = [line for line in said.splitlines() if "FATAL" in line or "HINT" in line]
        return " ".join(fatal[-2:]) or (done.stderr or done.stdout).strip()[-400:] or "no output"

    def stop(self, mode: str = "fast", timeout: float = 20.0) -> None:
        """Stop within `timeout`, else at once (`immediate`: crash-safe, the next start
        recovers from the WAL), so a slow shutdown checkpoint cannot hold the caller."""
        if not (self.pgdata / "postmaster.pid").exists():
            return

        def pg_ctl_stop(how: str, *wait: str) -> int:
            return self._run(
                "pg_ctl", "-D", str(self.pgdata), "-m", how, "-w", *wait, "stop", check=False
            ).returncode

        failed = pg_ctl_stop(mode, "-t", str(int(timeout))) != 0
        if failed and mode != "immediate" and (self.pgdata / "postmaster.pid").exists():
            log.warning(
                "PostgreSQL did not stop within %.0f s (%s): stopping it at once", timeout, mode
            )
            pg_ctl_stop("immediate")

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _has_c_utf8() -> bool:
    out = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False).stdout
    return any(line.lower() in ("c.utf8", "c.utf-8") for line in out.splitlines())


# ---------------------------------------------------------------- MQTT broker


@dataclass
class BrokerAuth:
    """Files that lock a mosquitto broker down: anonymous off, passwords, ACLs."""

    password_file: Path
    acl_file: Path


@dataclass
class EmbeddedBroker:
    """A mosquitto (or amqtt) broker on 127.0.0.1:`port`, persistence in `data_dir`."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    persistence: bool = True
    auth: BrokerAuth | None = None
    prefer: str = "mosquitto"  # or "amqtt"

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        self._proc: subprocess.Popen[bytes] | None = None
        self._amqtt: _AmqttThread | None = None

    @property
    def kind(self) -> str:
        if self.prefer == "mosquitto" and shutil.which("mosquitto"):
            return "mosquitto"
        return "amqtt"

    @property
    def protocol(self) -> str:
        """Highest MQTT version the broker speaks."""
        return "5" if self.kind == "mosquitto" else "3.1.1"

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def config_text(self) -> str:
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'false' if self.auth else 'true'}",
            f"user {getpass.getuser()}",
            # the service acknowledges only after its database commit, so it keeps many
            # messages in flight; queue generously rather than drop (mosquitto's default
            # of 1000 queued messages drops QoS 1 traffic under load)
            "max_inflight_messages 0",
            "max_queued_messages 1000000",
            "max_packet_size 16777216",
            f"pid_file {self.data_dir / 'mosquitto.pid'}",
        ]
        if self.persistence:
            lines += [
                "persistence true",
                f"persistence_location {self.data_dir}/",
                "autosave_interval 1",
            ]
        if self.auth:
            lines += [f"password_file {self.auth.password_file}", f"acl_file {self.auth.acl_file}"]
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 15.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.kind == "mosquitto":
            conf = self.data_dir / "mosquitto.conf"
            conf.write_text(self.config_text())
            log_file = open(self.data_dir / "mosquitto.log", "ab")  # noqa: SIM115
            self._proc = subprocess.Popen(
                ["mosquitto", "-c", str(conf)], stdout=log_file, stderr=subprocess.STDOUT
            )
            log_file.close()
            self.pid_file.write_text(f"{self._proc.pid}\n")
        else:
            self._amqtt = _AmqttThread(self.port)
            self._amqtt.start()
        try:
            wait_for_port(self.port, timeout)
        except TimeoutError:
            self.stop()
            tail = ""
            with contextlib.suppress(OSError):
                tail = (self.data_dir / "mosquitto.log").read_text(errors="replace")[-800:]
            raise EmbeddedError(
                f"{self.kind} broker did not start on port {self.port}: {tail}"
            ) from None

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    def stop_orphan(self) -> int | None:
        """End a mosquitto left running from this folder by an owner that is gone; its
        PID, or None when there was none."""
        import psutil

        pid = _live_pid(self.pid_file, "mosquitto")
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return None
        log.warning("mosquitto (PID %d) was left running by a demo that ended: stopping it", pid)
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            proc.terminate()
            try:
                proc.wait(10)
            except psutil.TimeoutExpired:
                proc.kill()
        self.pid_file.unlink(missing_ok=True)
        return pid

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
            self.pid_file.unlink(missing_ok=True)
        if self._amqtt is not None:
            self._amqtt.stop()
            self._amqtt = None

    def kill(self) -> None:
        """Stop without a clean shutdown (what a crash looks like)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
        else:
            self.stop()

    def restart(self) -> None:
        self.stop()
        # the port is released at once; persistence restores sessions and queued messages
        self.start()

    @property
    def running(self) -> bool:
        if self._proc is not None:
            return self._proc.poll() is None
        return self._amqtt is not None


class _AmqttThread(threading.Thread):
    """The amqtt broker in its own event loop thread (fallback when mosquitto is absent)."""

    def __init__(self, port: int) -> None:
        super().__init__(name="amqtt-broker", daemon=True)
        self.port = port
        self._loop = None
        self._broker = None
        self._ready = threading.Event()

    def run(self) -> None:
        import asyncio

        from amqtt.broker import Broker

        loop = asyncio.new_event_loop()
        self._loop = loop  # type: ignore[assignment]
        asyncio.set_event_loop(loop)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "sys_interval": 0,
            "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]},
            "topic-check": {"enabled": False},
        }
        broker = Broker(config, loop=loop)
        self._broker = broker
        loop.run_until_complete(broker.start())
        self._ready.set()
        loop.run_forever()

    def stop(self) -> None:
        import asyncio

        if self._loop is None or self._broker is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
        with contextlib.suppress(Exception):
            fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self.join(10)
