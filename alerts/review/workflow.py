"""The review and rectification state machine (kitchens.md). Pure: each step takes a
case and returns the changed case with the effects the adapter carries out (notices,
credit points, alert acknowledgement or resolution, evidence retention, history).

```
pending_review --dismiss--> dismissed
      | confirm (T3: closed at once, routine supervision, no notice)
      v
   notified --plan (operator)--> rectifying --evidence (operator)--> evidence_submitted
      |                              |  ^                                  |
      |          overdue (clock)     v  | not ok                 verifying (supervisor)
      +-------------------------> escalated          verifying --ok--> closed
                 yellow -> red -> inspection cards
```
The operator may upload evidence from notified, rectifying or escalated; a supervisor
may start verifying from evidence_submitted, or from rectifying / escalated after an
on-site inspection.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from brightwatch.alerts.review.settings import ReviewSettings, TierPolicy


class CaseState(StrEnum):
    PENDING_REVIEW = "pending_review"
    DISMISSED = "dismissed"
    NOTIFIED = "notified"
    RECTIFYING = "rectifying"
    EVIDENCE_SUBMITTED = "evidence_submitted"
    VERIFYING = "verifying"
    ESCALATED = "escalated"
    CLOSED = "closed"


# confirmed and not yet closed
OPEN_CASE = frozenset(
    {
        CaseState.NOTIFIED,
        CaseState.RECTIFYING,
        CaseState.EVIDENCE_SUBMITTED,
        CaseState.VERIFYING,
        CaseState.ESCALATED,
    }
)
# waiting for the operator: the deadlines run
AWAITING_OPERATOR = frozenset({CaseState.NOTIFIED, CaseState.RECTIFYING, CaseState.ESCALATED})
CARD_ORDER = ("yellow", "red", "inspection")


class IllegalStep(ValueError):
    """A step the case's state does not allow (HTTP 409)."""


@dataclass(frozen=True)
class Case:
    id: int
    alert_id: int
    fingerprint: str
    site_id: str
    camera_id: str
    district: str
    code: str
    tier: str
    state: CaseState
    detected_at: datetime
    created_at: datetime
    updated_at: datetime
    presented_at: datetime | None = None
    decision: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    decision_seconds: float | None = None
    corrected_boxes: dict[str, Any] | None = None
    notified_at: datetime | None = None
    plan_due_at: datetime | None = None
    plan_submitted_at: datetime | None = None
    plan_note: str | None = None
    plan_overdue_at: datetime | None = None
    fix_due_at: datetime | None = None
    evidence_submitted_at: datetime | None = None
    rectified_at: datetime | None = None
    verification_started_at: datetime | None = None
    verified_at: datetime | None = None
    verified_by: str | None = None
    escalated_at: datetime | None = None
    card: str | None = None
    card_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    recurrences: int = 0
    points: int = 0
    points_restored: int = 0
    next_check_at: datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Case:
        names = {f.name for f in fields(cls)}
        data = {k: v for k, v in row.items() if k in names}
        data["state"] = CaseState(data["state"])
        return cls(**data)

    def evolve(self, **changes: Any) -> Case:
        return replace(self, **changes)


# -------------------------------------------------------------------- effects


@dataclass(frozen=True)
class Notice:
    """A notice routed with the label notice=<kind> (the operator, the local officer)."""

    kind: str  # rectification | plan_overdue | card
    card: str | None = None


@dataclass(frozen=True)
class Points:
    delta: int
    reason: str


@dataclass(frozen=True)
class AlertAction:
    action: str  # acknowledge | resolve
    note: str


@dataclass(frozen=True)
class RetainEvidence:
    until: datetime


@dataclass(frozen=True)
class History:
    action: str
    details: dict[str, Any] = field(default_factory=dict)
    note: str | None = None


Effect = Notice | Points | AlertAction | RetainEvidence | History


@dataclass(frozen=True)
class Step:
    case: Case
    effects: tuple[Effect, ...]


def _require(case: Case, allowed: frozenset[CaseState] | set[CaseState], what: str) -> None:
    if case.state not in allowed:
        raise IllegalStep(f"case {case.id} is {case.state}: cannot {what}")


def _moved(case: Case, to: CaseState, now: datetime, **changes: Any) -> Case:
    return case.evolve(state=to, updated_at=now, **changes)


def _history(
    action: str, before: Case, after: Case, *, note: str | None = None, **details: Any
) -> History:
    return History(
        action,
        {"review_id": before.id, "from": before.state.value, "to": after.state.value, **details},
        note,
    )


def _decided(
    decision: str, actor: str, now: datetime, note: str | None, seconds: float | None
) -> dict[str, Any]:
    """The fields a reviewer's decision (confirm, dismiss) records on the case."""
    return dict(
        decision=decision,
        decided_at=now,
        decided_by=actor,
        decision_note=note,
        decision_seconds=seconds,
    )


def policy_of(settings: ReviewSettings, case: Case) -> TierPolicy:
    return settings.tiers[case.tier]  # type: ignore[index]


# -------------------------------------------------------------------- decisions


def confirm(
    case: Case,
    settings: ReviewSettings,
    actor: str,
    now: datetime,
    note: str | None = None,
    seconds: float | None = None,
) -> Step:
    _require(case, {CaseState.PENDING_REVIEW}, "confirm")
    policy = policy_of(settings, case)
    points = settings.points_for(case.code, case.tier)
    decided = _decided("confirm", actor, now, note, seconds)
    effects: list[Effect] = [AlertAction("acknowledge", f"confirmed in review {case.id}")]
    if points:
        effects.append(Points(-points, f"confirmed {case.code}"))
    if not policy.notice:
        # Hubei T3: counted for routine supervision, no notice; the case ends here
        after = _moved(
            case, CaseState.CLOSED, now, closed_at=now, closed_by=actor, points=points, **decided
        )
        effects += [
            _history("review_confirmed", case, after, tier=case.tier, points=points, routine=True),
            RetainEvidence(now + timedelta(days=settings.evidence_retention_days)),
        ]
        return Step(after, tuple(effects))
    after = _moved(
        case,
        CaseState.NOTIFIED,
        now,
        notified_at=now,
        plan_due_at=now + timedelta(seconds=policy.plan_within_s) if policy.plan_within_s else None,
        fix_due_at=now + timedelta(seconds=policy.fix_within_s or 0),
        points=points,
        **decided,
    )
    after = after.evolve(next_check_at=next_check(after, policy))
    effects += [
        _history(
            "review_confirmed",
            case,
            after,
            tier=case.tier,
            points=points,
            plan_due_at=after.plan_due_at.isoformat() if after.plan_due_at else None,
            fix_due_at=after.fix_due_at.isoformat() if after.fix_due_at else None,
        ),
        Notice("rectification"),
    ]
    return Step(after, tuple(effects))


def dismiss(
    case: Case,
    settings: ReviewSettings,
    actor: str,
    now: datetime,
    note: str | None = None,
    seconds: float | None = None,
    corrected_boxes: dict[str, Any] | None = None,
) -> Step:
    _require(case, {CaseState.PENDING_REVIEW}, "dismiss")
    after = _moved(
        case,
        CaseState.DISMISSED,
        now,
        corrected_boxes=corrected_boxes,
        **_decided("dismiss", actor, now, note, seconds),
    )
    return Step(
        after,
        (
            AlertAction(
                "resolve", f"false positive (review {case.id})" + (f": {note}" if note else "")
            ),
            _history("review_dismissed", case, after, corrected=bool(corrected_boxes)),
            # dismissals are labelled data (kitchens.md): kept for the training export
            RetainEvidence(now + timedelta(days=settings.dismissed_retention_days)),
        ),
    )


# -------------------------------------------------------------------- rectification


def submit_plan(case: Case, settings: ReviewSettings, actor: str, now: datetime, note: str) -> Step:
    _require(case, {CaseState.NOTIFIED}, "submit a rectification plan")
    if not note.strip():
        raise IllegalStep("a rectification plan needs a note saying what will be done")
    after = _moved(case, CaseState.RECTIFYING, now, plan_submitted_at=now, plan_note=note)
    after = after.evolve(next_check_at=next_check(after, policy_of(settings, case)))
    late = case.plan_due_at is not None and now > case.plan_due_at
    return Step(after, (_history("plan_submitted", case, after, late=late),))


def submit_evidence(
    case: Case, settings: ReviewSettings, actor: str, now: datetime, rectification_id: int
) -> Step:
    _require(case, AWAITING_OPERATOR, "submit rectification evidence")
    after = _moved(
        case, CaseState.EVIDENCE_SUBMITTED, now, evidence_submitted_at=now, next_check_at=None
    )
    late = case.fix_due_at is not None and now > case.fix_due_at
    return Step(
        after,
        (
            _history(
                "evidence_submitted", case, after, rectification_id=rectification_id, late=late
            ),
        ),
    )


def start_verification(
    case: Case, settings: ReviewSettings, actor: str, now: datetime, note: str | None
) -> Step:
    # from rectifying / escalated: the officer checks on site instead of on pictures
    _require(
        case,
        {CaseState.EVIDENCE_SUBMITTED, CaseState.RECTIFYING, CaseState.ESCALATED},
        "start verifying",
    )
    after = _moved(case, CaseState.VERIFYING, now, verification_started_at=now, next_check_at=None)
    return Step(
        after,
        (_history("verification_started", case, after, note=note),),
    )


def verify(
    case: Case,
    settings: ReviewSettings,
    actor: str,
    now: datetime,
    ok: bool,
    note: str | None,
) -> Step:
    _require(case, {CaseState.VERIFYING}, "record a verification")
    policy = policy_of(settings, case)
    if not ok:
        if not (note or "").strip():
            raise IllegalStep("a rejected rectification needs a note saying what is missing")
        after = _moved(case, CaseState.RECTIFYING, now)
        after = after.evolve(next_check_at=next_check(after, policy))
        return Step(
            after,
            (_history("rectification_rejected", case, after, note=note),),
        )
    # the accepted rectification is dated by its evidence (on-site: by the verification)
    rectified_at = case.evidence_submitted_at or now
    after = _moved(
        case,
        CaseState.CLOSED,
        now,
        verified_at=now,
        verified_by=actor,
        rectified_at=rectified_at,
        closed_at=now,
        closed_by=actor,
        next_check_at=None,
    )
    effects: list[Effect] = [
        _history(
            "case_closed",
            case,
            after,
            note=note,
            on_time=case.fix_due_at is None or rectified_at <= case.fix_due_at,
        ),
        AlertAction("resolve", f"rectified, review {case.id} closed"),
        # kitchens.md: evidence of confirmed violations is kept until closed plus 1 year
        RetainEvidence(now + timedelta(days=settings.evidence_retention_days)),
    ]
    if policy.restore_on_close and case.points:
        # Fuzhou: points are restored after compliance
        effects.append(Points(case.points, f"restored after compliance ({case.code})"))
        after = after.evolve(points_restored=case.points)
    return Step(after, tuple(effects))


# -------------------------------------------------------------------- the clock


def next_check(case: Case, policy: TierPolicy) -> datetime | None:
    """When the clock must look at this case again (a deadline, the next card)."""
    if case.state not in AWAITING_OPERATOR:
        return None
    candidates = []
    if case.state == CaseState.NOTIFIED and case.plan_due_at and case.plan_overdue_at is None:
        candidates.append(case.plan_due_at)
    if case.fix_due_at is not None:
        if case.state != CaseState.ESCALATED:
            candidates.append(case.fix_due_at)
        issued = CARD_ORDER.index(case.card) + 1 if case.card else 0
        for step in policy.cards:
            if CARD_ORDER.index(step.card) >= issued:
                candidates.append(case.fix_due_at + timedelta(seconds=step.after_overdue_s))
                break
    return min(candidates) if candidates else None


def tick(case: Case, settings: ReviewSettings, now: datetime) -> Step:
    """Deadlines that have passed: a late plan, an overdue fix, the cards."""
    policy = policy_of(settings, case)
    if case.state not in AWAITING_OPERATOR:
        return Step(case.evolve(next_check_at=None), ())
    effects: list[Effect] = []
    after = case
    if (
        case.state == CaseState.NOTIFIED
        and case.plan_due_at is not None
        and case.plan_overdue_at is None
        and now >= case.plan_due_at
    ):
        after = after.evolve(plan_overdue_at=now, updated_at=now)
        effects += [
            History(
                "plan_overdue", {"review_id": case.id, "plan_due_at": case.plan_due_at.isoformat()}
            ),
            Notice("plan_overdue"),
        ]
    fix_due = after.fix_due_at
    if fix_due is not None and now >= fix_due:
        if after.state != CaseState.ESCALATED:
            before = after
            after = _moved(after, CaseState.ESCALATED, now, escalated_at=after.escalated_at or now)
            effects.append(
                _history(
                    "overdue",
                    before,
                    after,
                    fix_due_at=fix_due.isoformat(),
                )
            )
        overdue = now - fix_due
        issued = CARD_ORDER.index(after.card) + 1 if after.card else 0
        for step in policy.cards:
            rank = CARD_ORDER.index(step.card)
            if rank < issued or overdue < timedelta(seconds=step.after_overdue_s):
                continue
            after = after.evolve(card=step.card, card_at=now, updated_at=now)
            issued = rank + 1
            effects.append(
                History(
                    "card_issued",
                    {
                        "review_id": case.id,
                        "card": step.card,
                        "overdue_s": int(overdue.total_seconds()),
                    },
                )
            )
            cost = settings.card_points.get(step.card, 0)
            if cost:
                effects.append(Points(-cost, f"{step.card} card ({case.code})"))
            effects.append(Notice("card", step.card))
    return Step(after.evolve(next_check_at=next_check(after, policy)), tuple(effects))
