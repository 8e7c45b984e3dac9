"""Auto-registration of unknown cameras (BW_UNKNOWN_DEVICES=accept), shared by ingest
(camera availability) and the vision worker (frames and detections)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg


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
