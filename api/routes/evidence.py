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
from psycopg.rows import dict_row

from alerts.evidence.annotation import EvidenceMissing, annotated
from alerts.evidence.files import MissingFile, TamperedFile, read_checked
from alerts.review.store import HIDDEN_FROM_OPERATORS
from api.auth import Principal
from api.deps import Conn, not_found, require
from api.errors import AUTHENTICATED, errors
from api.responses import Served

router = APIRouter(
    prefix="/api/v1/evidence", tags=["evidence"], responses={**AUTHENTICATED, **errors(404)}
)
Reader = Annotated[Principal, Depends(require("admin", "supervisor", "operator"))]
EvidenceId = Annotated[int, Path(ge=1, le=2**62)]

FIELDS = (
    "e.id, e.site_id, e.camera_id, e.alert_id, e.captured_at, e.path, e.sha256, e.size_bytes,"
    " e.width, e.height, e.code, e.boxes, e.model, e.zone, e.rule, e.retained_until"
)


class EvidenceRecord(Served):
    """A violation's evidence picture: boxes, scores, model name@version, zone, rule,
    hash and retention."""

    id: int
    site_id: str
    camera_id: str
    alert_id: int | None
    captured_at: datetime
    sha256: str
    size_bytes: int
    width: int
    height: int
    code: str | None
    boxes: list[Any]
    model: str | None
    zone: str | None
    rule: str | None
    retained_until: datetime | None
    url: str


def _row(conn: Conn, who: Principal, evidence_id: int) -> dict[str, Any]:
    where = "e.id = %s"
    params: list[Any] = [evidence_id]
    if who.role == "operator":
        where += (
            " AND e.site_id = %s AND NOT EXISTS (SELECT 1 FROM review r"
            " WHERE r.alert_id = e.alert_id AND r.state = ANY(%s))"
        )
        params += [who.site_id, list(HIDDEN_FROM_OPERATORS)]
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(f"SELECT {FIELDS} FROM evidence e WHERE {where}", params).fetchone()  # noqa: S608
    if row is None:
        raise not_found()
    return row


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
    row = _row(conn, who, evidence_id)
    data_dir = FsPath(request.app.state.runtime.settings.data_dir)
    try:
        data = read_checked(data_dir, row["path"], row["sha256"], f"evidence {evidence_id}")
        if annotate:
            data = annotated(data, row["boxes"] or [])
    except (MissingFile, EvidenceMissing):
        raise not_found() from None
    except TamperedFile:
        raise HTTPException(409, "the evidence file does not match its recorded hash") from None
    return Response(
        data,
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=300", "X-Content-SHA256": row["sha256"]},
    )


@router.get("/{evidence_id}", response_model=EvidenceRecord)
def get_evidence(evidence_id: EvidenceId, conn: Conn, who: Reader) -> dict[str, Any]:
    """The record: boxes, scores, model name@version, zone, rule, hash, retention."""
    row = _row(conn, who, evidence_id)
    row.pop("path")
    row["url"] = f"/api/v1/evidence/{evidence_id}.jpg"
    return row
