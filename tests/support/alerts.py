"""Raise an alert through the real alert store, as the rules worker would."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from brightwatch.alerts.model import AlertSignal
from brightwatch.settings import Settings
from brightwatch.wiring import build_alert_store


def fire_trapped(
    settings: Settings, device: str, at: datetime | None = None, summary: str = "困人"
) -> int:
    """A TRAPPED_OUT_ZONE (P1) on `device` at `at` (now); the alert's id."""
    alerts = build_alert_store(settings)
    with psycopg.connect(settings.database_url.get_secret_value()) as conn, conn.transaction():
        change = alerts.apply_signal(
            conn,
            AlertSignal(
                kind="elevator",
                code="TRAPPED_OUT_ZONE",
                severity="P1",
                device_id=device,
                active=True,
                at=at or datetime.now(UTC),
                summary=summary,
            ),
        )
    assert change is not None
    return change.alert.id
