"""`brightwatch migrate` and TimescaleDB that cannot be used (issue 16 (b) and (a)):
installed but not preloaded, a server that ends the session, a version before 2.19."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from brightwatch.db import migrate as migrate_module
from brightwatch.db.migrate import MigrationError, check_server, check_timescale_version, migrate
from brightwatch.embedded import EmbeddedPostgres
from tests.db.fakes import RecordingConnection


def _server(preload: str, available: bool = True) -> Any:
    def answer(sql: str, params: object) -> list[tuple[object, ...]] | None:
        if "FROM schema_setting" in sql:
            return None  # a new database: no flavour chosen yet
        if "shared_preload_libraries" in sql:
            return [(preload,)]
        if "pg_available_extensions" in sql:
            return [(1,)] if available else None
        if "CREATE EXTENSION" in sql:
            raise AssertionError("CREATE EXTENSION must not run without the preload")
        return None

    return answer


def test_required_but_not_preloaded_says_so() -> None:
    conn = RecordingConnection(_server(preload="pg_stat_statements"))
    with pytest.raises(MigrationError, match="not preloaded.*shared_preload_libraries"):
        migrate_module._choose_flavor(conn, "timescale")  # type: ignore[arg-type]
    assert not any("INSERT INTO schema_setting" in s for s in conn.sql())


def test_auto_falls_back_to_native_when_not_preloaded() -> None:
    conn = RecordingConnection(_server(preload=""))
    assert migrate_module._choose_flavor(conn, "auto") == "native"  # type: ignore[arg-type]
    assert [p for s, p in conn.statements if "INSERT INTO schema_setting" in s] == [("native",)]


def test_preload_list_is_parsed() -> None:
    for value, expected in [
        ("timescaledb", True), ("pg_stat_statements, timescaledb", True),
        ('"timescaledb"', True), ("timescaledb-2.19.3", True), ("", False),
        ("pg_cron", False), ("timescaledb_toolkit", False),
    ]:  # fmt: skip

        def answer(sql: str, params: object, v: str = value) -> list[tuple[object, ...]]:
            return [(v,)]

        conn = RecordingConnection(answer)
        assert migrate_module.timescale_preloaded(conn) is expected, value  # type: ignore[arg-type]


class _EndsSessionOnCreateExtension:
    """A real connection whose CREATE EXTENSION ends the session as the server does when
    the library is missing from shared_preload_libraries (FATAL, then "connection is
    closed" on the next statement), and which claims TimescaleDB is available/preloaded."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __enter__(self) -> _EndsSessionOnCreateExtension:
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.close()

    def execute(self, query: Any, params: Any = None) -> Any:
        text = query.decode() if isinstance(query, bytes) else str(query)
        if "pg_available_extensions" in text or "shared_preload_libraries" in text:
            return self._conn.execute("SELECT 'timescaledb'")
        if "CREATE EXTENSION" in text:
            return self._conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return self._conn.execute(query, params)


def test_a_session_ended_by_the_server_gives_a_clear_error(
    pg_server: EmbeddedPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_server.create_database("bw_preload_fatal")
    real_connect = psycopg.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        return _EndsSessionOnCreateExtension(real_connect(*args, **kwargs))

    monkeypatch.setattr(migrate_module.psycopg, "connect", connect)
    with pytest.raises(MigrationError, match="not preloaded"):
        migrate(url, want_flavor="auto")
    monkeypatch.setattr(migrate_module.psycopg, "connect", real_connect)
    # nothing was recorded: a later migrate with a fixed server starts cleanly
    assert migrate(url, want_flavor="native")[0] == "native"


def test_plain_postgresql_refuses_a_required_timescale(pg_server: EmbeddedPostgres) -> None:
    url = pg_server.create_database("bw_no_timescale")
    with pytest.raises(MigrationError, match="TimescaleDB was required"):
        migrate(url, want_flavor="timescale")
    assert migrate(url)[0] == "native"


def test_an_old_timescale_is_refused() -> None:
    conn = RecordingConnection(lambda s, p: [("2.17.2",)] if "pg_extension" in s else None)
    with pytest.raises(MigrationError, match=r"2\.17\.2 is too old: 2\.19\.0 or later"):
        check_timescale_version(conn)  # type: ignore[arg-type]
    conn = RecordingConnection(lambda s, p: [("2.19.3",)] if "pg_extension" in s else None)
    assert check_timescale_version(conn) == "2.19.3"  # type: ignore[arg-type]


def test_the_start_up_check_passes_native_and_an_unmigrated_database(
    db_url: str, pg_server: EmbeddedPostgres
) -> None:
    assert check_server(db_url) == "native"
    assert check_server(pg_server.create_database("bw_not_migrated")) is None
