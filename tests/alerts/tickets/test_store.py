"""Tickets in the database: opened by the reactor in the alert's transaction, deduplicated,
opened for the planner, and every step audited and published (outbox)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from brightwatch.alerts.model import AlertSignal
from brightwatch.alerts.store import AlertStore
from brightwatch.alerts.tickets.lifecycle import IllegalTransition
from brightwatch.alerts.tickets.store import TicketDesk, TicketNotFound
from tests.alerts.tickets.conftest import Clock


def fire(
    store: AlertStore,
    db_url: str,
    code: str = "TRAPPED_OUT_ZONE",
    severity: str = "P1",
    device: str = "E1",
    active: bool = True,
    **kw: Any,
) -> int:
    with psycopg.connect(db_url) as conn, conn.transaction():
        change = store.apply_signal(
            conn,
            AlertSignal(
                kind="elevator",
                code=code,
                severity=severity,
                device_id=device,
                active=active,
                at=store.clock() - timedelta(seconds=30),
                **kw,
            ),
        )
    assert change is not None and change.alert.id is not None
    return change.alert.id


def tickets(db_url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT id, type, state, elevator_id, firm_id, trigger, alert_ids, address, district,"
            " user_unit, confirmed_at FROM ticket ORDER BY id"
        ).fetchall()


def events(db_url: str, ticket_id: int) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT action, from_state, to_state, actor FROM ticket_event WHERE ticket_id = %s"
            " ORDER BY id",
            (ticket_id,),
        ).fetchall()


def messages(db_url: str) -> list[tuple[str, dict[str, Any]]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT topic, payload FROM outbox WHERE topic LIKE '%/tickets/%' ORDER BY id"
        ).fetchall()
    return [(t, json.loads(bytes(p))) for t, p in rows]


def test_p1_alert_opens_a_dispatched_rescue_ticket_in_its_transaction(
    city: str, store: AlertStore, clock: Clock, settings: Any
) -> None:
    alert_id = fire(store, city)
    [t] = tickets(city)
    assert t[1:7] == ("rescue", "dispatched", "E1", "FA", "TRAPPED_OUT_ZONE", [alert_id])
    # address and district from the site when the elevator has none; user unit = operator
    assert t[7:10] == ("1 Main St", "D1", "Tower Property Co")
    assert t[10] == clock() - timedelta(seconds=30)  # the fault's confirmation
    assert [e[:3] for e in events(city, t[0])] == [
        ("created", None, "created"),
        ("dispatched", "created", "dispatched"),
    ]
    msgs = messages(city)
    root = settings.topic_root
    assert [m[0] for m in msgs] == [f"{root}/tickets/FA/{t[0]}"] * 2
    body = msgs[-1][1]
    assert body["event"] == "dispatched" and body["ticket"]["state"] == "dispatched"
    assert body["ticket"]["sla"]["step"] == "accepted"  # 5 min to accept
    due = body["ticket"]["sla"]["due_at"]
    assert due.startswith((clock() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"))


def test_one_open_ticket_per_elevator_fault(city: str, store: AlertStore, clock: Clock) -> None:
    first = fire(store, city)
    fire(store, city)  # refired: the same alert
    fire(store, city, active=False)
    clock.advance(minutes=10)  # beyond the flap window: a new alert of the same fault
    second = fire(store, city)
    assert second != first
    fire(store, city, code="STOP_OUT_ZONE", severity="P2")  # another fault: a repair ticket
    fire(store, city, code="DOOR_CYCLING", severity="P3")  # P3: none
    rows = tickets(city)
    assert [(r[1], r[5], r[6]) for r in rows] == [
        ("rescue", "TRAPPED_OUT_ZONE", [first, second]),
        ("repair", "STOP_OUT_ZONE", rows[1][6]),
    ]


def test_unknown_elevator_gets_an_undispatched_ticket(city: str, store: AlertStore) -> None:
    fire(store, city, device="NOT_REGISTERED")
    [t] = tickets(city)
    assert (t[2], t[4]) == ("created", None)


def test_open_maintenance_ticket_for_the_planner(
    city: str, desk: TicketDesk, clock: Clock, settings: Any
) -> None:
    due = clock() + timedelta(days=3)
    with psycopg.connect(city) as conn:
        tid = desk.open_maintenance(
            conn,
            elevator_id="E1",
            type="quarterly",
            due_at=due,
            trigger="DUE_DATE",
            plan_id=None,
            now=clock(),
            items=[{"code": "Q1", "name": "brake wear"}],
        )
        again = desk.open_maintenance(
            conn,
            elevator_id="E1",
            type="quarterly",
            due_at=due,
            trigger="DUE_DATE",
            plan_id=None,
            now=clock(),
        )
        other = desk.open_maintenance(
            conn,
            elevator_id="E1",
            type="yearly",
            due_at=due,
            trigger="DUE_DATE",
            plan_id=7,
            now=clock(),
        )
        with pytest.raises(ValueError):
            desk.open_maintenance(
                conn,
                elevator_id="E1",
                type="rescue",
                due_at=due,
                trigger="X",
                plan_id=None,
                now=clock(),
            )
        clocks = conn.execute(
            "SELECT step, due_at, met_at IS NOT NULL FROM ticket_clock WHERE ticket_id = %s"
            " ORDER BY id",
            (tid,),
        ).fetchall()
    assert tid is not None and again is None and other is not None and other != tid
    assert [r[1:3] for r in tickets(city)] == [
        ("quarterly", "dispatched"),
        ("yearly", "dispatched"),
    ]
    assert clocks == [
        ("dispatched", clock() + timedelta(days=1), True),
        ("arrived", due, False),  # by the due date
        ("accepted", clock() + timedelta(hours=24), False),
    ]
    assert messages(city)[0][0] == f"{settings.topic_root}/tickets/FA/{tid}"


def test_transitions_audited_and_scoped(city: str, store: AlertStore, desk: TicketDesk) -> None:
    fire(store, city)
    [t] = tickets(city)
    with psycopg.connect(city) as conn:
        with pytest.raises(TicketNotFound):
            desk.transition(conn, t[0], "accepted", actor="firm:9:FB", role="firm", firm_id="FB")
        with pytest.raises(IllegalTransition):
            desk.transition(conn, t[0], "arrived", actor="firm:1:FA", role="firm", firm_id="FA")
        with pytest.raises(IllegalTransition):
            desk.transition(conn, t[0], "cancelled", actor="firm:1:FA", role="firm", firm_id="FA")
        desk.transition(conn, t[0], "accepted", actor="firm:1:FA", role="firm", firm_id="FA")
        desk.transition(conn, t[0], "arrived", actor="firm:1:FA", role="firm", firm_id="FA")
        done = desk.transition(
            conn,
            t[0],
            "completed",
            actor="firm:1:FA",
            role="firm",
            firm_id="FA",
            result="released_in_service",
            note="released",
        )
    assert done.state == "completed" and done.result == "released_in_service"
    assert [e[0] for e in events(city, t[0])] == [
        "created",
        "dispatched",
        "accepted",
        "arrived",
        "completed",
    ]
    assert events(city, t[0])[2][3] == "firm:1:FA"
