"""Alert-store reactor: a P1 or P2 elevator fault asks for a recomputation of the plan.

It only writes a `maintenance_trigger` row in the fault's own transaction (no planning
work on the alert path, and the request survives a crash); the scheduler of the
`elevators` component takes it within `poll_s`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from brightwatch.alerts.model import Action, AlertChange
from brightwatch.elevators.maintenance.store import request_recompute

# a new occurrence: a new alert, raised again while open, or reopened after a flap
OCCURRENCES = frozenset({Action.FIRED, Action.REFIRED, Action.REOPENED})


def on_alert_change(conn: psycopg.Connection[Any], change: AlertChange, now: datetime) -> None:
    a = change.alert
    if a.kind != "elevator" or a.severity not in ("P1", "P2") or change.action not in OCCURRENCES:
        return
    request_recompute(conn, a.device_id, a.code, now, a.id)
