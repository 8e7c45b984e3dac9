"""Elevators: list with latest state, detail, stored status samples."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from psycopg.rows import dict_row
from pydantic import Field

from brightwatch.api.auth import Principal
from brightwatch.api.deps import Conn, ReadConn, not_found, require
from brightwatch.api.errors import AUTHENTICATED, errors
from brightwatch.api.inputs import NO_NUL
from brightwatch.api.responses import Served
from brightwatch.api.scope import elevator_scope
from brightwatch.contract.ids import ID_PATTERN
from brightwatch.elevators.maintenance.section import maintenance_section

router = APIRouter(
    prefix="/api/v1/elevators", tags=["elevators"], responses={**AUTHENTICATED, **errors(404)}
)
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


class Elevator(Served):
    """The registry's record and the terminal's presence (null until it was first seen)."""

    elevator_id: str
    firm_id: str | None
    standby_firm_id: str | None
    site_id: str | None
    address: str
    district: str
    user_unit: str
    floor_min: int | None
    floor_max: int | None
    rated_speed: float | None
    install_year: int | None
    inspection_valid_until: date | None
    registered_by: str
    availability: str | None
    availability_at: datetime | None
    last_seen: datetime | None
    last_ts: datetime | None
    last_seq: int | None
    messages: int | None
    seq_gaps: int | None
    last_status: dict[str, Any] | None


class ElevatorPage(Served):
    items: list[Elevator]
    next_after: str | None


class OpenAlert(Served):
    id: int
    code: str
    severity: str
    state: str
    started_at: datetime
    updated_at: datetime
    count: int
    summary: str = Field(description="In the deployment's language (BW_LOCALE).")
    summaries: dict[str, str] = Field(
        default_factory=dict,
        description="The summary in every language of the catalogue, where the rule wrote it so.",
    )


class ElevatorDetail(Elevator):
    """With its open alerts and the sections readers add (`maintenance`: the plan)."""

    open_alerts: list[OpenAlert]


class StatusSample(Served):
    ts: datetime
    seq: int
    received_at: datetime
    service_mode: str
    run_state: str
    direction: str | None
    floor: int
    door_zone: bool
    door_state: str
    has_person: bool
    speed: float
    load_pct: float | None
    power_source: str | None
    battery_pct: float | None
    safety_circuit: str | None
    alarm_button: bool | None
    up_limit: bool | None
    down_limit: bool | None
    car_door_locked: bool | None
    landing_door_locked: bool | None
    vibration_rms: float | None
    extra: dict[str, Any] | None


class StatusPage(Served):
    elevator_id: str
    items: list[StatusSample]


# readers of an elevator's detail add their sections here (maintenance plan, tickets ...)
DETAIL_SECTIONS: list[Any] = []
DETAIL_SECTIONS.append(maintenance_section)  # elevators.md: the maintenance plan, explained


@router.get("", response_model=ElevatorPage)
def list_elevators(
    conn: ReadConn,
    who: Reader,
    site_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    district: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
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


@router.get("/{elevator_id}", response_model=ElevatorDetail)
def get_elevator(elevator_id: IdPath, conn: Conn, who: Reader) -> dict[str, Any]:
    row = _get_elevator(conn, who, elevator_id)
    with conn.cursor(row_factory=dict_row) as cur:
        row["open_alerts"] = cur.execute(
            "SELECT id, code, severity, state, started_at, updated_at, count, summary, summaries"
            " FROM alert WHERE kind = 'elevator' AND device_id = %s AND state <> 'resolved'"
            " ORDER BY started_at DESC",
            (elevator_id,),
        ).fetchall()
    for section in DETAIL_SECTIONS:
        row.update(section(conn, elevator_id))
    return row


@router.get("/{elevator_id}/status", response_model=StatusPage)
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
