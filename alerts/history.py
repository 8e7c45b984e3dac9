"""The alert history (`alert_event`) for actions that do not change an alert's state:
notifications sent and delivered, mutes, escalations, review steps. Who, when, what.

`AlertStore.record_action` does the same for one alert already loaded; this writes one
row per alert id in a single statement, with the alert's current state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
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
