"""SQL adapter of the alert lifecycle: one transaction per change, with audit and outbox.

Every change writes the alert row, an `alert_event` row (who, when, what) and the
outgoing `bw/alerts/{kind}/{device_id}` message into the outbox, then calls the
registered reactors (tickets, notifications, review queue) on the same connection, so
a change and its consequences commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from brightwatch.alerts import lifecycle
from brightwatch.alerts.model import Alert, AlertChange, AlertSignal, AlertState
from brightwatch.alerts.outbox import enqueue
from brightwatch.alerts.settings import AlertSettings
from brightwatch.contract.outgoing import AlertBody, AlertMessage, encode
from brightwatch.contract.topics import alert_topic

Reactor = Callable[[psycopg.Connection[Any], AlertChange, datetime], None]
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


COLUMNS = (
    "id, kind, code, severity, state, device_id, site_id, fingerprint, started_at, updated_at, "
    "last_raised_at, count, summary, evidence_url, resolved_at, resolved_by, acknowledged_at, "
    "acknowledged_by, labels, details, summaries"
)


def row_to_alert(row: Sequence[Any]) -> Alert:
    (
        id_,
        kind,
        code,
        severity,
        state,
        device_id,
        site_id,
        fp,
        started_at,
        updated_at,
        last_raised_at,
        count,
        summary,
        evidence_url,
        resolved_at,
        resolved_by,
        acknowledged_at,
        acknowledged_by,
        labels,
        details,
        summaries,
    ) = row
    return Alert(
        id=id_,
        kind=kind,
        code=code,
        severity=severity,
        state=AlertState(state),
        device_id=device_id,
        site_id=site_id,
        fingerprint=fp,
        started_at=started_at,
        updated_at=updated_at,
        last_raised_at=last_raised_at,
        count=count,
        summary=summary,
        evidence_url=evidence_url,
        resolved_at=resolved_at,
        resolved_by=resolved_by,
        acknowledged_at=acknowledged_at,
        acknowledged_by=acknowledged_by,
        labels=labels or {},
        details=details or {},
        summaries=summaries or {},
    )


def alert_message(change: AlertChange) -> AlertMessage:
    a = change.alert
    assert a.id is not None
    return AlertMessage(
        type=change.message_type,  # type: ignore[arg-type]
        alert=AlertBody(
            id=a.id,
            kind=a.kind,
            code=a.code,
            severity=a.severity,
            state=a.state.value,
            device_id=a.device_id,
            site_id=a.site_id,
            started_at=a.started_at,
            updated_at=a.updated_at,
            resolved_at=a.resolved_at,
            count=a.count,
            summary=a.summary,
            evidence_url=a.evidence_url,
            summaries=a.summaries,
        ),
    )


class AlertNotFound(LookupError):
    pass


class AlertStore:
    def __init__(
        self,
        settings: AlertSettings,
        topic_root: str,
        reactors: Iterable[Reactor] = (),
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.topic_root = topic_root
        self.reactors: list[Reactor] = list(reactors)
        self.clock = clock

    def add_reactor(self, reactor: Reactor) -> None:
        self.reactors.append(reactor)

    # -- reads

    def get(
        self, conn: psycopg.Connection[Any], alert_id: int, *, lock: bool = False
    ) -> Alert | None:
        sql = f"SELECT {COLUMNS} FROM alert WHERE id = %s" + (" FOR UPDATE" if lock else "")  # noqa: S608
        row = conn.execute(sql, (alert_id,)).fetchone()
        return row_to_alert(row) if row else None

    def open_by_fingerprint(self, conn: psycopg.Connection[Any], fp: str) -> Alert | None:
        row = conn.execute(
            f"SELECT {COLUMNS} FROM alert WHERE fingerprint = %s AND state <> 'resolved' FOR UPDATE",  # noqa: S608
            (fp,),
        ).fetchone()
        return row_to_alert(row) if row else None

    def _last_resolved(self, conn: psycopg.Connection[Any], fp: str) -> Alert | None:
        row = conn.execute(
            f"SELECT {COLUMNS} FROM alert WHERE fingerprint = %s AND state = 'resolved' "  # noqa: S608
            "ORDER BY resolved_at DESC LIMIT 1 FOR UPDATE",
            (fp,),
        ).fetchone()
        return row_to_alert(row) if row else None

    # -- changes (call inside a transaction)

    def apply_signal(
        self, conn: psycopg.Connection[Any], signal: AlertSignal
    ) -> AlertChange | None:
        fp = signal.fingerprint
        # one writer per fingerprint at a time, across workers
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (fp,))
        current = self.open_by_fingerprint(conn, fp)
        last = None if current is not None or not signal.active else self._last_resolved(conn, fp)
        now = self.clock()
        change = lifecycle.on_signal(
            current, last, signal, now, timedelta(seconds=self.settings.flap_window_s)
        )
        if change is None:
            return None
        return self._commit_change(conn, change, now)

    def apply_signals(
        self, conn: psycopg.Connection[Any], signals: Iterable[AlertSignal]
    ) -> list[AlertChange]:
        changes = []
        for s in signals:
            c = self.apply_signal(conn, s)
            if c is not None:
                changes.append(c)
        return changes

    def acknowledge(
        self, conn: psycopg.Connection[Any], alert_id: int, actor: str, note: str | None = None
    ) -> AlertChange:
        alert = self.get(conn, alert_id, lock=True)
        if alert is None:
            raise AlertNotFound(alert_id)
        now = self.clock()
        return self._commit_change(conn, lifecycle.acknowledge(alert, actor, now, note), now)

    def resolve(
        self, conn: psycopg.Connection[Any], alert_id: int, actor: str, note: str | None = None
    ) -> AlertChange:
        alert = self.get(conn, alert_id, lock=True)
        if alert is None:
            raise AlertNotFound(alert_id)
        now = self.clock()
        return self._commit_change(conn, lifecycle.resolve(alert, actor, now, note), now)

    def record_action(
        self,
        conn: psycopg.Connection[Any],
        alert: Alert,
        action: str,
        actor: str,
        note: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Audit an action that does not change the alert (a notification sent, a silence)."""
        conn.execute(
            "INSERT INTO alert_event (alert_id, at, action, actor, from_state, to_state, note, details)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                alert.id,
                self.clock(),
                action,
                actor,
                alert.state.value,
                alert.state.value,
                note,
                Jsonb(details or {}),
            ),
        )

    def _commit_change(
        self, conn: psycopg.Connection[Any], change: AlertChange, now: datetime
    ) -> AlertChange:
        a = change.alert
        values = (
            a.kind,
            a.code,
            a.severity,
            a.state.value,
            a.device_id,
            a.site_id,
            a.fingerprint,
            a.started_at,
            a.updated_at,
            a.last_raised_at,
            a.count,
            a.summary,
            a.evidence_url,
            a.resolved_at,
            a.resolved_by,
            a.acknowledged_at,
            a.acknowledged_by,
            Jsonb(a.labels),
            Jsonb(a.details),
            Jsonb(a.summaries),
        )
        if a.id is None:
            row = conn.execute(
                "INSERT INTO alert (kind, code, severity, state, device_id, site_id, fingerprint,"
                " started_at, updated_at, last_raised_at, count, summary, evidence_url,"
                " resolved_at, resolved_by, acknowledged_at, acknowledged_by, labels, details,"
                " summaries) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                " %s, %s, %s, %s, %s)"
                " RETURNING id",
                values,
            ).fetchone()
            assert row is not None
            change = AlertChange(
                a.evolve(id=row[0]), change.action, change.actor, change.previous_state, change.note
            )
        else:
            conn.execute(
                "UPDATE alert SET kind = %s, code = %s, severity = %s, state = %s, device_id = %s,"
                " site_id = %s, fingerprint = %s, started_at = %s, updated_at = %s,"
                " last_raised_at = %s, count = %s, summary = %s, evidence_url = %s,"
                " resolved_at = %s, resolved_by = %s, acknowledged_at = %s, acknowledged_by = %s,"
                " labels = %s, details = %s, summaries = %s WHERE id = %s",
                (*values, a.id),
            )
        a = change.alert
        conn.execute(
            "INSERT INTO alert_event (alert_id, at, action, actor, from_state, to_state, note, details)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                a.id,
                now,
                change.action.value,
                change.actor,
                change.previous_state.value if change.previous_state else None,
                a.state.value,
                change.note,
                Jsonb({"count": a.count, "severity": a.severity}),
            ),
        )
        enqueue(
            conn, alert_topic(self.topic_root, a.kind, a.device_id), encode(alert_message(change))
        )
        for reactor in self.reactors:
            reactor(conn, change, now)
        return change
