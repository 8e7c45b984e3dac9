"""The alert lifecycle as pure functions: (current alert, input) -> change or None.

firing --ack--> acknowledged; firing/acknowledged --clear or resolve--> resolved.
A raise while open is a new occurrence (count + 1). A raise within the flap window after
a rule cleared the alert reopens it (elevators.md: a fault that flaps stays one alert
with a count); after a person resolved it, a raise opens a new alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from brightwatch.alerts.model import (
    Action,
    Alert,
    AlertChange,
    AlertSignal,
    AlertState,
    more_urgent,
)

RULE_ACTOR = "rule"


def on_signal(
    open_alert: Alert | None,
    last_resolved: Alert | None,
    signal: AlertSignal,
    now: datetime,
    flap_window: timedelta,
) -> AlertChange | None:
    actor = f"{RULE_ACTOR}:{signal.source}"
    if signal.active:
        if open_alert is not None:
            changed = open_alert.evolve(
                severity=more_urgent(open_alert.severity, signal.severity),
                count=open_alert.count + 1,
                updated_at=now,
                last_raised_at=signal.at,
                summary=signal.summary or open_alert.summary,
                summaries=signal.summaries if signal.summary else open_alert.summaries,
                evidence_url=signal.evidence_url or open_alert.evidence_url,
                labels={**open_alert.labels, **signal.labels},
                details={**open_alert.details, **signal.details},
            )
            return AlertChange(changed, Action.REFIRED, actor, open_alert.state)
        if (
            last_resolved is not None
            and (last_resolved.resolved_by or "").startswith(RULE_ACTOR)
            and last_resolved.resolved_at is not None
            and signal.at - last_resolved.resolved_at <= flap_window
        ):
            reopened = last_resolved.evolve(
                state=AlertState.FIRING,
                severity=more_urgent(last_resolved.severity, signal.severity),
                count=last_resolved.count + 1,
                updated_at=now,
                last_raised_at=signal.at,
                resolved_at=None,
                resolved_by=None,
                summary=signal.summary or last_resolved.summary,
                summaries=signal.summaries if signal.summary else last_resolved.summaries,
                evidence_url=signal.evidence_url or last_resolved.evidence_url,
                labels={**last_resolved.labels, **signal.labels},
                details={**last_resolved.details, **signal.details},
            )
            return AlertChange(reopened, Action.REOPENED, actor, AlertState.RESOLVED)
        new = Alert(
            id=None,
            kind=signal.kind,
            code=signal.code,
            severity=signal.severity,
            state=AlertState.FIRING,
            device_id=signal.device_id,
            site_id=signal.site_id,
            fingerprint=signal.fingerprint,
            started_at=signal.at,
            updated_at=now,
            last_raised_at=signal.at,
            count=1,
            summary=signal.summary,
            summaries=dict(signal.summaries),
            evidence_url=signal.evidence_url,
            labels=dict(signal.labels),
            details=dict(signal.details),
        )
        return AlertChange(new, Action.FIRED, actor, None)
    if open_alert is None:
        return None
    cleared = open_alert.evolve(
        state=AlertState.RESOLVED,
        updated_at=now,
        resolved_at=max(signal.at, open_alert.started_at),
        resolved_by=actor,
        details={**open_alert.details, **signal.details},
    )
    return AlertChange(cleared, Action.RESOLVED, actor, open_alert.state)


class IllegalAction(ValueError):
    """A person's action that the alert's state does not allow (HTTP 409)."""


def acknowledge(alert: Alert, actor: str, now: datetime, note: str | None = None) -> AlertChange:
    if alert.state != AlertState.FIRING:
        raise IllegalAction(
            f"alert {alert.id} is {alert.state}, only a firing alert can be acknowledged"
        )
    changed = alert.evolve(
        state=AlertState.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=actor, updated_at=now
    )
    return AlertChange(changed, Action.ACKNOWLEDGED, actor, alert.state, note)


def resolve(alert: Alert, actor: str, now: datetime, note: str | None = None) -> AlertChange:
    if alert.state == AlertState.RESOLVED:
        raise IllegalAction(f"alert {alert.id} is already resolved")
    changed = alert.evolve(
        state=AlertState.RESOLVED, resolved_at=now, resolved_by=actor, updated_at=now
    )
    return AlertChange(changed, Action.RESOLVED, actor, alert.state, note)
