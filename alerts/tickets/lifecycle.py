"""The ticket lifecycle as pure functions (elevators.md, Tickets).

created -> dispatched -> accepted -> arrived -> completed -> verified, plus escalated,
reassigned, false_alarm and cancelled. `transition(ticket, to, ...)` returns the ticket
after the step, or raises IllegalTransition (HTTP 409). SLA deadlines are data:
`ClockPlan` says which clocks a step starts, meets or voids; the store keeps them in
`ticket_clock`, so a restart resumes them. No SQL, no MQTT, no wall clock here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from brightwatch.alerts.tickets.settings import SlaSteps, TicketSettings


class TicketType(StrEnum):
    RESCUE = "rescue"
    REPAIR = "repair"
    ON_DEMAND = "on_demand"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


MAINTENANCE_TYPES = frozenset(
    {TicketType.ON_DEMAND, TicketType.QUARTERLY, TicketType.HALF_YEARLY, TicketType.YEARLY}
)
# the same as SQL parameters (`type = ANY(%s)`)
MAINTENANCE_TYPE_VALUES = sorted(t.value for t in MAINTENANCE_TYPES)


class TicketState(StrEnum):
    CREATED = "created"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    ARRIVED = "arrived"
    ESCALATED = "escalated"
    REASSIGNED = "reassigned"
    COMPLETED = "completed"
    VERIFIED = "verified"
    FALSE_ALARM = "false_alarm"
    CANCELLED = "cancelled"


S = TicketState
OPEN_STATES = frozenset({S.CREATED, S.DISPATCHED, S.ACCEPTED, S.ARRIVED, S.ESCALATED, S.REASSIGNED})
CLOSED_STATES = frozenset({S.VERIFIED, S.FALSE_ALARM, S.CANCELLED})
# waiting for a firm to accept
AWAITING_ACCEPTANCE = frozenset({S.DISPATCHED, S.ESCALATED, S.REASSIGNED})

TRANSITIONS: dict[TicketState, frozenset[TicketState]] = {
    S.CREATED: frozenset({S.DISPATCHED, S.FALSE_ALARM, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.ACCEPTED, S.ESCALATED, S.FALSE_ALARM, S.CANCELLED}),
    # escalated: the firm did not accept in time; it may still accept until reassigned
    S.ESCALATED: frozenset({S.ACCEPTED, S.REASSIGNED, S.FALSE_ALARM, S.CANCELLED}),
    S.REASSIGNED: frozenset({S.ACCEPTED, S.ESCALATED, S.FALSE_ALARM, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.ARRIVED, S.FALSE_ALARM, S.CANCELLED}),
    S.ARRIVED: frozenset({S.COMPLETED, S.FALSE_ALARM, S.CANCELLED}),
    S.COMPLETED: frozenset({S.VERIFIED}),
    S.VERIFIED: frozenset(),
    S.FALSE_ALARM: frozenset(),
    S.CANCELLED: frozenset(),
}

# who may ask for which step; the service itself ("system") may take any legal step
ROLE_STEPS: dict[str, frozenset[TicketState]] = {
    "firm": frozenset({S.ACCEPTED, S.ARRIVED, S.COMPLETED, S.FALSE_ALARM}),
    "supervisor": frozenset(
        {S.DISPATCHED, S.ACCEPTED, S.ARRIVED, S.COMPLETED, S.VERIFIED, S.FALSE_ALARM, S.CANCELLED}
    ),
}
ROLE_STEPS["admin"] = ROLE_STEPS["supervisor"]

# completion results per type (the console's RESULTS)
RESULTS: dict[str, tuple[str, ...]] = {
    TicketType.RESCUE: ("released_in_service", "released_locked_out"),
    TicketType.REPAIR: ("fault_cleared", "out_of_service"),
    "maintenance": ("done", "done_with_findings"),
}
ITEM_RESULTS = ("ok", "adjusted", "replaced", "not_applicable")


class IllegalTransition(ValueError):
    """A step the ticket's state (or the caller's role) does not allow: HTTP 409."""


class IncompleteStep(ValueError):
    """A legal step missing what it needs (a result, every maintenance item): HTTP 422."""


def is_maintenance(ticket_type: str) -> bool:
    return ticket_type in MAINTENANCE_TYPES


def results_for(ticket_type: str) -> tuple[str, ...]:
    return RESULTS["maintenance" if is_maintenance(ticket_type) else ticket_type]


def sla_of(ticket_type: str, settings: TicketSettings) -> SlaSteps:
    if ticket_type == TicketType.RESCUE:
        return settings.rescue
    if ticket_type == TicketType.REPAIR:
        return settings.repair
    return settings.maintenance


@dataclass(frozen=True)
class Ticket:
    id: int | None
    type: str
    state: TicketState
    elevator_id: str
    trigger: str
    created_at: datetime
    updated_at: datetime
    firm_id: str | None = None
    site_id: str | None = None
    address: str = ""
    district: str = ""
    user_unit: str = ""
    alert_id: int | None = None
    alert_ids: tuple[int, ...] = ()
    plan_id: int | None = None
    confirmed_at: datetime | None = None
    due_at: datetime | None = None
    dispatched_at: datetime | None = None
    accepted_at: datetime | None = None
    accepted_by: str | None = None
    arrived_at: datetime | None = None
    arrival_proof: str | None = None
    escalated_at: datetime | None = None
    reassigned_at: datetime | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    verified_at: datetime | None = None
    verified_by: str | None = None
    closed_at: datetime | None = None
    result: str | None = None
    notes: str | None = None
    items: tuple[dict[str, Any], ...] = ()
    previous_firms: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)

    def evolve(self, **changes: Any) -> Ticket:
        return replace(self, **changes)


@dataclass(frozen=True)
class ClockStart:
    step: str
    due_at: datetime


@dataclass(frozen=True)
class ClockPlan:
    """What a step does to the SLA clocks: start new ones, meet or void open ones."""

    start: tuple[ClockStart, ...] = ()
    meet: frozenset[str] = frozenset()
    void: frozenset[str] = frozenset()
    void_all: bool = False


@dataclass(frozen=True)
class Step:
    """One change of one ticket: the ticket after it, its audit row and the clocks."""

    ticket: Ticket
    action: str
    actor: str
    previous_state: TicketState | None
    clocks: ClockPlan
    note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def open_ticket(ticket: Ticket, settings: TicketSettings, actor: str) -> Step:
    """A new ticket (state created): the dispatch clock starts, and the arrival clock of a
    rescue or repair, which counts from the fault's confirmation (TSG T5002: 30 min)."""
    sla = sla_of(ticket.type, settings)
    now = ticket.created_at
    starts = [ClockStart(S.DISPATCHED.value, now + timedelta(seconds=sla.dispatched_s))]
    arrive_due = arrival_due(ticket, sla)
    if arrive_due is not None:
        starts.append(ClockStart(S.ARRIVED.value, arrive_due))
    return Step(ticket, "created", actor, None, ClockPlan(start=tuple(starts)))


def arrival_due(ticket: Ticket, sla: SlaSteps) -> datetime | None:
    if sla.arrived_s is None:
        return ticket.due_at
    return (ticket.confirmed_at or ticket.created_at) + timedelta(seconds=sla.arrived_s)


def transition(
    ticket: Ticket,
    to: str,
    *,
    actor: str,
    role: str,
    now: datetime,
    settings: TicketSettings,
    note: str | None = None,
    result: str | None = None,
    items: dict[str, str] | None = None,
    firm_id: str | None = None,
    proof: str = "check_in",
) -> Step:
    """Take one step. `role` is the caller's (firm, supervisor, admin) or `system`."""
    try:
        target = TicketState(to)
    except ValueError:
        raise IllegalTransition(f"{to!r} is not a ticket state") from None
    if target not in TRANSITIONS[ticket.state]:
        raise IllegalTransition(f"ticket {ticket.id} is {ticket.state}: cannot go to {target}")
    if role != "system" and target not in ROLE_STEPS.get(role, frozenset()):
        raise IllegalTransition(f"a {role} cannot move a ticket to {target}")
    sla = sla_of(ticket.type, settings)
    changes: dict[str, Any] = {"state": target, "updated_at": now}
    plan = ClockPlan(meet=frozenset({target.value}))
    details: dict[str, Any] = {}
    if note:
        changes["notes"] = f"{ticket.notes}\n{note}" if ticket.notes else note
    if firm_id is not None and target not in (S.DISPATCHED, S.REASSIGNED):
        raise IncompleteStep("a firm is chosen only when dispatching")
    if target == S.DISPATCHED:
        if firm_id is not None:
            changes["firm_id"] = firm_id
        elif ticket.firm_id is None:
            raise IncompleteStep(f"ticket {ticket.id} has no firm: dispatch it to one (firm_id)")
        changes["dispatched_at"] = now
        plan = ClockPlan(
            meet=frozenset({target.value}),
            start=(ClockStart(S.ACCEPTED.value, now + timedelta(seconds=sla.accepted_s)),),
        )
    elif target == S.ACCEPTED:
        changes.update(accepted_at=now, accepted_by=actor)
    elif target == S.ARRIVED:
        changes.update(arrived_at=now, arrival_proof=proof)
    elif target == S.ESCALATED:
        changes["escalated_at"] = now
        plan = ClockPlan()
    elif target == S.REASSIGNED:
        if not firm_id or firm_id == ticket.firm_id:
            raise IncompleteStep("a reassignment needs another firm")
        changes.update(
            reassigned_at=now,
            firm_id=firm_id,
            previous_firms=(*ticket.previous_firms, *([ticket.firm_id] if ticket.firm_id else [])),
            dispatched_at=now,
        )
        details = {"from_firm": ticket.firm_id, "to_firm": firm_id}
        # the next firm gets its own acceptance deadline; the passengers' arrival clock runs on
        plan = ClockPlan(
            void=frozenset({S.ACCEPTED.value}),
            start=(ClockStart(S.ACCEPTED.value, now + timedelta(seconds=sla.accepted_s)),),
        )
    elif target == S.COMPLETED:
        allowed = results_for(ticket.type)
        if result not in allowed:
            raise IncompleteStep(f"result must be one of {', '.join(allowed)}")
        changes.update(completed_at=now, completed_by=actor, result=result)
        if ticket.items:
            changes["items"] = record_items(ticket.items, items or {})
        details = {"result": result}
        sign_off = (
            (ClockStart(S.VERIFIED.value, now + timedelta(seconds=sla.verified_s)),)
            if sla.verified_s is not None
            else ()
        )
        plan = ClockPlan(void_all=True, start=sign_off)
    elif target == S.VERIFIED:
        changes.update(verified_at=now, verified_by=actor, closed_at=now)
        plan = ClockPlan(meet=frozenset({target.value}), void_all=True)
    elif target in (S.FALSE_ALARM, S.CANCELLED):
        changes["closed_at"] = now
        plan = ClockPlan(void_all=True)
    return Step(ticket.evolve(**changes), target.value, actor, ticket.state, plan, note, details)


def record_items(
    required: tuple[dict[str, Any], ...], results: dict[str, str]
) -> tuple[dict[str, Any], ...]:
    """Every required maintenance item needs a result (elevators.md: all items recorded)."""
    unknown = set(results) - {str(it.get("code")) for it in required}
    if unknown:
        raise IncompleteStep(f"not items of this ticket: {', '.join(sorted(unknown))}")
    out = []
    for it in required:
        value = results.get(str(it.get("code")))
        if value not in ITEM_RESULTS:
            raise IncompleteStep(
                f"item {it.get('code')}: result must be one of {', '.join(ITEM_RESULTS)}"
            )
        out.append({**it, "result": value})
    return tuple(out)


def on_breach(
    ticket: Ticket,
    step: str,
    now: datetime,
    settings: TicketSettings,
    next_firm: str | None,
) -> list[Step]:
    """What a missed deadline does to the ticket itself (the breach alert is the store's).

    An unaccepted rescue is escalated and, when another firm is available, reassigned to
    it (elevators.md: the platform may dispatch the nearest other firm). Other breaches
    change nothing but raise their alert."""
    if not (
        step == S.ACCEPTED
        and ticket.type == TicketType.RESCUE
        and ticket.state in AWAITING_ACCEPTANCE
        and settings.reassign_unaccepted_rescue
    ):
        return []
    steps: list[Step] = []
    current = ticket
    if current.state != S.ESCALATED:
        s = transition(
            current, S.ESCALATED, actor="clock", role="system", now=now, settings=settings
        )
        steps.append(s)
        current = s.ticket
    if next_firm is not None and len(current.previous_firms) < settings.max_reassignments:
        steps.append(
            transition(
                current,
                S.REASSIGNED,
                actor="clock",
                role="system",
                now=now,
                settings=settings,
                firm_id=next_firm,
                note=f"not accepted in time by {current.firm_id}; reassigned to {next_firm}",
            )
        )
    return steps


def inspection_arrival(
    samples: list[tuple[datetime, str]], min_duration: timedelta
) -> datetime | None:
    """Start of the first stretch of `inspection` mode lasting `min_duration`, from status
    samples (terminal time, ascending): the maintenance worker's arrival proof
    (elevators.md: the car seen in inspection mode in telemetry for >= 20 min)."""
    start: datetime | None = None
    for ts, mode in samples:
        if mode == "inspection":
            if start is None:
                start = ts
            if ts - start >= min_duration:
                return start
        else:
            start = None
    return None
