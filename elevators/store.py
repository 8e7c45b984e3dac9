"""SQL adapter of the rules worker: rule states (table elevator_rule_state), registry rows.

States are stored as MessagePack (bytea): about 1 KB each, written by the thousand per
second under load, where JSON would cost the server a parse of every row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from brightwatch.elevators.settings import RegistryRow
from brightwatch.elevators.state import STATE_VERSION, ElevatorState, decode_state, encode_state


@dataclass(frozen=True, slots=True)
class StoredState:
    state: ElevatorState
    clock_offset_ms: int | None


@dataclass(frozen=True, slots=True)
class StateRow:
    elevator_id: str
    state: ElevatorState
    due_at_ms: int | None  # server time
    clock_offset_ms: int | None


def load_states(conn: psycopg.Connection[Any], ids: Sequence[str]) -> dict[str, StoredState]:
    rows = conn.execute(
        "SELECT elevator_id, state, clock_offset_ms FROM elevator_rule_state"
        " WHERE elevator_id = ANY(%s)",
        (list(ids),),
    ).fetchall()
    return {eid: StoredState(decode_state(bytes(raw)), offset) for eid, raw, offset in rows}


def save_states(conn: psycopg.Connection[Any], rows: Iterable[StateRow]) -> int:
    rows = list(rows)
    if not rows:
        return 0
    # binary parameters (%b): arrays in text form are escaped character by character
    conn.execute(
        """
        INSERT INTO elevator_rule_state (elevator_id, state, version, due_at, clock_offset_ms, updated_at)
        SELECT e, s, %s, d, o, now()
        FROM unnest(%b::text[], %b::bytea[], %b::timestamptz[], %b::bigint[]) AS t(e, s, d, o)
        ON CONFLICT (elevator_id) DO UPDATE SET
            state = EXCLUDED.state, version = EXCLUDED.version, due_at = EXCLUDED.due_at,
            clock_offset_ms = EXCLUDED.clock_offset_ms, updated_at = now()
        """,
        (
            STATE_VERSION,
            [r.elevator_id for r in rows],
            [encode_state(r.state) for r in rows],
            [_ts(r.due_at_ms) for r in rows],
            [r.clock_offset_ms for r in rows],
        ),
    )
    return len(rows)


def load_dues(conn: psycopg.Connection[Any]) -> list[tuple[str, int]]:
    """Every elevator with a deadline, as (elevator_id, server time ms)."""
    rows = conn.execute(
        "SELECT elevator_id, (extract(epoch FROM due_at) * 1000)::bigint"
        " FROM elevator_rule_state WHERE due_at IS NOT NULL"
    ).fetchall()
    return [(eid, int(ms)) for eid, ms in rows]


def load_registry(conn: psycopg.Connection[Any], ids: Sequence[str]) -> dict[str, RegistryRow]:
    rows = conn.execute(
        "SELECT elevator_id, site_id, floor_min, floor_max, rated_speed, thresholds"
        " FROM elevator WHERE elevator_id = ANY(%s)",
        (list(ids),),
    ).fetchall()
    return {
        eid: RegistryRow(
            site_id=site,
            floor_min=lo,
            floor_max=hi,
            rated_speed=float(speed) if speed is not None else None,
            thresholds=thresholds or {},
        )
        for eid, site, lo, hi, speed, thresholds in rows
    }


def _ts(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)
