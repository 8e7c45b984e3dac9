"""Messages the service publishes: alert lifecycle messages (interfaces.md, Alert message)
and ticket lifecycle messages (`bw/tickets/{firm_id}/{ticket_id}`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

AlertMessageType = Literal["new", "update", "resolved"]


class AlertBody(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    code: str
    severity: str
    state: str
    device_id: str
    site_id: str | None
    started_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    count: int
    summary: str
    evidence_url: str | None
    # an extension of interfaces.md's message: the summary in every language of the
    # catalogue (`{"zh-CN": ..., "en": ...}`) where the rule wrote it so; `summary` is the
    # deployment's language (BW_LOCALE). {} for alerts written in one language only.
    summaries: dict[str, str] = {}


class AlertMessage(msgspec.Struct, kw_only=True):
    type: AlertMessageType
    alert: AlertBody


class TicketSla(msgspec.Struct, kw_only=True):
    """The next SLA deadline of a ticket: the step it waits for."""

    step: str
    due_at: datetime
    breached: bool


class TicketBody(msgspec.Struct, kw_only=True):
    id: int
    type: str
    state: str
    elevator_id: str
    address: str
    district: str
    site_id: str | None
    firm_id: str | None
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
    previous_firms: list[str]
    sla: TicketSla | None


class TicketMessage(msgspec.Struct, kw_only=True):
    """One ticket event (`event`: created, dispatched, accepted, ..., sla_breached) with
    the ticket after it."""

    event: str
    at: datetime
    actor: str
    ticket: TicketBody


def encode(message: msgspec.Struct) -> bytes:
    """JSON with RFC 3339 times, as every outgoing message is encoded."""
    return msgspec.json.encode(message)
