"""SQL adapter of the ticket lifecycle: the reactor that opens rescue and repair tickets
from alerts, maintenance tickets for the planner, people's transitions, the SLA clock,
arrival proof from telemetry, automatic verification and the reads behind the tickets
API (attachments: `attachments`).

Every step is one transaction: the ticket row, its `ticket_event` (who, when, from, to),
its clocks (`ticket_clock`), the `bw/tickets/{firm_id}/{ticket_id}` message (outbox) and
the firm's webhook (delivery queue, retried with backoff).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from brightwatch.alerts import delivery, outbox
from brightwatch.alerts.due import claim_due
from brightwatch.alerts.model import Action, Alert, AlertChange, AlertSignal
from brightwatch.alerts.store import AlertStore, Clock, utcnow
from brightwatch.alerts.tickets import lifecycle
from brightwatch.alerts.tickets.lifecycle import (
    AWAITING_ACCEPTANCE,
    OPEN_STATES,
    ClockPlan,
    IllegalTransition,
    IncompleteStep,
    Step,
    Ticket,
    TicketState,
    TicketType,
)
from brightwatch.alerts.tickets.settings import TicketSettings
from brightwatch.alerts.words import At, Words, written
from brightwatch.contract.codes import ELEVATOR_CATALOGUE, ServiceCode
from brightwatch.contract.outgoing import TicketBody, TicketMessage, TicketSla, encode
from brightwatch.contract.topics import ticket_topic
from brightwatch.i18n import DEFAULT_LOCALE, DEFAULT_TIMEZONE, N_, in_every_locale, translate

log = logging.getLogger(__name__)

TICKET_COLUMNS = [f.name for f in fields(Ticket)]
SELECT_TICKET = f"SELECT {', '.join(TICKET_COLUMNS)} FROM ticket"  # noqa: S608
OPEN = [s.value for s in OPEN_STATES]
UNASSIGNED = "unassigned"  # topic level of a ticket no firm holds yet


class TicketNotFound(LookupError):
    """No such ticket, or not one this caller may see (HTTP 404)."""


def _row_to_ticket(row: dict[str, Any]) -> Ticket:
    values = dict(row)
    values["state"] = TicketState(values["state"])
    values["alert_ids"] = tuple(values["alert_ids"] or ())
    values["items"] = tuple(values["items"] or ())
    values["previous_firms"] = tuple(values["previous_firms"] or ())
    values["evidence"] = values["evidence"] or {}
    return Ticket(**values)


def _values(t: Ticket) -> dict[str, Any]:
    v = {c: getattr(t, c) for c in TICKET_COLUMNS if c != "id"}
    v["state"] = t.state.value
    v["alert_ids"] = list(t.alert_ids)
    v["items"] = Jsonb(list(t.items))
    v["previous_firms"] = list(t.previous_firms)
    v["evidence"] = Jsonb(t.evidence)
    return v


def load(
    conn: psycopg.Connection[Any], ticket_id: int, *, lock: bool = False, firm_id: str | None = None
) -> Ticket:
    """The ticket; with `firm_id`, only if that firm holds it (else TicketNotFound)."""
    sql = SELECT_TICKET + " WHERE id = %s" + (" FOR UPDATE" if lock else "")
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(sql, (ticket_id,)).fetchone()
    if row is None or (firm_id is not None and row["firm_id"] != firm_id):
        raise TicketNotFound(ticket_id)
    return _row_to_ticket(row)


def _next_sla(conn: psycopg.Connection[Any], ticket_id: int) -> TicketSla | None:
    row = conn.execute(
        "SELECT step, due_at, breached_at FROM ticket_clock WHERE ticket_id = %s AND kind = 'sla'"
        " AND met_at IS NULL AND voided_at IS NULL ORDER BY due_at LIMIT 1",
        (ticket_id,),
    ).fetchone()
    return TicketSla(step=row[0], due_at=row[1], breached=row[2] is not None) if row else None


def ticket_message(conn: psycopg.Connection[Any], step: Step, now: datetime) -> TicketMessage:
    t = step.ticket
    assert t.id is not None
    return TicketMessage(
        event=step.action,
        at=now,
        actor=step.actor,
        ticket=TicketBody(
            id=t.id,
            type=t.type,
            state=t.state.value,
            elevator_id=t.elevator_id,
            address=t.address,
            district=t.district,
            site_id=t.site_id,
            firm_id=t.firm_id,
            trigger=t.trigger,
            alert_id=t.alert_id,
            confirmed_at=t.confirmed_at,
            due_at=t.due_at,
            created_at=t.created_at,
            updated_at=t.updated_at,
            dispatched_at=t.dispatched_at,
            accepted_at=t.accepted_at,
            arrived_at=t.arrived_at,
            completed_at=t.completed_at,
            verified_at=t.verified_at,
            result=t.result,
            previous_firms=list(t.previous_firms),
            sla=_next_sla(conn, t.id),
        ),
    )


# the texts of SLA breaches people read (alerts.words): one sentence per step, so that no
# short word ("accepted") shares the catalogue with the console's ticket states
TICKET_NAMES = {
    "rescue": N_("rescue ticket %(id)s"),
    "repair": N_("repair ticket %(id)s"),
    "on_demand": N_("on-demand maintenance ticket %(id)s"),
    "quarterly": N_("quarterly maintenance ticket %(id)s"),
    "half_yearly": N_("half-yearly maintenance ticket %(id)s"),
    "yearly": N_("yearly maintenance ticket %(id)s"),
}
BREACHES = {
    "dispatched": N_("%(ticket)s: not dispatched by %(due)s (firm %(firm)s)"),
    "accepted": N_("%(ticket)s: not accepted by %(due)s (firm %(firm)s)"),
    "arrived": N_("%(ticket)s: nobody arrived by %(due)s (firm %(firm)s)"),
    "completed": N_("%(ticket)s: not completed by %(due)s (firm %(firm)s)"),
    "verified": N_("%(ticket)s: not verified by %(due)s (firm %(firm)s)"),
}


def breach_words(ticket: Ticket, step: str, due_at: datetime) -> Words:
    """The summary of an SLA breach alert: which ticket missed which step, and when it was due."""
    name = TICKET_NAMES.get(ticket.type)
    return Words(
        BREACHES.get(
            step, N_("%(ticket)s: step %(step)s missed its deadline %(due)s (firm %(firm)s)")
        ),
        {
            "ticket": Words(name, {"id": ticket.id}) if name else f"{ticket.type} {ticket.id}",
            "step": step,
            "due": At(due_at),
            "firm": ticket.firm_id or "-",
        },
    )


class TicketDesk:
    """Tickets on the alert store: the reactor (`__call__`), people's steps, the clock."""

    def __init__(
        self,
        settings: TicketSettings,
        alerts: AlertStore,
        topic_root: str,
        data_dir: Path,
        clock: Clock = utcnow,
        *,
        locale: str = DEFAULT_LOCALE,
        zone: str = DEFAULT_TIMEZONE,
    ) -> None:
        self.settings = settings
        self.alerts = alerts
        self.topic_root = topic_root
        self.data_dir = Path(data_dir)
        self.clock = clock
        # breach alerts' summaries are read by people: the deployment's language and zone
        self.locale = locale
        self.zone = zone

    # ------------------------------------------------------------------ reactor

    def __call__(self, conn: psycopg.Connection[Any], change: AlertChange, now: datetime) -> None:
        """A P1 elevator alert opens a rescue ticket, a P2 one a repair ticket, in the
        alert's own transaction (elevators.md: created <= 10 s after confirmation), and
        dispatches it to the elevator's firm at once."""
        a = change.alert
        if not self.settings.enabled or a.kind != "elevator" or not a.is_open:
            return
        if a.code not in ELEVATOR_CATALOGUE or a.code in self.settings.excluded_codes:
            return  # TICKET_SLA_BREACH and other service conditions open no ticket
        if change.action not in (Action.FIRED, Action.REOPENED, Action.REFIRED, Action.UPDATED):
            return
        if a.severity in self.settings.rescue_severities:
            ticket_type = TicketType.RESCUE
        elif a.severity in self.settings.repair_severities:
            ticket_type = TicketType.REPAIR
        else:
            return
        self.open_fault_ticket(conn, a, ticket_type, now)

    def _lock_elevator(self, conn: psycopg.Connection[Any], elevator_id: str) -> None:
        # one writer of an elevator's tickets at a time, across workers
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"ticket|{elevator_id}",)
        )

    def _elevator(self, conn: psycopg.Connection[Any], elevator_id: str) -> dict[str, Any]:
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                "SELECT e.firm_id, e.site_id, e.address, e.district, e.user_unit,"
                " s.address AS site_address, s.district AS site_district, s.operator"
                " FROM elevator e LEFT JOIN site s ON s.site_id = e.site_id"
                " WHERE e.elevator_id = %s",
                (elevator_id,),
            ).fetchone()
        if row is None:
            return {
                "firm_id": None,
                "site_id": None,
                "address": "",
                "district": "",
                "user_unit": "",
            }
        return {
            "firm_id": row["firm_id"],
            "site_id": row["site_id"],
            "address": row["address"] or row["site_address"] or "",
            "district": row["district"] or row["site_district"] or "",
            "user_unit": row["user_unit"] or row["operator"] or "",
        }

    def open_fault_ticket(
        self, conn: psycopg.Connection[Any], alert: Alert, ticket_type: str, now: datetime
    ) -> int | None:
        """Open (or join) the ticket of this elevator fault; returns its id."""
        assert alert.id is not None
        self._lock_elevator(conn, alert.device_id)
        if conn.execute(
            "SELECT 1 FROM ticket WHERE %s = ANY(alert_ids) AND type = %s AND elevator_id = %s",
            (alert.id, ticket_type, alert.device_id),
        ).fetchone():
            return None  # this alert already has its ticket (a refire, a reopen)
        existing = conn.execute(
            "SELECT id FROM ticket WHERE elevator_id = %s AND type = %s AND trigger = %s"
            " AND state = ANY(%s) FOR UPDATE",
            (alert.device_id, ticket_type, alert.code, OPEN),
        ).fetchone()
        if existing is not None:
            # dedup: one open ticket per elevator fault; a new alert of it joins the ticket
            conn.execute(
                "UPDATE ticket SET alert_ids = array_append(alert_ids, %s) WHERE id = %s",
                (alert.id, existing[0]),
            )
            self.record_event(
                conn,
                existing[0],
                now,
                "rule",
                "alert_joined",
                None,
                None,
                None,
                None,
                {"alert_id": alert.id},
            )
            return int(existing[0])
        place = self._elevator(conn, alert.device_id)
        ticket = Ticket(
            id=None,
            type=ticket_type,
            state=TicketState.CREATED,
            elevator_id=alert.device_id,
            trigger=alert.code,
            created_at=now,
            updated_at=now,
            alert_id=alert.id,
            alert_ids=(alert.id,),
            confirmed_at=alert.started_at,
            evidence={"alert_ids": [alert.id], "summary": alert.summary},
            **place,
        )
        return self._open(conn, ticket, now)

    def open_maintenance(
        self,
        conn: psycopg.Connection[Any],
        *,
        elevator_id: str,
        type: str,
        due_at: datetime,
        trigger: str,
        plan_id: int | None,
        now: datetime,
        items: Sequence[dict[str, Any]] = (),
    ) -> int | None:
        if type not in lifecycle.MAINTENANCE_TYPES:
            raise ValueError(f"{type!r} is not a maintenance ticket type")
        self._lock_elevator(conn, elevator_id)
        if conn.execute(
            "SELECT 1 FROM ticket WHERE elevator_id = %s AND type = %s AND state = ANY(%s)",
            (elevator_id, type, OPEN),
        ).fetchone():
            return None
        ticket = Ticket(
            id=None,
            type=type,
            state=TicketState.CREATED,
            elevator_id=elevator_id,
            trigger=trigger,
            created_at=now,
            updated_at=now,
            plan_id=plan_id,
            due_at=due_at,
            items=tuple({"code": str(i["code"]), "name": str(i.get("name", ""))} for i in items),
            **self._elevator(conn, elevator_id),
        )
        return self._open(conn, ticket, now)

    def _open(self, conn: psycopg.Connection[Any], ticket: Ticket, now: datetime) -> int:
        v = _values(ticket)
        cols = list(v)
        row = conn.execute(
            f"INSERT INTO ticket ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"  # noqa: S608
            " RETURNING id",
            [v[c] for c in cols],
        ).fetchone()
        assert row is not None
        ticket = ticket.evolve(id=int(row[0]))
        self._record(conn, lifecycle.open_ticket(ticket, self.settings, "rule"), now)
        if ticket.firm_id is not None:
            # dispatch is automatic (elevators.md: <= 1 min for a rescue)
            self._record(
                conn,
                lifecycle.transition(
                    ticket,
                    TicketState.DISPATCHED,
                    actor="dispatch",
                    role="system",
                    now=now,
                    settings=self.settings,
                ),
                now,
            )
        return int(row[0])

    # ------------------------------------------------------------------ applying a step

    def _save(self, conn: psycopg.Connection[Any], t: Ticket) -> None:
        v = _values(t)
        cols = [c for c in v if c not in ("created_at",)]
        conn.execute(
            f"UPDATE ticket SET {', '.join(f'{c} = %s' for c in cols)} WHERE id = %s",  # noqa: S608
            [*(v[c] for c in cols), t.id],
        )

    def record_event(
        self,
        conn: psycopg.Connection[Any],
        ticket_id: int,
        at: datetime,
        actor: str,
        action: str,
        from_state: str | None,
        to_state: str | None,
        firm_id: str | None,
        note: str | None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """One line of the ticket's history (`ticket_event`): who did what, when, from which
        state to which."""
        conn.execute(
            "INSERT INTO ticket_event (ticket_id, at, actor, action, from_state, to_state, firm_id,"
            " note, details) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                ticket_id,
                at,
                actor,
                action,
                from_state,
                to_state,
                firm_id,
                note,
                Jsonb(details or {}),
            ),
        )

    def _clocks(
        self, conn: psycopg.Connection[Any], t: Ticket, plan: ClockPlan, now: datetime
    ) -> list[tuple[int, str]]:
        """Apply a step's clock plan; returns the breach alerts to clear (alert id, step):
        a step reached after its deadline, or every breach of a ticket that is done."""
        open_ = "met_at IS NULL AND voided_at IS NULL"
        late: list[tuple[int, str]] = []
        if plan.meet:
            late += [
                (r[0], r[1])
                for r in conn.execute(
                    f"UPDATE ticket_clock SET met_at = %s WHERE ticket_id = %s AND {open_}"  # noqa: S608
                    " AND step = ANY(%s) RETURNING breach_alert_id, step",
                    (now, t.id, list(plan.meet)),
                ).fetchall()
                if r[0] is not None
            ]
        if plan.void_all:
            late += conn.execute(
                "SELECT breach_alert_id, step FROM ticket_clock WHERE ticket_id = %s"
                " AND breach_alert_id IS NOT NULL",
                (t.id,),
            ).fetchall()
            conn.execute(
                f"UPDATE ticket_clock SET voided_at = %s WHERE ticket_id = %s AND {open_}",  # noqa: S608
                (now, t.id),
            )
        if plan.void:
            conn.execute(
                f"UPDATE ticket_clock SET voided_at = %s WHERE ticket_id = %s AND {open_}"  # noqa: S608
                " AND step = ANY(%s)",
                (now, t.id, list(plan.void)),
            )
        for c in plan.start:
            conn.execute(
                "INSERT INTO ticket_clock (ticket_id, kind, step, firm_id, started_at, due_at)"
                " VALUES (%s, 'sla', %s, %s, %s, %s)",
                (t.id, c.step, t.firm_id, now, c.due_at),
            )
        return late

    def _record(self, conn: psycopg.Connection[Any], step: Step, now: datetime) -> Ticket:
        t = step.ticket
        assert t.id is not None
        if step.previous_state is not None:
            self._save(conn, t)
        self.record_event(
            conn,
            t.id,
            now,
            step.actor,
            step.action,
            step.previous_state.value if step.previous_state else None,
            t.state.value,
            t.firm_id,
            step.note,
            step.details,
        )
        late = self._clocks(conn, t, step.clocks, now)
        if late:
            # a step reached after its deadline ends its breach alert
            self._clear_breaches(conn, t, late, now)
        self._publish(conn, step, now)
        return t

    def _publish(self, conn: psycopg.Connection[Any], step: Step, now: datetime) -> None:
        t = step.ticket
        assert t.id is not None
        message = ticket_message(conn, step, now)
        body = encode(message)
        firms = [t.firm_id]
        if step.action == TicketState.REASSIGNED and t.previous_firms:
            firms.append(t.previous_firms[-1])  # the firm that lost it hears it too
        for firm in firms:
            outbox.enqueue(conn, ticket_topic(self.topic_root, firm or UNASSIGNED, t.id), body)
        if t.firm_id is None:
            return
        row = conn.execute(
            "SELECT webhook_url FROM firm WHERE firm_id = %s", (t.firm_id,)
        ).fetchone()
        if row and row[0]:
            delivery.enqueue(
                conn, "webhook", row[0], json.loads(body), subject=f"ticket:{t.id}", at=now
            )

    # ------------------------------------------------------------------ people's steps

    def transition(
        self,
        conn: psycopg.Connection[Any],
        ticket_id: int,
        to: str,
        *,
        actor: str,
        role: str,
        firm_id: str | None = None,
        note: str | None = None,
        result: str | None = None,
        items: dict[str, str] | None = None,
        assign_firm: str | None = None,
    ) -> Ticket:
        """A person's step; a firm (`firm_id`) reaches only its own tickets. A supervisor
        dispatching a ticket may choose its firm (`assign_firm`)."""
        ticket = load(conn, ticket_id, lock=True, firm_id=firm_id)
        now = self.clock()
        if assign_firm is not None:
            if role not in ("supervisor", "admin"):
                raise IllegalTransition(f"a {role} cannot choose the firm of a ticket")
            if not conn.execute("SELECT 1 FROM firm WHERE firm_id = %s", (assign_firm,)).fetchone():
                raise IncompleteStep(f"no firm {assign_firm!r} is registered")
        step = lifecycle.transition(
            ticket,
            to,
            actor=actor,
            role=role,
            now=now,
            settings=self.settings,
            note=note,
            result=result,
            items=items,
            firm_id=assign_firm,
        )
        return self._record(conn, step, now)

    # ------------------------------------------------------------------ the clock

    def clock_step(self, conn: psycopg.Connection[Any], limit: int = 200) -> int:
        """Deadlines that passed: each breach once, with its alert; an unaccepted rescue is
        escalated and reassigned. One transaction per clock."""
        now = self.clock()

        def breach(row: Sequence[Any]) -> int:
            clock_id, ticket_id, step, due_at = row
            self._breach(conn, clock_id, load(conn, ticket_id, lock=True), step, due_at, now)
            return 1

        return claim_due(
            conn,
            "SELECT id FROM ticket_clock WHERE breached_at IS NULL AND met_at IS NULL"
            " AND voided_at IS NULL AND due_at <= %s ORDER BY due_at LIMIT %s",
            (now, limit),
            "SELECT id, ticket_id, step, due_at FROM ticket_clock WHERE id = %s"
            " AND breached_at IS NULL AND met_at IS NULL AND voided_at IS NULL"
            " FOR UPDATE SKIP LOCKED",
            (),
            breach,
        )

    def _breach(
        self,
        conn: psycopg.Connection[Any],
        clock_id: int,
        ticket: Ticket,
        step: str,
        due_at: datetime,
        now: datetime,
    ) -> None:
        assert ticket.id is not None
        # TSG T5002 / elevators.md: a rescue not there in 30 min notifies the bureau
        severity = "P1" if ticket.type == TicketType.RESCUE else "P2"
        said = in_every_locale(
            lambda locale: written(breach_words(ticket, step, due_at), locale, self.zone)
        )
        change = self.alerts.apply_signal(
            conn,
            AlertSignal(
                kind="elevator",
                code=ServiceCode.TICKET_SLA_BREACH.value,
                severity=severity,
                device_id=ticket.elevator_id,
                site_id=ticket.site_id,
                active=True,
                at=due_at,
                key=breach_key(ticket, step),
                summary=said[self.locale],
                summaries=said,
                labels={
                    "ticket_id": ticket.id,
                    "ticket_type": ticket.type,
                    "sla_step": step,
                    "firm_id": ticket.firm_id or "",
                    "district": ticket.district,
                    "notify": "bureau" if ticket.type == TicketType.RESCUE else "firm",
                },
                details={"due_at": due_at.isoformat(), "trigger": ticket.trigger},
                source="ticket-sla",
            ),
        )
        alert_id = change.alert.id if change else None
        conn.execute(
            "UPDATE ticket_clock SET breached_at = %s, breach_alert_id = %s WHERE id = %s",
            (now, alert_id, clock_id),
        )
        self.record_event(
            conn,
            ticket.id,
            now,
            "clock",
            "sla_breached",
            ticket.state.value,
            ticket.state.value,
            ticket.firm_id,
            None,
            {"step": step, "due_at": due_at.isoformat(), "alert_id": alert_id},
        )
        next_firm = self._next_firm(conn, ticket) if ticket.state in AWAITING_ACCEPTANCE else None
        for s in lifecycle.on_breach(ticket, step, now, self.settings, next_firm):
            self._record(conn, s, now)

    def _next_firm(self, conn: psycopg.Connection[Any], ticket: Ticket) -> str | None:
        """The elevator's standby firm, then the district's standby firms in rank order;
        never a firm that already had the ticket."""
        tried = {f for f in (ticket.firm_id, *ticket.previous_firms) if f}
        row = conn.execute(
            "SELECT standby_firm_id FROM elevator WHERE elevator_id = %s", (ticket.elevator_id,)
        ).fetchone()
        if row and row[0] and row[0] not in tried:
            return str(row[0])
        for (firm,) in conn.execute(
            "SELECT firm_id FROM district_standby_firm WHERE district = %s ORDER BY rank",
            (ticket.district,),
        ).fetchall():
            if firm not in tried:
                return str(firm)
        return None

    def _clear_breaches(
        self,
        conn: psycopg.Connection[Any],
        t: Ticket,
        breaches: list[tuple[int, str]],
        now: datetime,
    ) -> None:
        for alert_id, step in breaches:
            alert = self.alerts.get(conn, alert_id)
            if alert is None or not alert.is_open:
                continue
            self.alerts.apply_signal(
                conn,
                AlertSignal(
                    kind=alert.kind,
                    code=alert.code,
                    severity=alert.severity,
                    device_id=alert.device_id,
                    site_id=alert.site_id,
                    active=False,
                    at=now,
                    key=breach_key(t, step),
                    details={"met_late_at": now.isoformat()},
                    source="ticket-sla",
                ),
            )

    def arrival_step(self, conn: psycopg.Connection[Any], limit: int = 100) -> int:
        """Accepted maintenance tickets whose car was in `inspection` mode long enough are
        arrived (elevators.md: arrival proof for maintenance)."""
        need = timedelta(seconds=self.settings.arrival_inspection_s)
        candidates = conn.execute(
            "SELECT id, elevator_id, accepted_at FROM ticket WHERE state = 'accepted'"
            " AND type = ANY(%s) ORDER BY id LIMIT %s",
            (lifecycle.MAINTENANCE_TYPE_VALUES, limit),
        ).fetchall()
        done = 0
        for ticket_id, elevator_id, accepted_at in candidates:
            if self._mark_arrival_from_telemetry(conn, ticket_id, elevator_id, accepted_at, need):
                done += 1
        return done

    def _mark_arrival_from_telemetry(
        self,
        conn: psycopg.Connection[Any],
        ticket_id: int,
        elevator_id: str,
        since: datetime,
        need: timedelta,
    ) -> bool:
        """Mark one accepted maintenance ticket arrived when its elevator's status samples
        since `since` show `inspection` mode for `need` without a break; the arrival time is
        the start of that stretch (terminal time)."""
        samples = [
            (r[0], r[1])
            for r in conn.execute(
                "SELECT ts, service_mode FROM elevator_status WHERE elevator_id = %s AND ts >= %s"
                " ORDER BY ts, seq LIMIT 20000",
                (elevator_id, since),
            ).fetchall()
        ]
        started = lifecycle.inspection_arrival(samples, need)
        if started is None:
            return False
        with conn.transaction():
            ticket = load(conn, ticket_id, lock=True)
            if ticket.state != TicketState.ACCEPTED:
                return False
            now = self.clock()
            step = lifecycle.transition(
                ticket,
                TicketState.ARRIVED,
                actor="telemetry",
                role="system",
                now=now,
                settings=self.settings,
                proof="telemetry",
                note=written(
                    Words(N_("car in inspection mode from %(at)s"), {"at": At(started, "second")}),
                    self.locale,
                    self.zone,
                ),
            )
            step = replace(
                step,
                ticket=step.ticket.evolve(arrived_at=started),
                details={"inspection_from": started.isoformat()},
            )
            self._record(conn, step, now)
        return True

    def verify_step(self, conn: psycopg.Connection[Any], limit: int = 100) -> int:
        """Completed rescue and repair tickets whose fault did not recur for the quiet
        period and whose elevator made enough runs since are verified (elevators.md)."""
        now = self.clock()
        quiet = timedelta(seconds=self.settings.verify_after_s)
        rows = conn.execute(
            "SELECT t.id FROM ticket t WHERE t.state = 'completed' AND t.type IN ('rescue', 'repair')"
            " AND t.completed_at <= %s"
            " AND NOT EXISTS (SELECT 1 FROM alert a WHERE a.kind = 'elevator'"
            "   AND a.device_id = t.elevator_id AND a.code = t.trigger"
            "   AND a.last_raised_at > t.completed_at)"
            " AND bw_runs_since(t.elevator_id, t.completed_at) >= %s"
            " ORDER BY t.id LIMIT %s",
            (now - quiet, self.settings.verify_min_runs, limit),
        ).fetchall()
        done = 0
        for (ticket_id,) in rows:
            with conn.transaction():
                ticket = load(conn, ticket_id, lock=True)
                if ticket.state != TicketState.COMPLETED:
                    continue
                step = lifecycle.transition(
                    ticket,
                    TicketState.VERIFIED,
                    actor="clock",
                    role="system",
                    now=now,
                    settings=self.settings,
                    note=translate(
                        self.locale, "no recurrence and enough normal runs since completion"
                    ),
                )
                self._record(conn, step, now)
                done += 1
        return done

    # ------------------------------------------------------------------ reads

    def view(
        self, conn: psycopg.Connection[Any], ticket_id: int, firm_id: str | None = None
    ) -> dict[str, Any]:
        """One ticket with its items, clocks, attachments and history."""
        t = load(conn, ticket_id, firm_id=firm_id)
        out = ticket_dict(t)
        with conn.cursor(row_factory=dict_row) as cur:
            out["clocks"] = cur.execute(
                "SELECT id, step, firm_id, started_at, due_at, breached_at, breach_alert_id,"
                " met_at, voided_at FROM ticket_clock WHERE ticket_id = %s ORDER BY id",
                (ticket_id,),
            ).fetchall()
            out["attachments"] = cur.execute(
                "SELECT id, sha256, content_type, size_bytes, original_name, note, uploaded_by,"
                " created_at FROM ticket_attachment WHERE ticket_id = %s ORDER BY id",
                (ticket_id,),
            ).fetchall()
            out["history"] = cur.execute(
                "SELECT at, actor, action, from_state, to_state, firm_id, note, details"
                " FROM ticket_event WHERE ticket_id = %s ORDER BY id",
                (ticket_id,),
            ).fetchall()
        for a in out["attachments"]:
            a["url"] = f"/api/v1/tickets/{ticket_id}/attachments/{a['id']}"
        return out


def breach_key(t: Ticket, step: str) -> str:
    """Distinguishes the breach alerts of one elevator: one per ticket and step."""
    return f"ticket:{t.id}:{step}"


def ticket_dict(t: Ticket) -> dict[str, Any]:
    out = {c: getattr(t, c) for c in TICKET_COLUMNS}
    out["state"] = t.state.value
    out["items"] = list(t.items)
    out["alert_ids"] = list(t.alert_ids)
    out["previous_firms"] = list(t.previous_firms)
    return out
