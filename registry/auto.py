"""Auto-registration of devices that were not registered (BW_UNKNOWN_DEVICES=accept):
elevators and cameras first seen by ingest, cameras first seen by the vision worker.
Rows made here say `registered_by = 'auto'`; an import or the API later completes them
(registry.store's upserts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg


def register_elevators(conn: psycopg.Connection[Any], elevator_ids: Sequence[str]) -> None:
    """Insert the elevators not yet known, as 'auto'."""
    conn.execute(
        "INSERT INTO elevator (elevator_id, registered_by)"
        " SELECT unnest(%s::text[]), 'auto' ON CONFLICT DO NOTHING",
        (sorted(set(elevator_ids)),),
    )


def register_cameras(conn: psycopg.Connection[Any], keys: Sequence[tuple[str, str]]) -> None:
    """Insert the (site, camera) pairs not yet known and their sites, as 'auto'."""
    conn.execute(
        "INSERT INTO site (site_id, kind, registered_by)"
        " SELECT unnest(%s::text[]), 'kitchen', 'auto' ON CONFLICT DO NOTHING",
        (sorted({k[0] for k in keys}),),
    )
    conn.execute(
        "INSERT INTO camera (site_id, camera_id, registered_by)"
        " SELECT *, 'auto' FROM unnest(%s::text[], %s::text[]) ON CONFLICT DO NOTHING",
        ([k[0] for k in keys], [k[1] for k in keys]),
    )
