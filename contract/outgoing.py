"""Messages the service publishes: alert lifecycle messages (interfaces.md, Alert message)."""

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


class AlertMessage(msgspec.Struct, kw_only=True):
    type: AlertMessageType
    alert: AlertBody


def encode(message: msgspec.Struct) -> bytes:
    """JSON with RFC 3339 times, as every outgoing message is encoded."""
    return msgspec.json.encode(message)
