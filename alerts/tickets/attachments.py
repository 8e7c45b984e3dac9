"""Attachments of a ticket: photos of the work and PDF reports uploaded by a firm or a
supervisor, stored under BW_DATA_DIR with their SHA-256 (checked on every read) and
recorded in the ticket's history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from brightwatch.alerts.evidence import files
from brightwatch.alerts.tickets import lifecycle
from brightwatch.alerts.tickets.lifecycle import IllegalTransition
from brightwatch.alerts.tickets.store import TicketDesk, TicketNotFound, load

# what a ticket attachment may be: photos of the work, a PDF report
ACCEPTED = ("image/jpeg", "image/png", "image/webp", "application/pdf")


class AttachmentRejected(ValueError):
    """An attachment that cannot be stored (HTTP 413 / 415 / 422)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def attach(
    desk: TicketDesk,
    conn: psycopg.Connection[Any],
    ticket_id: int,
    *,
    actor: str,
    firm_id: str | None,
    name: str,
    data: bytes,
    note: str | None,
) -> dict[str, Any]:
    ticket = load(conn, ticket_id, lock=True, firm_id=firm_id)
    if len(data) > desk.settings.upload_max_bytes:
        raise AttachmentRejected(f"larger than {desk.settings.upload_max_bytes} bytes", status=413)
    if not data:
        raise AttachmentRejected("the file is empty")
    kind = files.sniff(data, ACCEPTED)
    if kind is None:
        raise AttachmentRejected("only JPEG, PNG, WebP or PDF files are accepted", status=415)
    if ticket.state in lifecycle.CLOSED_STATES:
        raise IllegalTransition(f"ticket {ticket_id} is {ticket.state}: no more attachments")
    content_type, ext = kind
    digest = files.sha256(data)
    now = desk.clock()
    rel = Path("tickets") / str(ticket_id) / f"{digest[:24]}{ext}"
    files.write_atomic(desk.data_dir / rel, data)
    row = conn.execute(
        "INSERT INTO ticket_attachment (ticket_id, path, sha256, content_type, size_bytes,"
        " original_name, note, uploaded_by, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " RETURNING id",
        (
            ticket_id,
            rel.as_posix(),
            digest,
            content_type,
            len(data),
            name[:200],
            note,
            actor,
            now,
        ),
    ).fetchone()
    assert row is not None
    desk.record_event(
        conn,
        ticket_id,
        now,
        actor,
        "attachment",
        ticket.state.value,
        ticket.state.value,
        ticket.firm_id,
        note,
        {"attachment_id": row[0], "sha256": digest},
    )
    return {
        "id": row[0],
        "ticket_id": ticket_id,
        "sha256": digest,
        "content_type": content_type,
        "size_bytes": len(data),
        "created_at": now,
    }


def read_attachment(
    desk: TicketDesk,
    conn: psycopg.Connection[Any],
    ticket_id: int,
    attachment_id: int,
    firm_id: str | None,
) -> tuple[bytes, str]:
    load(conn, ticket_id, firm_id=firm_id)
    row = conn.execute(
        "SELECT path, sha256, content_type FROM ticket_attachment WHERE id = %s AND ticket_id = %s",
        (attachment_id, ticket_id),
    ).fetchone()
    if row is None:
        raise TicketNotFound(attachment_id)
    data = files.read_checked(desk.data_dir, row[0], row[1], f"attachment {attachment_id}")
    return data, row[2]
