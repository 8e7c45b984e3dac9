"""Tickets (elevators.md, Tickets): list, one ticket with its items, clocks, attachments
and history, lifecycle steps (illegal steps are 409), photos and documents. A firm token
reaches its own tickets only; any other ticket is 404 for it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)
from psycopg.rows import dict_row
from pydantic import Field

from brightwatch.alerts.tickets.attachments import ACCEPTED, attach, read_attachment
from brightwatch.alerts.tickets.lifecycle import (
    ITEM_RESULTS,
    OPEN_STATES,
    TicketState,
    TicketType,
)
from brightwatch.alerts.tickets.store import TicketDesk, ticket_dict
from brightwatch.api.auth import Principal
from brightwatch.api.deps import Conn, ReadConn, require
from brightwatch.api.errors import AUTHENTICATED, WITH_BODY, errors
from brightwatch.api.inputs import NO_NUL, Body
from brightwatch.api.responses import Served
from brightwatch.api.routes.reviews import file_name
from brightwatch.api.scope import firm_of, ticket_scope
from brightwatch.api.transactions import in_transaction
from brightwatch.contract.ids import ID_PATTERN

router = APIRouter(
    prefix="/api/v1/tickets", tags=["tickets"], responses={**AUTHENTICATED, **errors(404)}
)
Reader = Annotated[Principal, Depends(require("admin", "supervisor", "firm"))]
Actor = Annotated[Principal, Depends(require("admin", "supervisor", "firm"))]
TicketId = Annotated[int, Path(ge=1, le=2**62)]
STATES = "|".join([*(s.value for s in TicketState), "open"])
TYPES = "|".join(t.value for t in TicketType)
LIST_FIELDS = (
    "id, type, state, elevator_id, firm_id, site_id, address, district, trigger, alert_id,"
    " confirmed_at, due_at, created_at, updated_at, dispatched_at, accepted_at, arrived_at,"
    " completed_at, verified_at, result"
)


async def desk(request: Request) -> TicketDesk:
    """The desk the shell put on the alert store (one per service), handed in with the
    parts (no I/O: on the event loop, not the thread pool)."""
    return request.app.state.parts.tickets


Desk = Annotated[TicketDesk, Depends(desk)]


class TransitionBody(Body):
    to: TicketState = Field(
        ...,
        description="firm: accepted, arrived, completed, false_alarm; supervisor: also"
        " dispatched, verified, cancelled. Steps the ticket's state does not allow are 409.",
    )
    note: str | None = Field(None, max_length=4000)
    result: str | None = Field(
        None,
        max_length=64,
        description="with `completed`: rescue released_in_service | released_locked_out;"
        " repair fault_cleared | out_of_service; maintenance done | done_with_findings",
    )
    items: dict[str, str] | None = Field(
        None,
        max_length=200,
        description=f"maintenance, with `completed`: a result per item code ({', '.join(ITEM_RESULTS)})",
    )
    firm_id: str | None = Field(
        None,
        pattern=ID_PATTERN,
        description="supervisor, with `dispatched`: the firm to dispatch to (a ticket without one)",
    )


class Sla(Served):
    """The next SLA deadline still running."""

    step: str
    due_at: str  # as PostgreSQL's json_build_object writes it
    breached: bool


class TicketSummary(Served):
    id: int
    type: str
    state: str
    elevator_id: str
    firm_id: str | None
    site_id: str | None
    address: str
    district: str
    trigger: str
    alert_id: int | None
    confirmed_at: datetime | None
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    arrived_at: datetime | None
    completed_at: datetime | None
    verified_at: datetime | None
    result: str | None
    sla: Sla | None


class TicketPage(Served):
    items: list[TicketSummary]
    next_before_id: int | None


class Ticket(Served):
    """A ticket after a step: its state, times and who did what."""

    id: int
    type: str
    state: str
    elevator_id: str
    trigger: str
    created_at: datetime
    updated_at: datetime
    firm_id: str | None
    site_id: str | None
    address: str
    district: str
    user_unit: str
    alert_id: int | None
    alert_ids: list[int]
    plan_id: int | None
    confirmed_at: datetime | None
    due_at: datetime | None
    dispatched_at: datetime | None
    accepted_at: datetime | None
    accepted_by: str | None
    arrived_at: datetime | None
    arrival_proof: str | None
    escalated_at: datetime | None
    reassigned_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    verified_at: datetime | None
    verified_by: str | None
    closed_at: datetime | None
    result: str | None
    notes: str | None
    items: list[dict[str, Any]] = Field(..., description="maintenance items and their results")
    previous_firms: list[str]
    evidence: dict[str, Any]


class Clock(Served):
    id: int
    step: str
    firm_id: str | None
    started_at: datetime
    due_at: datetime
    breached_at: datetime | None
    breach_alert_id: int | None
    met_at: datetime | None
    voided_at: datetime | None


class Attachment(Served):
    id: int
    sha256: str
    content_type: str
    size_bytes: int
    original_name: str
    note: str | None
    uploaded_by: str
    created_at: datetime
    url: str


class TicketEvent(Served):
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    firm_id: str | None
    note: str | None
    details: dict[str, Any]


class TicketDetail(Ticket):
    clocks: list[Clock]
    attachments: list[Attachment]
    history: list[TicketEvent]


class AttachmentStored(Served):
    id: int
    ticket_id: int
    sha256: str
    content_type: str
    size_bytes: int
    created_at: datetime


@router.get("", response_model=TicketPage)
def list_tickets(
    conn: ReadConn,
    who: Reader,
    state: Annotated[str | None, Query(pattern=f"^({STATES})$")] = None,
    type: Annotated[str | None, Query(pattern=f"^({TYPES})$")] = None,
    elevator_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Tickets, newest first, with the next SLA deadline (`sla`); `state=open` for every
    state still in progress."""
    cond, params = ticket_scope(who)
    where = [cond]
    if state == "open":
        where.append("t.state = ANY(%s)")
        params.append([s.value for s in OPEN_STATES])
    elif state:
        where.append("t.state = %s")
        params.append(state)
    for column, value in (("type", type), ("elevator_id", elevator_id)):
        if value:
            where.append(f"t.{column} = %s")
            params.append(value)
    if before_id:
        where.append("t.id < %s")
        params.append(before_id)
    sql = (
        f"SELECT {', '.join('t.' + c.strip() for c in LIST_FIELDS.split(','))},"  # noqa: S608
        " (SELECT json_build_object('step', c.step, 'due_at', c.due_at,"
        "   'breached', c.breached_at IS NOT NULL) FROM ticket_clock c"
        "  WHERE c.ticket_id = t.id AND c.met_at IS NULL AND c.voided_at IS NULL"
        "  ORDER BY c.due_at LIMIT 1) AS sla"
        f" FROM ticket t WHERE {' AND '.join(where)} ORDER BY t.id DESC LIMIT %s"
    )
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql, [*params, limit]).fetchall()
    return {"items": rows, "next_before_id": rows[-1]["id"] if len(rows) == limit else None}


@router.get("/{ticket_id}", response_model=TicketDetail)
def get_ticket(ticket_id: TicketId, conn: Conn, who: Reader, d: Desk) -> dict[str, Any]:
    """The ticket with its maintenance `items`, SLA `clocks`, `attachments` and `history`."""
    return d.view(conn, ticket_id, firm_of(who))


@router.post(
    "/{ticket_id}/transitions",
    response_model=Ticket,
    responses={**WITH_BODY, **errors(409)},
)
def transition(
    ticket_id: TicketId, body: TransitionBody, conn: Conn, who: Actor, d: Desk
) -> dict[str, Any]:
    """One lifecycle step, audited and published on `bw/tickets/{firm_id}/{ticket_id}`."""
    ticket = in_transaction(
        conn,
        lambda: d.transition(
            conn,
            ticket_id,
            body.to.value,
            actor=who.actor,
            role=who.role,
            firm_id=firm_of(who),
            note=body.note,
            result=body.result,
            items=body.items,
            assign_firm=body.firm_id,
        ),
    )
    return ticket_dict(ticket)


@router.post(
    "/{ticket_id}/attachments",
    status_code=201,
    response_model=AttachmentStored,
    responses={**WITH_BODY, **errors(413, 415)},
)
def upload_attachment(
    ticket_id: TicketId,
    conn: Conn,
    who: Actor,
    d: Desk,
    file: Annotated[UploadFile, File(description="a photo (JPEG, PNG, WebP) or a PDF")],
    note: Annotated[str | None, Form(max_length=2000, pattern=NO_NUL)] = None,
) -> dict[str, Any]:
    """A photo or document for the ticket, stored with its SHA-256 under BW_DATA_DIR."""
    data = file.file.read(d.settings.upload_max_bytes + 1)  # one byte more: too large
    name = file_name(file)
    return in_transaction(
        conn,
        lambda: attach(
            d,
            conn,
            ticket_id,
            actor=who.actor,
            firm_id=firm_of(who),
            name=name,
            data=data,
            note=note,
        ),
    )


@router.get(
    "/{ticket_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={
        200: {
            "content": {kind: {} for kind in ACCEPTED},
            "description": "The stored file, its hash checked.",
        },
        **errors(409),
    },
)
def get_attachment(
    ticket_id: TicketId,
    attachment_id: Annotated[int, Path(ge=1, le=2**62)],
    conn: Conn,
    who: Reader,
    d: Desk,
) -> Response:
    """The stored file; its hash is checked on every read (409 when it does not match)."""
    data, content_type = read_attachment(d, conn, ticket_id, attachment_id, firm_of(who))
    return Response(data, media_type=content_type, headers={"Cache-Control": "private"})
