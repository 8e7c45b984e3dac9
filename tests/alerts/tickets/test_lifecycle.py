"""The pure lifecycle: every (state, target) pair against the transition table, roles,
completion rules, escalation, inspection-mode arrival."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brightwatch.alerts.tickets import lifecycle
from brightwatch.alerts.tickets.lifecycle import (
    IllegalTransition,
    IncompleteStep,
    Ticket,
    TicketState,
    inspection_arrival,
    on_breach,
    transition,
)
from brightwatch.alerts.tickets.settings import TicketSettings

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
SETTINGS = TicketSettings()


def ticket(state: TicketState, type: str = "rescue", **kw: object) -> Ticket:
    return Ticket(
        id=1,
        type=type,
        state=state,
        elevator_id="E1",
        trigger="TRAPPED_OUT_ZONE",
        created_at=NOW,
        updated_at=NOW,
        firm_id="FA",
        **kw,  # type: ignore[arg-type]
    )


EXTRA = {
    TicketState.COMPLETED: {"result": "released_in_service"},
    TicketState.REASSIGNED: {"firm_id": "FB"},
}


@pytest.mark.parametrize("source", list(TicketState))
@pytest.mark.parametrize("target", list(TicketState))
def test_every_pair_follows_the_table(source: TicketState, target: TicketState) -> None:
    t = ticket(source)
    kw = EXTRA.get(target, {})
    if target in lifecycle.TRANSITIONS[source]:
        step = transition(t, target, actor="x", role="system", now=NOW, settings=SETTINGS, **kw)  # type: ignore[arg-type]
        assert step.ticket.state == target and step.previous_state == source
    else:
        with pytest.raises(IllegalTransition):
            transition(t, target, actor="x", role="system", now=NOW, settings=SETTINGS, **kw)  # type: ignore[arg-type]


def test_roles() -> None:
    with pytest.raises(IllegalTransition):
        transition(
            ticket(TicketState.COMPLETED),
            "verified",
            actor="f",
            role="firm",
            now=NOW,
            settings=SETTINGS,
        )
    with pytest.raises(IllegalTransition):
        transition(
            ticket(TicketState.DISPATCHED),
            "escalated",
            actor="s",
            role="supervisor",
            now=NOW,
            settings=SETTINGS,
        )
    with pytest.raises(IllegalTransition):
        transition(
            ticket(TicketState.DISPATCHED),
            "accepted",
            actor="o",
            role="operator",
            now=NOW,
            settings=SETTINGS,
        )
    step = transition(
        ticket(TicketState.COMPLETED),
        "verified",
        actor="s",
        role="supervisor",
        now=NOW,
        settings=SETTINGS,
    )
    assert step.ticket.verified_by == "s" and step.ticket.closed_at == NOW


def test_completion_rules() -> None:
    arrived = ticket(
        TicketState.ARRIVED,
        type="quarterly",
        items=({"code": "Q1", "name": "brakes"}, {"code": "Q2", "name": "doors"}),
    )
    with pytest.raises(IncompleteStep):
        transition(
            arrived,
            "completed",
            actor="f",
            role="firm",
            now=NOW,
            settings=SETTINGS,
            result="released_in_service",
        )
    with pytest.raises(IncompleteStep):
        transition(
            arrived,
            "completed",
            actor="f",
            role="firm",
            now=NOW,
            settings=SETTINGS,
            result="done",
            items={"Q1": "ok", "Q2": "broken"},
        )
    with pytest.raises(IncompleteStep):
        transition(
            arrived,
            "completed",
            actor="f",
            role="firm",
            now=NOW,
            settings=SETTINGS,
            result="done",
            items={"Q1": "ok", "Q2": "ok", "Q9": "ok"},
        )
    step = transition(
        arrived,
        "completed",
        actor="f",
        role="firm",
        now=NOW,
        settings=SETTINGS,
        result="done",
        items={"Q1": "ok", "Q2": "adjusted"},
    )
    assert [i["result"] for i in step.ticket.items] == ["ok", "adjusted"]
    assert step.clocks.void_all and step.clocks.start[0].step == "verified"
    assert step.clocks.start[0].due_at == NOW + timedelta(days=3)


def test_unaccepted_rescue_escalates_and_reassigns_but_repair_does_not() -> None:
    steps = on_breach(ticket(TicketState.DISPATCHED), "accepted", NOW, SETTINGS, "FB")
    assert [s.ticket.state for s in steps] == ["escalated", "reassigned"]
    assert steps[-1].ticket.firm_id == "FB" and steps[-1].ticket.previous_firms == ("FA",)
    assert steps[-1].clocks.start[0].due_at == NOW + timedelta(minutes=5)
    nobody = on_breach(ticket(TicketState.DISPATCHED), "accepted", NOW, SETTINGS, None)
    assert [s.ticket.state for s in nobody] == ["escalated"]
    assert (
        on_breach(ticket(TicketState.DISPATCHED, type="repair"), "accepted", NOW, SETTINGS, "FB")
        == []
    )
    assert on_breach(ticket(TicketState.ACCEPTED), "arrived", NOW, SETTINGS, "FB") == []
    capped = TicketSettings(max_reassignments=1)
    t = ticket(TicketState.REASSIGNED, previous_firms=("F0",))
    assert [s.ticket.state for s in on_breach(t, "accepted", NOW, capped, "FB")] == ["escalated"]


def test_inspection_arrival_needs_an_unbroken_stretch() -> None:
    m = timedelta(minutes=1)
    samples = [(NOW + i * m, "inspection") for i in range(10)]
    samples += [(NOW + 10 * m, "normal")]
    samples += [(NOW + i * m, "inspection") for i in range(11, 31)]
    assert inspection_arrival(samples, 20 * m) is None
    samples.append((NOW + 31 * m, "inspection"))
    assert inspection_arrival(samples, 20 * m) == NOW + 11 * m
    assert inspection_arrival([], 20 * m) is None
