"""Admin registration of firms, sites, cameras and elevators (idempotent PUTs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Response
from psycopg.types.json import Jsonb

from api.auth import Principal
from api.deps import Conn, require
from contract.ids import ID_PATTERN
from registry import store
from registry.models import CameraRecord, ElevatorRecord, FirmRecord, SiteRecord

router = APIRouter(prefix="/api/v1", tags=["registry"])
Admin = Annotated[Principal, Depends(require("admin"))]
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]


def _audit(
    conn: Conn, who: Principal, object_type: str, object_id: str, record: Any, created: bool
) -> None:
    conn.execute(
        "INSERT INTO audit_log (actor, action, object_type, object_id, details) VALUES (%s, %s, %s, %s, %s)",
        (
            who.actor,
            "create" if created else "update",
            object_type,
            object_id,
            Jsonb(record.model_dump(mode="json")),
        ),
    )


def _respond(response: Response, created: bool, body: dict[str, Any]) -> dict[str, Any]:
    response.status_code = 201 if created else 200
    return {**body, "created": created}


@router.put("/firms/{firm_id}")
def put_firm(
    firm_id: IdPath, record: FirmRecord, conn: Conn, who: Admin, response: Response
) -> dict[str, Any]:
    created = store.upsert_firm(conn, firm_id, record)
    _audit(conn, who, "firm", firm_id, record, created)
    return _respond(response, created, {"firm_id": firm_id})


@router.put("/sites/{site_id}")
def put_site(
    site_id: IdPath, record: SiteRecord, conn: Conn, who: Admin, response: Response
) -> dict[str, Any]:
    created = store.upsert_site(conn, site_id, record)
    _audit(conn, who, "site", site_id, record, created)
    return _respond(response, created, {"site_id": site_id})


@router.put("/sites/{site_id}/cameras/{camera_id}")
def put_camera(
    site_id: IdPath,
    camera_id: IdPath,
    record: CameraRecord,
    conn: Conn,
    who: Admin,
    response: Response,
) -> dict[str, Any]:
    try:
        created = store.upsert_camera(conn, site_id, camera_id, record)
    except store.RegistryError as exc:
        raise HTTPException(422, str(exc)) from None
    _audit(conn, who, "camera", f"{site_id}/{camera_id}", record, created)
    return _respond(response, created, {"site_id": site_id, "camera_id": camera_id})


@router.put("/elevators/{elevator_id}")
def put_elevator(
    elevator_id: IdPath, record: ElevatorRecord, conn: Conn, who: Admin, response: Response
) -> dict[str, Any]:
    try:
        created = store.upsert_elevator(conn, elevator_id, record)
    except store.RegistryError as exc:
        raise HTTPException(422, str(exc)) from None
    _audit(conn, who, "elevator", elevator_id, record, created)
    return _respond(response, created, {"elevator_id": elevator_id})
