"""A worker started before its database (`components.startup.when_reachable`): the rules
and vision workers read their saved state first; with the database away they wait and
say so, instead of failing after the pool's 30 s and stopping the whole process. The
unit part uses real refused connections; the end-to-end part a real `brightwatch serve
--components elevators` against a private PostgreSQL that starts only later."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from brightwatch.components.startup import when_reachable
from brightwatch.db.migrate import migrate
from brightwatch.embedded import EmbeddedPostgres, free_port
from brightwatch.settings import Settings
from tests.brightwatch.test_process_health import serve
from tests.support.waiting import wait_until


def _refused() -> None:
    """A real connection refused (nothing listens on the port)."""
    psycopg.connect(f"postgresql://nobody@127.0.0.1:{free_port()}/x", connect_timeout=2)


def test_a_refused_database_is_waited_for_then_read() -> None:
    calls: list[int] = []

    def load() -> int:
        calls.append(1)
        if len(calls) < 3:
            _refused()
        return 7

    assert when_reachable(threading.Event(), "test", load, pauses=(0.01,)) == 7
    assert len(calls) == 3


def test_what_waiting_cannot_cure_is_raised_at_once() -> None:
    calls: list[int] = []

    def load() -> int:
        calls.append(1)
        raise psycopg.errors.UndefinedTable("relation does not exist")

    with pytest.raises(psycopg.errors.UndefinedTable):
        when_reachable(threading.Event(), "test", load, pauses=(0.01,))
    assert len(calls) == 1


def test_a_stop_while_waiting_ends_the_wait() -> None:
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    assert when_reachable(stop, "test", _refused, pauses=(60.0,)) is None
    assert time.monotonic() - started < 10


@pytest.mark.timeout(180)
def test_a_rules_worker_started_before_its_database_waits_for_it(
    settings: Settings, tmp_path: Path, private_pg: EmbeddedPostgres
) -> None:
    pg = private_pg
    url = pg.create_database("brightwatch")
    migrate(url)
    pg.stop()  # the database goes away before the service starts
    late = settings.model_copy(update={"database_url": SecretStr(url)})
    log_path = tmp_path / "elevators.log"
    with serve(late, "elevators", tmp_path):  # ends it with SIGTERM: exit 0 required
        # the first read waits out the pool's 30 s, then says why and waits on
        wait_until(
            lambda: "rules worker: the database is not reachable" in log_path.read_text(),
            timeout=75,
        )
        pg.start()  # the fixture stops it at the end
        wait_until(
            lambda: "elevator(s) with a pending deadline" in log_path.read_text(), timeout=75
        )
    text = log_path.read_text()
    assert "component elevators failed" not in text and "PoolTimeout" not in text
