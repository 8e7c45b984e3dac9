"""What a list request costs in round trips, and what it must not cost in safety: the
API's pool lends a quiet connection without a query (db.connect.check_unless_quiet) and
never lends a dead one; list reads and the token lookup run outside a transaction
(api.deps), and the connection goes back to the pool transactional."""

from __future__ import annotations

import select
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from brightwatch.api.app import create_app
from brightwatch.api.auth import create_token, revoke_token
from brightwatch.db.connect import check_unless_quiet, make_pool
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime

MARKER = "SELECT 'quiet-check-marker'"


def _last_query(db_url: str, pid: int) -> str:
    with psycopg.connect(db_url, autocommit=True) as monitor:
        row = monitor.execute(
            "SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
    assert row is not None
    return str(row[0])


def _terminate(db_url: str, conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
    """End the connection's session from the server's side, as a restart does, and wait
    (bounded) until its reason reached the client's socket."""
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
    select.select([conn.fileno()], [], [], 5.0)


def test_a_quiet_connection_is_checked_without_a_query(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(MARKER)
        check_unless_quiet(conn)
        assert _last_query(db_url, conn.info.backend_pid) == MARKER
        # the pool's own check does query: what the assertion above tells apart
        ConnectionPool.check_connection(conn)
        assert _last_query(db_url, conn.info.backend_pid) != MARKER


def test_a_connection_the_server_ended_fails_the_check(db_url: str) -> None:
    conn = psycopg.connect(db_url)
    try:
        _terminate(db_url, conn)
        with pytest.raises(psycopg.OperationalError):
            check_unless_quiet(conn)
    finally:
        conn.close()


def test_the_pool_replaces_a_connection_the_server_ended(db_url: str) -> None:
    pool = make_pool(db_url, min_size=1, max_size=1, name="quiet-check", check=check_unless_quiet)
    try:
        with pool.connection() as conn:
            first = conn.info.backend_pid
        with pool.connection() as conn:
            _terminate(db_url, conn)
        with pool.connection(timeout=10) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.info.backend_pid != first
    finally:
        pool.close()


@pytest.fixture
def one_connection(db_url: str) -> Iterator[ConnectionPool]:
    """A pool of one connection, so the token lookup and the list read share it."""
    pool = make_pool(db_url, min_size=1, max_size=1, name="api-test", check=check_unless_quiet)
    yield pool
    pool.close()


@pytest.mark.parametrize("path", ["/api/v1/elevators", "/api/v1/alerts", "/api/v1/kitchens"])
def test_a_list_request_gives_its_connection_back_transactional(
    settings: Settings,
    one_connection: ConnectionPool,
    make_token,  # type: ignore[no-untyped-def]
    path: str,
) -> None:
    app = create_app(build_runtime(settings), one_connection)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(path, headers=make_token("admin")).status_code == 200
    with one_connection.connection() as conn:
        assert conn.autocommit is False
        conn.execute("CREATE TEMPORARY TABLE rolled_back (x integer)")
        conn.rollback()  # a transaction: the table is gone again
        assert conn.execute("SELECT to_regclass('rolled_back')").fetchone() == (None,)


def test_revocation_still_reaches_the_next_list_request(
    settings: Settings,
    one_connection: ConnectionPool,
    db_url: str,
) -> None:
    """The token lookup, now outside a transaction, still sees a revocation at once."""
    with psycopg.connect(db_url) as conn:
        token_id, token = create_token(conn, "admin")
    headers = {"Authorization": f"Bearer {token}"}
    app = create_app(build_runtime(settings), one_connection)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/api/v1/kitchens", headers=headers).status_code == 200
        with psycopg.connect(db_url) as conn:
            assert revoke_token(conn, token_id)
        assert client.get("/api/v1/kitchens", headers=headers).status_code == 401
