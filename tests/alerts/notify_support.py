"""Shared set-up of the notification tests: settings from data/notify.toml, a fake clock,
helpers raising kitchen and elevator alerts the way the rule engines do."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from brightwatch.alerts.model import AlertChange, AlertSignal
from brightwatch.alerts.routing.pipeline import NotificationPipeline
from brightwatch.alerts.routing.settings import NotifySettings
from brightwatch.alerts.settings import AlertSettings
from brightwatch.alerts.store import AlertStore

DATA = Path(__file__).parent / "data"
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def notify_settings(**overrides: Any) -> AlertSettings:
    raw = tomllib.loads((DATA / "notify.toml").read_text())
    raw.update(overrides)
    return AlertSettings(notify=NotifySettings(**raw))


class Harness:
    """An alert store with the notification reactor, on one connection, on a fake clock."""

    def __init__(
        self, conn: psycopg.Connection[Any], settings: AlertSettings | None = None
    ) -> None:
        self.conn = conn
        self.clock = Clock()
        self.settings = settings or notify_settings()
        self.pipeline = NotificationPipeline(self.settings, "bw", self.clock)
        self.store = AlertStore(self.settings, "bw", [self.pipeline], clock=self.clock)

    def restart(self) -> None:
        """New objects, same database: nothing lives in memory."""
        self.pipeline = NotificationPipeline(self.settings, "bw", self.clock)
        self.store = AlertStore(self.settings, "bw", [self.pipeline], clock=self.clock)

    def signal(
        self,
        code: str,
        device: str,
        *,
        active: bool = True,
        kind: str = "elevator",
        severity: str = "P2",
        site: str | None = None,
        labels: dict[str, Any] | None = None,
    ) -> AlertChange | None:
        s = AlertSignal(
            kind=kind,
            code=code,
            severity=severity,
            device_id=device,
            site_id=site,
            active=active,
            at=self.clock.now,
            summary=f"{code} on {device}",
            labels=labels or {},
        )
        with self.conn.transaction():
            return self.store.apply_signal(self.conn, s)

    def kitchen(
        self, code: str, camera: str, site: str, *, active: bool = True, severity: str = "T3"
    ) -> AlertChange | None:
        return self.signal(
            code,
            camera,
            active=active,
            kind="kitchen",
            severity=severity,
            site=site,
            labels={"site_id": site, "camera_id": camera, "district": "Futian", "zone": "stove"},
        )

    def tick(self) -> None:
        self.pipeline.silence_clock(self.conn)
        self.pipeline.flush_due(self.conn)
        self.pipeline.escalate_due(self.conn)

    def next_deadline(self) -> datetime | None:
        return self.conn.execute(
            "SELECT min(t) FROM (SELECT min(next_flush_at) AS t FROM notify_group"
            " UNION ALL SELECT min(next_escalation_at) FROM alert_notify"
            " UNION ALL SELECT min(starts_at) FROM silence WHERE activated_at IS NULL AND expired_at IS NULL"
            " UNION ALL SELECT min(ends_at) FROM silence WHERE expired_at IS NULL) d"
        ).fetchone()[0]

    def advance(self, **delta: float) -> None:
        """Move the clock, ticking at every deadline on the way, as the running loops would."""
        end = self.clock.now + timedelta(**delta)
        for _ in range(10_000):
            due = self.next_deadline()
            if due is None or due > end:
                break
            self.clock.now = max(self.clock.now, due)
            self.tick()
        else:
            raise AssertionError("the deadlines never settle")
        self.clock.now = end
        self.tick()

    # -- what happened

    def notifications(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT id, reason, receiver, status, alert_ids, created_at, group_key FROM notification ORDER BY id"
        ).fetchall()
        return [
            dict(
                zip(
                    ("id", "reason", "receiver", "status", "alert_ids", "at", "group_key"),
                    r,
                    strict=True,
                )
            )
            for r in rows
        ]

    def deliveries(self, notification_id: int) -> list[tuple[str, str, dict[str, Any]]]:
        return self.conn.execute(
            "SELECT channel, target, payload FROM delivery WHERE notification_id = %s ORDER BY id",
            (notification_id,),
        ).fetchall()

    def history(self, alert_id: int) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT action FROM alert_event WHERE alert_id = %s ORDER BY id", (alert_id,)
            ).fetchall()
        ]
