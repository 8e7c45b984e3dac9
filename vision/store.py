"""SQL adapter of the vision worker: camera rule states and the evidence they await
(table vision_rule_state), the camera and site registry rows the rules are configured
from (auto-registration is registry.auto's)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import psycopg

from brightwatch.vision.rules.observations import Event, EvidenceRef
from brightwatch.vision.rules.state import STATE_VERSION, CameraState, decode_state, encode_state

CameraKey = tuple[str, str]  # (site_id, camera_id)


@dataclass(frozen=True)
class CameraRow:
    site_id: str
    camera_id: str
    work_area: str | None
    zones: list[dict[str, Any]]
    schedules: dict[str, Any]
    settings: dict[str, Any]
    timezone: str
    operating_hours: list[dict[str, Any]]
    night_hours: dict[str, Any] | None
    district: str


class Pending(msgspec.Struct):
    """Evidence awaited: edge detections raised a violation before their frame came."""

    alert_id: int
    event: Event
    ref: EvidenceRef
    deadline: float  # server time (s): after it, the nearest later frame stands in


_encode_pending = msgspec.msgpack.Encoder().encode
_decode_pending = msgspec.msgpack.Decoder(list[Pending]).decode


@dataclass(frozen=True)
class StoredState:
    state: CameraState
    clock_offset_ms: int | None
    pending: list[Pending]


# (camera, rule state, clock offset estimate, evidence awaited)
StateRow = tuple[CameraKey, CameraState, int | None, Sequence[Pending]]


def load_states(
    conn: psycopg.Connection[Any], keys: Sequence[CameraKey] | None = None
) -> dict[CameraKey, StoredState]:
    sql = (
        "SELECT site_id, camera_id, state, version, clock_offset_ms, pending FROM vision_rule_state"
    )
    params: tuple[Any, ...] = ()
    if keys is not None:
        sql += " WHERE (site_id, camera_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
        params = ([k[0] for k in keys], [k[1] for k in keys])
    out = {}
    for site, cam, raw, version, offset, pending in conn.execute(sql, params).fetchall():
        if version != STATE_VERSION:
            continue  # an older layout: start afresh for that camera
        awaited = _decode_pending(bytes(pending)) if pending else []
        out[(site, cam)] = StoredState(decode_state(bytes(raw)), offset, awaited)
    return out


def save_states(conn: psycopg.Connection[Any], rows: Iterable[StateRow]) -> int:
    rows = list(rows)
    if not rows:
        return 0
    conn.execute(
        """
        INSERT INTO vision_rule_state
            (site_id, camera_id, state, version, clock_offset_ms, pending, updated_at)
        SELECT s, c, st, %s, o, p, now()
        FROM unnest(%s::text[], %s::text[], %s::bytea[], %s::bigint[], %s::bytea[])
            AS t(s, c, st, o, p)
        ON CONFLICT (site_id, camera_id) DO UPDATE SET
            state = EXCLUDED.state, version = EXCLUDED.version,
            clock_offset_ms = EXCLUDED.clock_offset_ms, pending = EXCLUDED.pending,
            updated_at = now()
        """,
        (
            STATE_VERSION,
            [k[0] for k, *_ in rows],
            [k[1] for k, *_ in rows],
            [encode_state(s) for _, s, _, _ in rows],
            [o for _, _, o, _ in rows],
            [_encode_pending(list(p)) if p else None for *_, p in rows],
        ),
    )
    return len(rows)


def load_cameras(
    conn: psycopg.Connection[Any], keys: Sequence[CameraKey]
) -> dict[CameraKey, CameraRow]:
    rows = conn.execute(
        "SELECT c.site_id, c.camera_id, c.work_area, c.zones, c.schedules, c.settings,"
        " s.timezone, s.operating_hours, s.night_hours, s.district"
        " FROM camera c JOIN site s USING (site_id)"
        " WHERE (c.site_id, c.camera_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
        ([k[0] for k in keys], [k[1] for k in keys]),
    ).fetchall()
    return {
        (r[0], r[1]): CameraRow(
            r[0], r[1], r[2], r[3] or [], r[4] or {}, r[5] or {}, r[6], r[7] or [], r[8], r[9]
        )
        for r in rows
    }
