"""Kitchen review and rectification (kitchens.md): the queue, decisions, the operator's
plan and evidence, verification. Operators reach their own confirmed cases only; any
other case is 404 for them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)
from pydantic import BaseModel, ConfigDict, Field

from brightwatch.alerts.review.store import ACCEPTED, ReviewDesk, Upload
from brightwatch.alerts.review.workflow import OPEN_CASE, Case, CaseState
from brightwatch.api.auth import Principal
from brightwatch.api.deps import Conn, require
from brightwatch.api.errors import AUTHENTICATED, WITH_BODY, errors
from brightwatch.api.inputs import NO_NUL, Body
from brightwatch.api.responses import Served
from brightwatch.api.routes.evidence import Evidence
from brightwatch.api.scope import district_of, site_of_operator
from brightwatch.api.transactions import in_transaction
from brightwatch.contract.limits import unstorable

router = APIRouter(
    prefix="/api/v1/reviews", tags=["reviews"], responses={**AUTHENTICATED, **errors(404)}
)
Supervisor = Annotated[Principal, Depends(require("admin", "supervisor"))]
Party = Annotated[Principal, Depends(require("admin", "supervisor", "operator"))]
Operator = Annotated[Principal, Depends(require("operator"))]
ReviewId = Annotated[int, Path(ge=1, le=2**62)]
STATES = "|".join(["pending", *CaseState, "open"])


async def desk(request: Request) -> ReviewDesk:
    """The review desk of the parts (no I/O: on the event loop, not the thread pool)."""
    return request.app.state.parts.reviews


Desk = Annotated[ReviewDesk, Depends(desk)]


class Box(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(..., min_length=1, max_length=100)
    box: list[float] = Field(
        ..., min_length=4, max_length=4, description="x1, y1, x2, y2 in pixels"
    )


class DecisionBody(Body):
    decision: Literal["confirm", "dismiss"]
    note: str | None = Field(None, max_length=2000)
    elapsed_ms: int | None = Field(
        None,
        ge=0,
        le=3_600_000,
        description="How long the officer looked before deciding (measured by the console).",
    )
    corrected_boxes: dict[str, list[Box]] | None = Field(
        None,
        max_length=50,
        description="With a dismissal: the right boxes per evidence id (an empty list: nothing there). Exported as labels.",
    )


class TransitionBody(Body):
    to: Literal["rectifying", "verifying", "closed"] = Field(
        ...,
        description="operator: notified -> rectifying (the plan, in `note`); supervisor: -> verifying,"
        " verifying -> closed (ok) or -> rectifying (not ok, `note` says why)",
    )
    note: str | None = Field(None, max_length=4000)


class ReviewFields(Served):
    """What a review item and a case both are: a detected violation of one camera."""

    id: int
    alert_id: int
    site_id: str
    camera_id: str
    district: str
    code: str
    tier: str
    state: str
    detected_at: datetime
    created_at: datetime
    presented_at: datetime | None


class QueueItem(ReviewFields):
    """A violation waiting for review, with its alert and evidence."""

    recurrences: int
    severity: str
    summary: str = Field(description="In the deployment's language (BW_LOCALE).")
    summaries: dict[str, str] = Field(
        default_factory=dict,
        description="The summary in every language of the catalogue, where the rule wrote it so.",
    )
    count: int
    evidence_url: str | None
    labels: dict[str, Any]
    alert_state: str
    evidence: list[Evidence]
    name_zh: str
    rule: str | None = Field(description="The rule that raised, in the deployment's language.")
    rules: dict[str, str] = Field(
        default_factory=dict,
        description="The rule in every language of the catalogue, where the rules engine wrote it so.",
    )


class RectificationFile(Served):
    id: int
    sha256: str
    size_bytes: int
    content_type: str
    original_name: str
    url: str


class Rectification(Served):
    id: int
    submitted_at: datetime
    submitted_by: str
    note: str
    result: str | None
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
    files: list[RectificationFile]


class CaseEvent(Served):
    at: datetime
    action: str
    actor: str
    note: str | None
    details: dict[str, Any]


class ReviewCase(ReviewFields):
    """A case from detection to closing: decision, deadlines, cards, points, the
    operator's rectifications, evidence and history."""

    updated_at: datetime
    decision: str | None
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
    decision_seconds: float | None
    corrected_boxes: dict[str, Any] | None
    notified_at: datetime | None
    plan_due_at: datetime | None
    plan_submitted_at: datetime | None
    plan_note: str | None
    plan_overdue_at: datetime | None
    fix_due_at: datetime | None
    evidence_submitted_at: datetime | None
    rectified_at: datetime | None
    verification_started_at: datetime | None
    verified_at: datetime | None
    verified_by: str | None
    escalated_at: datetime | None
    card: str | None
    card_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    recurrences: int
    points: int
    points_restored: int
    name_zh: str
    evidence: list[Evidence]
    rectifications: list[Rectification]
    history: list[CaseEvent]


class ReviewPage(Served):
    items: list[QueueItem | ReviewCase]
    next: QueueItem | None = Field(
        ..., description="The review queue: the item after the page, to preload."
    )


class CaseSummary(Served):
    """The case after the decision or step."""

    id: int
    state: str
    decision: str | None
    decided_by: str | None
    decision_seconds: float | None
    plan_due_at: datetime | None
    fix_due_at: datetime | None
    card: str | None
    points: int
    closed_at: datetime | None


class RectificationSubmitted(CaseSummary):
    rectification_id: int


def _summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "state": case.state.value,
        "decision": case.decision,
        "decided_by": case.decided_by,
        "decision_seconds": case.decision_seconds,
        "plan_due_at": case.plan_due_at,
        "fix_due_at": case.fix_due_at,
        "card": case.card,
        "points": case.points,
        "closed_at": case.closed_at,
    }


@router.get("", response_model=ReviewPage)
def list_reviews(
    conn: Conn,
    who: Supervisor,
    d: Desk,
    state: Annotated[str, Query(pattern=f"^({STATES})$")] = "pending",
    after_id: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**62,
            description="the page after this item (the queue: skip it; other states: older ones)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    """`state=pending`: the review queue, oldest first, with evidence (URLs, boxes, rule)
    and `next`, the item after the page, to preload. Other states: cases, newest first."""
    if state in ("pending", "pending_review"):
        # showing the first item marks it presented (the decision timer): a write
        items, following = in_transaction(
            conn, lambda: d.queue(conn, limit, after_id, district=district_of(who))
        )
        return {"items": items, "next": following}
    states = [s.value for s in OPEN_CASE] if state == "open" else [state]
    cases = d.cases(conn, states, before_id=after_id, limit=limit, district=district_of(who))
    return {"items": cases, "next": None}


@router.get("/{review_id}", response_model=ReviewCase)
def get_review(review_id: ReviewId, conn: Conn, who: Party, d: Desk) -> dict[str, Any]:
    return d.case_view(conn, review_id, site_of_operator(who))


@router.post("/{review_id}", response_model=CaseSummary, responses={**WITH_BODY, **errors(409)})
def decide(
    review_id: ReviewId, body: DecisionBody, conn: Conn, who: Supervisor, d: Desk
) -> dict[str, Any]:
    corrected = (
        {k: [b.model_dump() for b in v] for k, v in body.corrected_boxes.items()}
        if body.corrected_boxes
        else None
    )
    case = in_transaction(
        conn,
        lambda: d.decide(
            conn, review_id, body.decision, who.actor, body.note, body.elapsed_ms, corrected
        ),
    )
    return _summary(case)


@router.post(
    "/{review_id}/transitions",
    response_model=CaseSummary,
    responses={**WITH_BODY, **errors(409)},
)
def transition(
    review_id: ReviewId, body: TransitionBody, conn: Conn, who: Party, d: Desk
) -> dict[str, Any]:
    case = in_transaction(
        conn,
        lambda: d.transition(
            conn, review_id, body.to, who.actor, who.role, body.note, site_of_operator(who)
        ),
    )
    return _summary(case)


@router.post(
    "/{review_id}/rectification",
    status_code=201,
    response_model=RectificationSubmitted,
    responses={**WITH_BODY, **errors(403, 409, 413, 415)},
)
def upload_rectification(
    review_id: ReviewId,
    conn: Conn,
    who: Operator,
    d: Desk,
    files: Annotated[
        list[UploadFile], File(description="photos (JPEG/PNG), a video (MP4) or a PDF")
    ],
    note: Annotated[str, Form(max_length=4000, pattern=NO_NUL)] = "",
) -> dict[str, Any]:
    """The operator's rectification evidence (multipart); the case moves to evidence_submitted."""
    limit = d.settings.upload_max_bytes
    uploads = []
    # read no more than the desk can refuse: one file too many, one byte too large
    for f in files[: d.settings.upload_max_files + 1]:
        data = f.file.read(limit + 1)
        uploads.append(Upload(file_name(f), data))
    case, rect_id = in_transaction(
        conn,
        lambda: d.submit_rectification(
            conn, review_id, who.actor, note, uploads, site_of_operator(who)
        ),
    )
    return {**_summary(case), "rectification_id": rect_id}


def file_name(upload: UploadFile) -> str:
    """The name the client gave the file (kept for people), refused when the database
    could not store it."""
    name = upload.filename or ""
    why = unstorable(name)
    if why:
        raise HTTPException(422, f"a file name {why}")
    return name


@router.get(
    "/{review_id}/files/{file_id}",
    response_class=Response,
    responses={
        200: {
            "content": {kind: {} for kind in ACCEPTED},
            "description": "The stored file, its hash checked.",
        },
        **errors(409),
    },
)
def get_file(
    review_id: ReviewId,
    file_id: Annotated[int, Path(ge=1, le=2**62)],
    conn: Conn,
    who: Party,
    d: Desk,
) -> Response:
    data, content_type, _ = d.read_file(conn, review_id, file_id, site_of_operator(who))
    return Response(
        data, media_type=content_type, headers={"Cache-Control": "private, max-age=300"}
    )
