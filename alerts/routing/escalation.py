"""Escalation chains: who else is told while an alert stays unacknowledged. Pure.

A chain is a list of steps by severity, each `after_s` seconds after the alert opened
(e.g. P1 unacknowledged 5 min -> the bureau duty officer). Acknowledging or resolving
stops the chain; a muted alert does not escalate while muted, and is looked at again
after `recheck`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from brightwatch.alerts.routing.settings import EscalationStep


@dataclass(frozen=True)
class EscalationDecision:
    due: tuple[tuple[int, EscalationStep], ...]  # (level reached, step)
    level: int
    next_at: datetime | None


def next_step_at(
    chain: Sequence[EscalationStep], opened_at: datetime, level: int
) -> datetime | None:
    if level >= len(chain):
        return None
    return opened_at + timedelta(seconds=chain[level].after_s)


def decide_escalation(
    chain: Sequence[EscalationStep],
    opened_at: datetime,
    level: int,
    now: datetime,
    *,
    firing: bool,
    muted: bool,
    recheck: timedelta,
) -> EscalationDecision:
    if not firing or level >= len(chain):
        return EscalationDecision((), level, None)
    if muted:
        upcoming = next_step_at(chain, opened_at, level)
        assert upcoming is not None
        return EscalationDecision((), level, max(upcoming, now + recheck))
    due = tuple(
        (i + 1, step)
        for i, step in enumerate(chain)
        if i >= level and opened_at + timedelta(seconds=step.after_s) <= now
    )
    reached = level + len(due)
    return EscalationDecision(due, reached, next_step_at(chain, opened_at, reached))
