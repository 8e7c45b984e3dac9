"""The bureau's notice when an elevator's on-demand status is withdrawn (elevators.md:
two trapped faults in 30 days → on-demand status withdrawn and the bureau notified).

Sent through the notification routing tree as a notice on the last trapped alert, with
the labels `notice=on_demand_withdrawn` and `elevator_id`; the default routing tree sends
it to `bureau-duty` (alerts/routing/settings.py). It is recorded in that alert's history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from brightwatch.alerts.routing.pipeline import NotificationPipeline
from brightwatch.alerts.store import AlertStore
from brightwatch.alerts.words import Words
from brightwatch.elevators.maintenance.planner import Plan
from brightwatch.i18n import N_


class WithdrawalNotice:
    def __init__(self, pipeline: NotificationPipeline, alerts: AlertStore) -> None:
        self.pipeline = pipeline
        self.alerts = alerts

    def __call__(
        self, conn: psycopg.Connection[Any], plan: Plan, plan_id: int, now: datetime
    ) -> None:
        ids = plan.on_demand.get("alert_ids") or []
        alert = self.alerts.get(conn, ids[-1]) if ids else None
        if alert is None:
            return
        reason = plan.on_demand.get("withdrawn_reason") or ""
        self.pipeline.route_and_send(
            conn,
            alert,
            {"notice": "on_demand_withdrawn", "elevator_id": plan.elevator_id},
            now,
            reason="notice",
            title=Words(
                N_("On-demand maintenance withdrawn: %(elevator)s"), {"elevator": plan.elevator_id}
            ),
            message=Words(
                N_(
                    "Elevator %(elevator)s: %(reason)s. On-demand maintenance is withdrawn;"
                    " maintenance every %(days)s days (plan %(plan)s)."
                ),
                {
                    "elevator": plan.elevator_id,
                    "reason": reason,
                    "days": plan.interval_days,
                    "plan": plan_id,
                },
            ),
            annotations={"plan_id": str(plan_id), "interval_days": str(plan.interval_days)},
            action="notice_on_demand_withdrawn",
            details={"plan_id": plan_id},
        )
