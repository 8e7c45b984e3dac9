"""Heartbeat rows: each replica's word on its components (table `component_heartbeat`).

A process writes one row per progress source every heartbeat interval (`write`); the
API's /healthz reads them all (`read`) to show the whole system, each with its age on
the database's clock so the hosts' clocks do not matter. A clean stop deletes its own
rows (`remove`); rows of replicas that died are deleted once forgotten (`forget`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True, slots=True)
class Heartbeat:
    component: str
    replica: str
    host: str
    pid: int
    state: str  # ok | stuck
    reason: str | None = None
    last_good_at: datetime | None = None
    backlog: int = 0
    consecutive_failures: int = 0
    detail: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None  # set by the database
    age_s: float = 0.0  # now() - updated_at when read


def write(conn: psycopg.Connection[Any], beats: Sequence[Heartbeat]) -> None:
    """Insert or refresh the rows of `beats` (updated_at = the database's now())."""
    if not beats:
        return
    with conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO component_heartbeat AS h (component, replica, host, pid, state, reason,
                last_good_at, backlog, consecutive_failures, detail)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (component, replica) DO UPDATE SET
                host = excluded.host, pid = excluded.pid, state = excluded.state,
                reason = excluded.reason, last_good_at = excluded.last_good_at,
                backlog = excluded.backlog, consecutive_failures = excluded.consecutive_failures,
                detail = excluded.detail, updated_at = now(),
                started_at = CASE WHEN (h.host, h.pid) = (excluded.host, excluded.pid)
                                  THEN h.started_at ELSE now() END
            """,
            [
                (
                    b.component,
                    b.replica,
                    b.host,
                    b.pid,
                    b.state,
                    b.reason,
                    b.last_good_at,
                    b.backlog,
                    b.consecutive_failures,
                    Jsonb(b.detail),
                )
                for b in beats
            ],
        )


def read(conn: psycopg.Connection[Any]) -> list[Heartbeat]:
    """Every row, by component and replica, with its age in seconds."""
    rows = conn.execute(
        "SELECT component, replica, host, pid, state, reason, last_good_at, backlog,"
        " consecutive_failures, detail, updated_at,"
        " extract(epoch FROM now() - updated_at)::float8"
        " FROM component_heartbeat ORDER BY component, replica"
    ).fetchall()
    return [Heartbeat(*r) for r in rows]


def remove(conn: psycopg.Connection[Any], replica: str, host: str, pid: int) -> int:
    """Delete the rows this process wrote (a clean stop: nothing left to go silent)."""
    cur = conn.execute(
        "DELETE FROM component_heartbeat WHERE replica = %s AND host = %s AND pid = %s",
        (replica, host, pid),
    )
    return cur.rowcount


def forget(conn: psycopg.Connection[Any], older_than_s: float) -> int:
    """Delete rows not refreshed for `older_than_s`: their replica is gone for good."""
    cur = conn.execute(
        "DELETE FROM component_heartbeat WHERE updated_at < now() - make_interval(secs => %s)",
        (older_than_s,),
    )
    return cur.rowcount
