"""Connections and pools from the configured URL."""

from __future__ import annotations

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
        check=ConnectionPool.check_connection,
    )
