"""Connections and pools from the configured URL."""

from __future__ import annotations

import select
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool


def connect(url: str, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=autocommit, **kwargs)


def make_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 8,
    name: str = "bw",
    dict_rows: bool = False,
    open: bool = True,
    check: Callable[[psycopg.Connection[Any]], None] = ConnectionPool.check_connection,
) -> ConnectionPool:
    kwargs: dict[str, Any] = {"application_name": f"brightwatch-{name}"}
    if dict_rows:
        kwargs["row_factory"] = dict_row
    return ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs=kwargs,
        name=name,
        open=open,
        # a restarted server leaves dead connections in the pool: check before lending
        check=check,
    )


def check_unless_quiet(conn: psycopg.Connection[Any]) -> None:
    """A pool's check before lending that costs no round trip while the connection is
    quiet: a server that restarts or ends the session sends its reason and closes the
    socket, which makes it readable, and an idle connection that is alive has nothing
    to read. Only a readable one gets the full check (an empty query), which raises if
    the server is gone. For pools that lend a connection per request (the API's)."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    readable = select.poll()
    readable.register(conn.fileno(), select.POLLIN)
    if readable.poll(0):
        ConnectionPool.check_connection(conn)
