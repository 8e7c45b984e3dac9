"""Evidence pictures of kitchen violations (kitchens.md, Evidence): the stored JPEG, its
content hash checked on every read (409 when it no longer matches), or an annotated
copy with the boxes drawn (`?annotated=1`), made on demand and never stored.

Supervisors and admins see all; an operator sees its own site's evidence once the case
is past review (pending and dismissed cases stay hidden, as in the reviews API); anyone
else gets 404.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response

from brightwatch.alerts.evidence import records as evidence
from brightwatch.alerts.evidence.annotation import EvidenceMissing
from brightwatch.alerts.evidence.files import MissingFile, TamperedFile
from brightwatch.api.auth import Principal
from brightwatch.api.deps import Conn, not_found, require
from brightwatch.api.errors import AUTHENTICATED, errors
from brightwatch.api.responses import Served
from brightwatch.api.scope import evidence_view

router = APIRouter(
    prefix="/api/v1/evidence", tags=["evidence"], responses={**AUTHENTICATED, **errors(404)}
)
Reader = Annotated[Principal, Depends(require("admin", "supervisor", "operator"))]
EvidenceId = Annotated[int, Path(ge=1, le=2**62)]


class Evidence(Served):
    """A stored picture of the violation, with the detector's boxes and the rule that fired."""

    id: int
    camera_id: str
    captured_at: datetime
    width: int
    height: int
    code: str | None
    boxes: list[Any]
    model: str | None
    zone: str | None
    rule: str | None
    sha256: str
    url: str


class EvidenceRecord(Evidence):
    """A violation's evidence picture: boxes, scores, model name@version, zone, rule,
    hash and retention."""

    site_id: str
    alert_id: int | None
    size_bytes: int
    retained_until: datetime | None


@router.get(
    "/{evidence_id}.jpg",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The picture, its hash checked."},
        **errors(409),
    },
)
def get_picture(
    evidence_id: EvidenceId,
    request: Request,
    conn: Conn,
    who: Reader,
    annotate: Annotated[
        bool, Query(alias="annotated", description="Draw the boxes on a copy.")
    ] = False,
) -> Response:
    data_dir = FsPath(request.app.state.parts.settings.data_dir)
    try:
        found = evidence.load(conn, data_dir, evidence_id, evidence_view(who), annotate=annotate)
    except (MissingFile, EvidenceMissing):
        raise not_found() from None
    except TamperedFile:
        raise HTTPException(409, "the evidence file does not match its recorded hash") from None
    if found is None:
        raise not_found()
    record, data = found
    return Response(
        data,
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=300", "X-Content-SHA256": record["sha256"]},
    )


@router.get("/{evidence_id}", response_model=EvidenceRecord)
def get_evidence(evidence_id: EvidenceId, conn: Conn, who: Reader) -> dict[str, Any]:
    """The record: boxes, scores, model name@version, zone, rule, hash, retention."""
    record = evidence.find(conn, evidence_id, evidence_view(who))
    if record is None:
        raise not_found()
    return record
