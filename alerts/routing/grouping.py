"""Grouping: when a group of related alerts is notified, and with which alerts. Pure.

Alertmanager's timing: a new group waits `group_wait` to collect a burst into one
notification; a group already notified waits `group_interval` before telling about
changes (new alerts, resolved ones); an unchanged group is re-notified every
`repeat_interval`. Unlike Alertmanager, only firing alerts nobody has acknowledged
keep the repeats going: acknowledging stops the re-notification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

FIRING = "firing"
RESOLVED = "resolved"


@dataclass(frozen=True)
class Timing:
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta


@dataclass(frozen=True)
class Member:
    alert_id: int
    status: str  # firing | resolved: the alert now
    acknowledged: bool
    muted: bool
    notified: str | None  # what this group last said about it


@dataclass(frozen=True)
class FlushDecision:
    send: bool
    reason: str | None  # "group" (news) or "repeat"
    include: tuple[int, ...]  # alerts in the notification
    notified: dict[int, str]  # new `notified` of members that stay
    drop: tuple[int, ...]  # members leaving the group
    next_flush_at: datetime | None
    close: bool  # nothing left: the group ends


def schedule_on_change(
    next_flush_at: datetime | None,
    last_flush_at: datetime | None,
    timing: Timing,
    now: datetime,
    *,
    new_group: bool,
) -> datetime:
    """The next flush after a member was added, reopened or resolved."""
    if new_group:
        return now + timing.group_wait
    if last_flush_at is None:
        # still in its first group_wait: that flush will carry the change
        return next_flush_at if next_flush_at is not None else now + timing.group_wait
    candidate = max(now, last_flush_at + timing.group_interval)
    return candidate if next_flush_at is None else min(next_flush_at, candidate)


def decide_flush(
    members: Sequence[Member],
    last_flush_at: datetime | None,
    timing: Timing,
    now: datetime,
) -> FlushDecision:
    visible_firing = [m for m in members if m.status == FIRING and not m.muted]
    # a resolved alert is announced only where its firing was announced
    resolved_notified = [m for m in members if m.status == RESOLVED and m.notified == FIRING]
    news = any(m.notified != FIRING for m in visible_firing) or bool(resolved_notified)
    unacked = [m for m in visible_firing if not m.acknowledged]
    repeat_due = (
        last_flush_at is not None
        and bool(unacked)
        and now >= last_flush_at + timing.repeat_interval
    )
    send = news or repeat_due
    include = tuple(m.alert_id for m in visible_firing + resolved_notified) if send else ()
    notified = {m.alert_id: FIRING for m in visible_firing} if send else {}
    drop = tuple(m.alert_id for m in members if m.status == RESOLVED)
    last = now if send else last_flush_at
    remaining = [m for m in members if m.status != RESOLVED]
    candidates: list[datetime] = []
    if unacked and last is not None:
        candidates.append(last + timing.repeat_interval)
    if any(m.muted for m in remaining):
        # mutes end without an event of this group (a silence expires, a source clears)
        candidates.append(now + timing.group_interval)
    return FlushDecision(
        send=send,
        reason=("group" if news else "repeat") if send else None,
        include=include,
        notified=notified,
        drop=drop,
        next_flush_at=min(candidates) if candidates else None,
        close=not remaining,
    )
