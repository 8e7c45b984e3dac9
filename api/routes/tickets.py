"""Tickets (elevators.md, Tickets): list, one ticket with its items, clocks, attachments
and history, lifecycle steps (illegal steps are 409), photos and documents. A firm token
reaches its own tickets only; any other ticket is 404 for it."""

from __future__ import annotations

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
from pydantic import BaseModel, ConfigDict, Field

from alerts.tickets.attachments import attach, read_attachment
from alerts.tickets.lifecycle import (
    ITEM_RESULTS,
    OPEN_STATES,
    TicketState,
    TicketType,
)
from alerts.tickets.store import TicketDesk, ticket_dict
from api.auth import Principal
from api.deps import Conn, require
from brightwatch.wiring import ticket_desk_of
from contract.ids import ID_PATTERN

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])
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


def desk(request: Request) -> TicketDesk:
    """The desk the wiring put on the runtime's alert store (one per service)."""
    return ticket_desk_of(request.app.state.runtime)


Desk = Annotated[TicketDesk, Depends(desk)]


def _firm(who: Principal) -> str | None:
    return who.firm_id if who.role == "firm" else None


class TransitionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
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


@router.get("")
def list_tickets(
    conn: Conn,
    who: Reader,
    state: Annotated[str | None, Query(pattern=f"^({STATES})$")] = None,
    type: Annotated[str | None, Query(pattern=f"^({TYPES})$")] = None,
    elevator_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Tickets, newest first, with the next SLA deadline (`sla`); `state=open` for every
    state still in progress."""
    where: list[str] = []
    params: list[Any] = []
    if who.role == "firm":
        where.append("t.firm_id = %s")
        params.append(who.firm_id)
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
        f" FROM ticket t WHERE {' AND '.join(where) or 'TRUE'} ORDER BY t.id DESC LIMIT %s"
    )
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql, [*params, limit]).fetchall()
    return {"items": rows, "next_before_id": rows[-1]["id"] if len(rows) == limit else None}


@router.get("/{ticket_id}")
def get_ticket(ticket_id: TicketId, conn: Conn, who: Reader, d: Desk) -> dict[str, Any]:
    """The ticket with its maintenance `items`, SLA `clocks`, `attachments` and `history`."""
    return d.view(conn, ticket_id, _firm(who))


@router.post("/{ticket_id}/transitions")
def transition(
    ticket_id: TicketId, body: TransitionBody, conn: Conn, who: Actor, d: Desk
) -> dict[str, Any]:
    """One lifecycle step, audited and published on `bw/tickets/{firm_id}/{ticket_id}`."""
    with conn.transaction():
        ticket = d.transition(
            conn,
            ticket_id,
            body.to.value,
            actor=who.actor,
            role=who.role,
            firm_id=_firm(who),
            note=body.note,
            result=body.result,
            items=body.items,
            assign_firm=body.firm_id,
        )
    return ticket_dict(ticket)


@router.post("/{ticket_id}/attachments", status_code=201)
def upload_attachment(
    ticket_id: TicketId,
    conn: Conn,
    who: Actor,
    d: Desk,
    file: Annotated[UploadFile, File(description="a photo (JPEG, PNG, WebP) or a PDF")],
    note: Annotated[str | None, Form(max_length=2000)] = None,
) -> dict[str, Any]:
    """A photo or document for the ticket, stored with its SHA-256 under BW_DATA_DIR."""
    data = file.file.read(d.settings.upload_max_bytes + 1)  # one byte more: too large
    with conn.transaction():
        return attach(
            d,
            conn,
            ticket_id,
            actor=who.actor,
            firm_id=_firm(who),
            name=file.filename or "",
            data=data,
            note=note,
        )


@router.get("/{ticket_id}/attachments/{attachment_id}")
def get_attachment(
    ticket_id: TicketId,
    attachment_id: Annotated[int, Path(ge=1, le=2**62)],
    conn: Conn,
    who: Reader,
    d: Desk,
) -> Response:
    """The stored file; its hash is checked on every read (409 when it does not match)."""
    data, content_type = read_attachment(d, conn, ticket_id, attachment_id, _firm(who))
    return Response(data, media_type=content_type, headers={"Cache-Control": "private"})
