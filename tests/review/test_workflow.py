"""The pure review workflow: steps a state does not allow, the deadlines and the card
ladder, catching up after the clock was stopped (a restart), points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brightwatch.alerts.review import workflow
from brightwatch.alerts.review.settings import ReviewSettings
from brightwatch.alerts.review.workflow import Case, CaseState, IllegalStep

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
S = ReviewSettings()


def pending(tier: str = "T1", code: str = "RODENT") -> Case:
    return Case(
        1, 10, "fp", "K1", "cam1", "Futian", code, tier, CaseState.PENDING_REVIEW, T0, T0, T0
    )


def kinds(step: workflow.Step) -> list[str]:
    return [e.action if isinstance(e, workflow.History) else type(e).__name__ for e in step.effects]


def test_confirm_sets_tier_deadlines_and_costs_points() -> None:
    t1 = workflow.confirm(pending("T1"), S, "sup", T0)
    assert t1.case.state == CaseState.NOTIFIED
    assert t1.case.plan_due_at == T0 + timedelta(hours=2) and t1.case.fix_due_at == T0 + timedelta(
        hours=72
    )
    assert t1.case.next_check_at == T0 + timedelta(hours=2)
    assert workflow.Points(-10, "confirmed RODENT") in t1.effects
    assert workflow.Notice("rectification") in t1.effects
    t2 = workflow.confirm(pending("T2", "SMOKING"), S, "sup", T0)
    assert t2.case.plan_due_at is None and t2.case.fix_due_at == T0 + timedelta(days=3)
    t3 = workflow.confirm(pending("T3", "NO_GLOVES"), S, "sup", T0)
    assert t3.case.state == CaseState.CLOSED and not any(
        isinstance(e, workflow.Notice) for e in t3.effects
    )
    custom = ReviewSettings(code_points={"RODENT": 15})
    assert (
        workflow.Points(-15, "confirmed RODENT")
        in workflow.confirm(pending(), custom, "sup", T0).effects
    )


@pytest.mark.parametrize(
    ("state", "step"),
    [
        (CaseState.DISMISSED, lambda c: workflow.confirm(c, S, "sup", T0)),
        (CaseState.NOTIFIED, lambda c: workflow.dismiss(c, S, "sup", T0)),
        (CaseState.RECTIFYING, lambda c: workflow.submit_plan(c, S, "op", T0, "plan")),
        (CaseState.EVIDENCE_SUBMITTED, lambda c: workflow.submit_evidence(c, S, "op", T0, 1)),
        (CaseState.NOTIFIED, lambda c: workflow.start_verification(c, S, "sup", T0, None)),
        (CaseState.RECTIFYING, lambda c: workflow.verify(c, S, "sup", T0, True, None)),
        (CaseState.CLOSED, lambda c: workflow.submit_evidence(c, S, "op", T0, 1)),
    ],
)
def test_steps_the_state_does_not_allow(state: CaseState, step) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IllegalStep):
        step(pending().evolve(state=state))


def test_rejection_and_plans_need_a_reason() -> None:
    notified = workflow.confirm(pending(), S, "sup", T0).case
    with pytest.raises(IllegalStep, match="plan needs a note"):
        workflow.submit_plan(notified, S, "op", T0, "  ")
    verifying = notified.evolve(state=CaseState.VERIFYING)
    with pytest.raises(IllegalStep, match="needs a note"):
        workflow.verify(verifying, S, "sup", T0, False, None)


def test_the_clock_catches_up_every_missed_deadline_once() -> None:
    case = workflow.confirm(pending(), S, "sup", T0).case
    # the clock was stopped for 12 days past the deadline: one pass issues what is due, in order
    late = case.fix_due_at + timedelta(days=12)  # type: ignore[operator]
    step = workflow.tick(case, S, late)
    assert kinds(step) == [
        "plan_overdue",
        "Notice",
        "overdue",
        "card_issued",
        "Points",
        "Notice",
        "card_issued",
        "Points",
        "Notice",
    ]
    assert step.case.state == CaseState.ESCALATED and step.case.card == "red"
    # next: the on-site inspection, 15 days overdue
    assert step.case.next_check_at == case.fix_due_at + timedelta(days=15)  # type: ignore[operator]
    again = workflow.tick(step.case, S, late + timedelta(minutes=1))
    assert again.effects == ()


def test_on_time_closure_restores_points_and_keeps_evidence() -> None:
    case = workflow.confirm(pending("T2", "SMOKING"), S, "sup", T0).case
    case = workflow.submit_evidence(case, S, "op", T0 + timedelta(days=1), 7).case
    case = workflow.start_verification(case, S, "sup", T0 + timedelta(days=2), None).case
    done = workflow.verify(case, S, "sup", T0 + timedelta(days=4), True, "ok")
    assert done.case.state == CaseState.CLOSED and done.case.rectified_at == T0 + timedelta(days=1)
    assert workflow.Points(5, "restored after compliance (SMOKING)") in done.effects
    assert workflow.RetainEvidence(T0 + timedelta(days=4 + 365)) in done.effects
    closed = next(e for e in done.effects if isinstance(e, workflow.History))
    assert closed.details["on_time"] is True
