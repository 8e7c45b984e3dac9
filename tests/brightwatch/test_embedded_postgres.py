"""The demo's private PostgreSQL (`brightwatch.embedded.EmbeddedPostgres`) when its folder
is busy or the server cannot start: a demo restarted while the previous one still stops
waits for it; one started beside a running one is refused in words; a server that fails
says what it logged (no subprocess traceback). Real server binaries, private folders."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from brightwatch.embedded import EmbeddedError, EmbeddedPostgres, find_postgres_bin

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def first(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    try:
        find_postgres_bin()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    pg = EmbeddedPostgres(tmp_path / "postgres")
    pg.start()
    yield pg
    pg.stop()


def test_a_second_server_on_a_busy_folder_is_refused_in_words(first: EmbeddedPostgres) -> None:
    pid = first.running_pid()
    assert pid is not None
    second = EmbeddedPostgres(first.data_dir)
    with pytest.raises(EmbeddedError, match=rf"PostgreSQL \(PID {pid}\) still runs in") as err:
        second.start(busy_wait=0.5)
    assert "another `brightwatch demo`" in str(err.value)
    assert first.running_pid() == pid  # the running one is untouched


def test_a_restart_waits_for_the_previous_server_to_stop(first: EmbeddedPostgres) -> None:
    stopping = threading.Timer(1.0, first.stop)
    stopping.start()
    second = EmbeddedPostgres(first.data_dir)
    try:
        second.start(busy_wait=30)
        assert second.running_pid() is not None
    finally:
        stopping.join()
        second.stop()
    assert second.running_pid() is None


def test_a_failed_start_says_what_the_server_logged(first: EmbeddedPostgres) -> None:
    first.stop()
    with socket.socket() as taken:  # the port the server is told to use is already bound
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = EmbeddedPostgres(first.data_dir, port=taken.getsockname()[1])
        with pytest.raises(EmbeddedError, match="did not start") as err:
            busy.start(timeout=10, busy_wait=0)
    assert "FATAL" in str(err.value), err.value
    assert busy.running_pid() is None
