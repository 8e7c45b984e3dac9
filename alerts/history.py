"""The alert history (`alert_event`) for actions that do not change an alert's state:
notifications sent and delivered, mutes, escalations, review steps, people's notes. Who,
when, what.

`AlertStore.record_action` does the same for one alert already loaded; this writes one
row per alert id in a single statement, with the alert's current state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb


def record(
    conn: psycopg.Connection[Any],
    alert_ids: Sequence[int],
    action: str,
    actor: str,
    at: datetime,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    if not alert_ids:
        return 0
    cur = conn.execute(
        "INSERT INTO alert_event (alert_id, at, action, actor, from_state, to_state, note, details)"
        " SELECT id, %s, %s, %s, state, state, %s, %s FROM alert WHERE id = ANY(%s) ORDER BY id",
        (at, action, actor, note, Jsonb(details or {}), list(alert_ids)),
    )
    return cur.rowcount


def add_note(
    conn: psycopg.Connection[Any], alert_id: int, actor: str, at: datetime, note: str
) -> dict[str, Any] | None:
    """A person's note on an alert ("called the firm, technician on the way"): one line
    of its history (`noted`), the alert's state unchanged; None when there is no such
    alert."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "INSERT INTO alert_event (alert_id, at, action, actor, from_state, to_state, note, details)"
            " SELECT id, %s, 'noted', %s, state, state, %s, '{}' FROM alert WHERE id = %s"
            " RETURNING id, at, action, actor, from_state, to_state, note, details",
            (at, actor, note, alert_id),
        ).fetchone()
    return row


def events_of(conn: psycopg.Connection[Any], alert_id: int) -> list[dict[str, Any]]:
    """One alert's history, oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT id, at, action, actor, from_state, to_state, note, details FROM alert_event"
            " WHERE alert_id = %s ORDER BY id",
            (alert_id,),
        ).fetchall()


def notifications_of(conn: psycopg.Connection[Any], alert_id: int) -> list[dict[str, Any]]:
    """The notifications that carried an alert, oldest first, each with its deliveries
    (channel, target, state, attempts, last error)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT n.id, n.created_at, n.reason, n.receiver, n.group_key, n.status, n.alert_ids,"
            " COALESCE(json_agg(json_build_object('id', d.id, 'channel', d.channel, 'target', d.target,"
            " 'state', d.state, 'attempts', d.attempts, 'last_error', d.last_error,"
            " 'delivered_at', d.delivered_at) ORDER BY d.id) FILTER (WHERE d.id IS NOT NULL), '[]') AS deliveries"
            " FROM notification n LEFT JOIN delivery d ON d.notification_id = n.id"
            " WHERE n.alert_ids @> ARRAY[%s]::bigint[] GROUP BY n.id ORDER BY n.id",
            (alert_id,),
        ).fetchall()
