"""Elevators: list with latest state, detail, stored status samples."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from psycopg.rows import dict_row

from api.auth import Principal
from api.deps import Conn, not_found, require
from api.scope import elevator_scope
from contract.ids import ID_PATTERN
from elevators.maintenance.section import maintenance_section

router = APIRouter(prefix="/api/v1/elevators", tags=["elevators"])
Reader = Annotated[Principal, Depends(require("admin", "supervisor", "firm"))]
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]

ELEVATOR_FIELDS = (
    "e.elevator_id, e.firm_id, e.standby_firm_id, e.site_id, e.address, e.district, e.user_unit,"
    " e.floor_min, e.floor_max, e.rated_speed, e.install_year, e.inspection_valid_until,"
    " e.registered_by, p.availability, p.availability_at, p.last_seen, p.last_ts, p.last_seq,"
    " p.messages, p.seq_gaps, p.last_status"
)
FROM = (
    "FROM elevator e LEFT JOIN device_presence p"
    " ON p.device_kind = 'elevator' AND p.device_key = e.elevator_id"
)

# readers of an elevator's detail add their sections here (maintenance plan, tickets ...)
DETAIL_SECTIONS: list[Any] = []
DETAIL_SECTIONS.append(maintenance_section)  # elevators.md: the maintenance plan, explained


@router.get("")
def list_elevators(
    conn: Conn,
    who: Reader,
    site_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    district: Annotated[str | None, Query(max_length=100)] = None,
    availability: Annotated[str | None, Query(pattern="^(online|offline)$")] = None,
    after: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="page after this elevator_id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    cond, params = elevator_scope(who)
    where = [cond]
    if site_id:
        where.append("e.site_id = %s")
        params.append(site_id)
    if district:
        where.append("e.district = %s")
        params.append(district)
    if availability:
        where.append("p.availability = %s")
        params.append(availability)
    if after:
        where.append("e.elevator_id > %s")
        params.append(after)
    sql = f"SELECT {ELEVATOR_FIELDS} {FROM} WHERE {' AND '.join(where)} ORDER BY e.elevator_id LIMIT %s"
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql, [*params, limit]).fetchall()
    return {"items": rows, "next_after": rows[-1]["elevator_id"] if len(rows) == limit else None}


def _get_elevator(conn: Conn, who: Principal, elevator_id: str) -> dict[str, Any]:
    cond, params = elevator_scope(who)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {ELEVATOR_FIELDS} {FROM} WHERE e.elevator_id = %s AND {cond}",
            [elevator_id, *params],
        ).fetchone()
    if row is None:
        raise not_found()
    return row


@router.get("/{elevator_id}")
def get_elevator(elevator_id: IdPath, conn: Conn, who: Reader) -> dict[str, Any]:
    row = _get_elevator(conn, who, elevator_id)
    with conn.cursor(row_factory=dict_row) as cur:
        row["open_alerts"] = cur.execute(
            "SELECT id, code, severity, state, started_at, updated_at, count, summary"
            " FROM alert WHERE kind = 'elevator' AND device_id = %s AND state <> 'resolved'"
            " ORDER BY started_at DESC",
            (elevator_id,),
        ).fetchall()
    for section in DETAIL_SECTIONS:
        row.update(section(conn, elevator_id))
    return row


@router.get("/{elevator_id}/status")
def get_status(
    elevator_id: IdPath,
    conn: Conn,
    who: Reader,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    _get_elevator(conn, who, elevator_id)
    where = ["elevator_id = %s"]
    params: list[Any] = [elevator_id]
    if since:
        where.append("ts >= %s")
        params.append(since)
    if until:
        where.append("ts < %s")
        params.append(until)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT ts, seq, received_at, service_mode, run_state, direction, floor, door_zone,"  # noqa: S608
            " door_state, has_person, speed, load_pct, power_source, battery_pct, safety_circuit,"
            " alarm_button, up_limit, down_limit, car_door_locked, landing_door_locked,"
            f" vibration_rms, extra FROM elevator_status WHERE {' AND '.join(where)}"
            " ORDER BY ts DESC, seq DESC LIMIT %s",
            [*params, limit],
        ).fetchall()
    return {"elevator_id": elevator_id, "items": rows}
