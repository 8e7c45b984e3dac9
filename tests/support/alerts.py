"""Raise an alert through the real alert store, as the rules worker would."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from brightwatch.alerts.model import AlertSignal
from brightwatch.settings import Settings
from brightwatch.wiring import build_alert_store


def fire(
    settings: Settings,
    device: str,
    code: str = "TRAPPED_OUT_ZONE",
    kind: str = "elevator",
    site: str | None = None,
    severity: str = "P1",
    at: datetime | None = None,
    summary: str | None = None,
    summaries: dict[str, str] | None = None,
) -> int:
    """An active `code` alert on `device` at `at` (now); the alert's id."""
    alerts = build_alert_store(settings)
    with psycopg.connect(settings.database_url.get_secret_value()) as conn, conn.transaction():
        change = alerts.apply_signal(
            conn,
            AlertSignal(
                kind=kind,
                code=code,
                severity=severity,
                device_id=device,
                active=True,
                at=at or datetime.now(UTC),
                site_id=site,
                summary=summary if summary is not None else f"{code} on {device}",
                summaries=summaries or {},
            ),
        )
    assert change is not None
    return change.alert.id


def fire_trapped(
    settings: Settings, device: str, at: datetime | None = None, summary: str = "困人"
) -> int:
    """A TRAPPED_OUT_ZONE (P1) on `device` at `at` (now); the alert's id."""
    return fire(settings, device, at=at, summary=summary)
