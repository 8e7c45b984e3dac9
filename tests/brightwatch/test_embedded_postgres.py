"""The demo's private servers (`brightwatch.embedded`) when their folder is busy or a
server cannot start: a demo restarted while the previous one still stops waits for it;
one started beside a running one is refused in words; servers left running by a demo
that ended at once are stopped by the next; a server that fails says what it logged (no
subprocess traceback). Real server binaries, private folders."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from brightwatch.embedded import (
    EmbeddedBroker,
    EmbeddedError,
    EmbeddedPostgres,
    claim,
)

pytestmark = pytest.mark.timeout(120)


def test_a_second_server_on_a_busy_folder_is_refused_in_words(private_pg: EmbeddedPostgres) -> None:
    pid = private_pg.running_pid()
    assert pid is not None
    second = EmbeddedPostgres(private_pg.data_dir)
    with pytest.raises(EmbeddedError, match=rf"PostgreSQL \(PID {pid}\) still runs in") as err:
        second.start(busy_wait=0.5)
    assert "another `brightwatch demo`" in str(err.value)
    assert private_pg.running_pid() == pid  # the running one is untouched


def test_a_restart_waits_for_the_previous_server_to_stop(private_pg: EmbeddedPostgres) -> None:
    stopping = threading.Timer(1.0, private_pg.stop)
    stopping.start()
    second = EmbeddedPostgres(private_pg.data_dir)
    try:
        second.start(busy_wait=30)
        assert second.running_pid() is not None
    finally:
        stopping.join()
        second.stop()
    assert second.running_pid() is None


def test_a_failed_start_says_what_the_server_logged(private_pg: EmbeddedPostgres) -> None:
    private_pg.stop()
    with socket.socket() as taken:  # the port the server is told to use is already bound
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = EmbeddedPostgres(private_pg.data_dir, port=taken.getsockname()[1])
        with pytest.raises(EmbeddedError, match="did not start") as err:
            busy.start(timeout=10, busy_wait=0)
    assert "FATAL" in str(err.value), err.value
    assert busy.running_pid() is None


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_servers_left_by_a_demo_that_ended_at_once_are_reclaimed(
    private_pg: EmbeddedPostgres,
) -> None:
    """A second Ctrl-C ends a demo at once, its PostgreSQL and mosquitto still running:
    the next demo owns the folder (the owner is dead) and stops them before starting."""
    folder = private_pg.data_dir.parent
    (folder / "owner.pid").write_text(f"{_dead_pid()}\n")
    left = private_pg.running_pid()
    owner = claim(folder)
    assert owner.read_text().strip() == str(os.getpid())
    again = EmbeddedPostgres(private_pg.data_dir)
    assert again.stop_orphan() == left
    assert again.running_pid() is None and private_pg.running_pid() is None
    if shutil.which("mosquitto"):
        broker = EmbeddedBroker(folder / "mqtt")
        broker.start()
        pid = broker.pid_file.read_text().strip()
        assert EmbeddedBroker(folder / "mqtt").stop_orphan() == int(pid)
        assert broker._proc is not None and broker._proc.wait(10) is not None
        broker.stop()
        assert not broker.pid_file.exists()


def test_a_live_demo_keeps_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    other = subprocess.Popen(  # another demo: a live process with brightwatch in its command
        [sys.executable, "-c", "import time; time.sleep(60)", "brightwatch", "demo"]
    )
    try:
        (folder / "owner.pid").write_text(f"{other.pid}\n")
        with pytest.raises(EmbeddedError, match=rf"another `brightwatch demo` \(PID {other.pid}\)"):
            claim(folder, wait_s=0.5)
    finally:
        other.kill()
        other.wait()
    assert claim(folder, wait_s=0.5).read_text().strip() == str(os.getpid())
