"""Admin registration of firms, sites, cameras and elevators (idempotent PUTs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Response
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from brightwatch.api.auth import Principal
from brightwatch.api.deps import Conn, require
from brightwatch.api.errors import AUTHENTICATED, WITH_BODY, errors
from brightwatch.api.transactions import in_transaction
from brightwatch.contract.ids import ID_PATTERN
from brightwatch.registry import store
from brightwatch.registry.models import CameraRecord, ElevatorRecord, FirmRecord, SiteRecord

router = APIRouter(
    prefix="/api/v1",
    tags=["registry"],
    responses={**AUTHENTICATED, **WITH_BODY, **errors(403, 404)},
)
Admin = Annotated[Principal, Depends(require("admin"))]
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]


class FirmRegistered(BaseModel):
    firm_id: str
    created: bool


class SiteRegistered(BaseModel):
    site_id: str
    created: bool


class CameraRegistered(BaseModel):
    site_id: str
    camera_id: str
    created: bool


class ElevatorRegistered(BaseModel):
    elevator_id: str
    created: bool


def _registered(model: type[BaseModel]) -> dict[str, Any]:
    """The route's answers: 200 updated, 201 created (PUT is idempotent)."""
    return {
        "response_model": model,
        "responses": {
            200: {"description": "Updated."},
            201: {"model": model, "description": "Registered."},
        },
    }


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


@router.put("/firms/{firm_id}", **_registered(FirmRegistered))
def put_firm(
    firm_id: IdPath, record: FirmRecord, conn: Conn, who: Admin, response: Response
) -> dict[str, Any]:
    def work() -> bool:
        created = store.upsert_firm(conn, firm_id, record)
        _audit(conn, who, "firm", firm_id, record, created)
        return created

    return _respond(response, in_transaction(conn, work), {"firm_id": firm_id})


@router.put("/sites/{site_id}", **_registered(SiteRegistered))
def put_site(
    site_id: IdPath, record: SiteRecord, conn: Conn, who: Admin, response: Response
) -> dict[str, Any]:
    def work() -> bool:
        created = store.upsert_site(conn, site_id, record)
        _audit(conn, who, "site", site_id, record, created)
        return created

    return _respond(response, in_transaction(conn, work), {"site_id": site_id})


@router.put("/sites/{site_id}/cameras/{camera_id}", **_registered(CameraRegistered))
def put_camera(
    site_id: IdPath,
    camera_id: IdPath,
    record: CameraRecord,
    conn: Conn,
    who: Admin,
    response: Response,
) -> dict[str, Any]:
    def work() -> bool:
        created = store.upsert_camera(conn, site_id, camera_id, record)
        _audit(conn, who, "camera", f"{site_id}/{camera_id}", record, created)
        return created

    try:
        created = in_transaction(conn, work)
    except store.RegistryError as exc:
        raise HTTPException(422, str(exc)) from None
    return _respond(response, created, {"site_id": site_id, "camera_id": camera_id})


@router.put("/elevators/{elevator_id}", **_registered(ElevatorRegistered))
def put_elevator(
    elevator_id: IdPath, record: ElevatorRecord, conn: Conn, who: Admin, response: Response
) -> dict[str, Any]:
    def work() -> bool:
        created = store.upsert_elevator(conn, elevator_id, record)
        _audit(conn, who, "elevator", elevator_id, record, created)
        return created

    try:
        created = in_transaction(conn, work)
    except store.RegistryError as exc:
        raise HTTPException(422, str(exc)) from None
    return _respond(response, created, {"elevator_id": elevator_id})
