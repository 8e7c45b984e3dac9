"""Standby firms per district (issue 15): the firms tried, in rank order, when a rescue
is not accepted in time (elevators.md; alerts/tickets). Read and replaced through the
registry (registry/standby.py); admins and supervisors, a district supervisor for its own
district only (api/scope.py); every replacement audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, Field

from brightwatch.api.auth import Principal, record_audit
from brightwatch.api.deps import Conn, require
from brightwatch.api.errors import AUTHENTICATED, WITH_BODY, errors
from brightwatch.api.transactions import in_transaction
from brightwatch.contract.ids import ID_PATTERN
from brightwatch.registry.standby import MAX_STANDBY_FIRMS, set_standby_firms, standby_firms
from brightwatch.registry.store import RegistryError

router = APIRouter(
    prefix="/api/v1/districts",
    tags=["registry"],
    responses={**AUTHENTICATED, **errors(403, 404)},
)
Bureau = Annotated[Principal, Depends(require("admin", "supervisor"))]
District = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[^\x00/]+$")]


class StandbyFirms(BaseModel):
    """The ranking: the first firm is tried first."""

    firm_ids: list[Annotated[str, Field(pattern=ID_PATTERN)]] = Field(max_length=MAX_STANDBY_FIRMS)


class DistrictStandby(StandbyFirms):
    district: str


@router.get("/{district}/standby-firms", response_model=DistrictStandby)
def get_standby_firms(district: District, conn: Conn, who: Bureau) -> dict[str, Any]:
    """The district's standby firms in rank order (empty: none set)."""
    return {"district": district, "firm_ids": standby_firms(conn, district)}


@router.put(
    "/{district}/standby-firms",
    response_model=DistrictStandby,
    responses={**WITH_BODY, **errors(422)},
)
def put_standby_firms(
    district: District, body: StandbyFirms, conn: Conn, who: Bureau
) -> dict[str, Any]:
    """Replace the district's ranking (an empty list clears it); firms must be registered."""

    def work() -> None:
        before = set_standby_firms(conn, district, body.firm_ids)
        record_audit(
            conn,
            who.actor,
            "update",
            "district_standby_firms",
            district,
            {"before": before, "after": body.firm_ids},
        )

    try:
        in_transaction(conn, work)
    except RegistryError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"district": district, "firm_ids": body.firm_ids}
