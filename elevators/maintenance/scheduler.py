"""When plans are computed and tickets opened (elevators.md: recompute daily; due date
minus 3 days; P1/P2 faults).

`MaintenanceScheduler.run_once()` is one pass on an injected clock: it takes the
recompute triggers the alert reactor left (P1/P2 faults), then, once the day's
`daily_at_hour` has passed, recomputes every elevator without a 'daily' plan of that UTC
day (in batches, so a large fleet spreads over several polls and a restart carries on
where it stopped); an elevator never planned (newly registered) is planned at any hour.
The fleet figures (fault-rate scale, usage percentiles) are computed once per UTC day.
After each computation it opens the tickets the plan asks for whose time has come
(`open_from` ≤ now) through the ticket desk's opener (`TicketDesk.open_maintenance`,
given by the wiring), which opens at most one open ticket per elevator and type. A terminal offline for `offline_ticket_hours` is recomputed
(and so gets its on-demand visit) within a poll, not at the next daily pass.

One scheduler works at a time across processes (a PostgreSQL advisory lock), so two
`elevators` components never compute the same day twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import psycopg

from brightwatch.elevators.maintenance import gather, store
from brightwatch.elevators.maintenance.planner import FleetFigures, Plan, midnight, plan
from brightwatch.elevators.maintenance.settings import MaintenanceSettings

log = logging.getLogger(__name__)
Conn = psycopg.Connection[Any]
Clock = Callable[[], datetime]
LOCK_KEY = "bw_maintenance_scheduler"


class OpenTicket(Protocol):
    def __call__(
        self,
        conn: Conn,
        *,
        elevator_id: str,
        type: str,
        due_at: datetime,
        trigger: str,
        plan_id: int | None,
        now: datetime,
        items: Sequence[dict[str, Any]] = (),
    ) -> int | None: ...


class Withdrawn(Protocol):
    """Told once when an elevator's on-demand status is withdrawn (the bureau's notice)."""

    def __call__(self, conn: Conn, plan: Plan, plan_id: int, now: datetime) -> None: ...


@dataclass
class PassResult:
    computed: list[tuple[str, str, int]] = field(default_factory=list)  # elevator, reason, plan id
    tickets: list[tuple[str, str, str, int]] = field(
        default_factory=list
    )  # elevator, type, trigger, id
    locked_out: bool = False


class MaintenanceScheduler:
    def __init__(
        self,
        settings: MaintenanceSettings,
        clock: Clock,
        open_ticket: OpenTicket,
        on_withdrawn: Withdrawn | None = None,
        batch: int = 200,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.open_ticket = open_ticket
        self.on_withdrawn = on_withdrawn
        self.batch = batch
        self._fleet: tuple[date, FleetFigures] | None = None

    # -- one elevator

    def recompute(
        self, conn: Conn, elevator_id: str, reason: str, fleet: FleetFigures, result: PassResult
    ) -> int | None:
        """Compute, store and act on one elevator's plan, in one transaction."""
        now = self.clock()
        policy = self.settings.policy_for(elevator_id)
        with conn.transaction():
            previous = store.latest_plan(conn, elevator_id)
            inputs = gather.plan_inputs(
                conn, elevator_id, policy, now, fleet, reason, previous=previous
            )
            if inputs is None:
                return None
            p = plan(inputs, policy, now.astimezone(UTC).date())
            plan_id = store.save_plan(conn, p.as_row(inputs, policy))
            result.computed.append((elevator_id, reason, plan_id))
            was_withdrawn = bool(
                previous
                and previous["inputs"].get("outcome", {}).get("on_demand", {}).get("withdrawn")
            )
            if p.on_demand.get("withdrawn") and not was_withdrawn:
                log.warning(
                    "elevator %s: on-demand status withdrawn (%s)",
                    elevator_id,
                    p.on_demand["withdrawn_reason"],
                )
                if self.on_withdrawn is not None:
                    self.on_withdrawn(conn, p, plan_id, now)
            self._open_tickets(conn, p, plan_id, now, result)
        return plan_id

    def _open_tickets(
        self, conn: Conn, p: Plan, plan_id: int, now: datetime, result: PassResult
    ) -> None:
        due = [t for t in p.tickets if t.open_from <= now]
        for t in due:
            ticket_id = self.open_ticket(
                conn,
                elevator_id=p.elevator_id,
                type=t.type,
                due_at=t.due_at,
                trigger=t.trigger,
                plan_id=plan_id,
                now=now,
                items=t.items,
            )
            if ticket_id is not None:
                result.tickets.append((p.elevator_id, t.type, t.trigger, ticket_id))
                log.info(
                    "elevator %s: %s ticket %s (%s, due %s)",
                    p.elevator_id,
                    t.type,
                    ticket_id,
                    t.trigger,
                    t.due_at.date(),
                )

    # -- a pass

    def run_once(self, conn: Conn) -> PassResult:
        """Triggers first, then (after the daily hour) one batch of the daily pass."""
        result = PassResult()
        got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (LOCK_KEY,)).fetchone()
        if not (got and got[0]):
            result.locked_out = True
            return result
        try:
            now = self.clock()
            with conn.transaction():
                triggers = store.take_triggers(conn, now)
            today = now.astimezone(UTC).date()
            day_start = midnight(today)
            daily = store.elevators_without_daily_plan(
                conn,
                day_start,
                self.batch,
                never_planned_only=now < day_start + timedelta(hours=self.settings.daily_at_hour),
            )
            offline = [
                e
                for e in store.offline_past(
                    conn, now, self.settings.offline_ticket_hours, self.batch
                )
                if e not in daily  # the daily computation sees the outage too
            ]
            if not (triggers or daily or offline):
                return result
            fleet = self._fleet_of(conn, today, now)
            for elevator_id, reason in triggers:
                self._safely(conn, elevator_id, reason, fleet, result)
            for elevator_id in offline:
                self._safely(conn, elevator_id, "OFFLINE_24H", fleet, result)
            for elevator_id in daily:
                self._safely(conn, elevator_id, "daily", fleet, result)
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (LOCK_KEY,))
        return result

    def _fleet_of(self, conn: Conn, today: date, now: datetime) -> FleetFigures:
        # a scan of every run counter over 90 days: once a day is enough for percentiles
        if self._fleet is None or self._fleet[0] != today:
            self._fleet = (today, gather.fleet_figures(conn, self.settings, now))
        return self._fleet[1]

    def _safely(
        self,
        conn: Conn,
        elevator_id: str,
        reason: str,
        fleet: FleetFigures,
        result: PassResult,
    ) -> None:
        try:
            self.recompute(conn, elevator_id, reason, fleet, result)
        except Exception:
            # the next daily pass computes it again; one bad row must not stop the fleet
            log.exception("maintenance plan of %s (%s) failed", elevator_id, reason)

    def run(self, connect: Callable[[], Conn], stop: threading.Event) -> None:
        """The loop of the elevators component: a pass every poll_s until stopped."""
        while not stop.is_set():
            try:
                with connect() as conn:
                    conn.autocommit = True
                    while not stop.is_set():
                        r = self.run_once(conn)
                        if r.computed:
                            log.info(
                                "maintenance: %d plan(s), %d ticket(s)",
                                len(r.computed),
                                len(r.tickets),
                            )
                        # a full batch means more of the daily pass is waiting
                        if len(r.computed) < self.batch:
                            stop.wait(self.settings.poll_s)
            except Exception:
                log.exception("maintenance scheduler: a pass failed; retrying")
                stop.wait(min(60.0, self.settings.poll_s * 3))
