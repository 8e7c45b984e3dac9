"""Alert records, the signals rules send, and the changes the lifecycle makes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from brightwatch.contract.codes import SEVERITY_RANK


class AlertState(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


def fingerprint(
    kind: str, code: str, device_id: str, site_id: str | None = None, key: str = ""
) -> str:
    """Identity of a condition: the same fingerprint is the same alert while it is open."""
    parts = [kind, site_id or "", device_id, code]
    if key:
        parts.append(key)
    return "|".join(parts)


@dataclass(frozen=True)
class AlertSignal:
    """What a rule engine says: a condition is raised (active) or cleared."""

    kind: str
    code: str
    severity: str
    device_id: str
    active: bool
    at: datetime  # when the condition began / ended (device time where there is one)
    site_id: str | None = None
    summary: str = ""  # in the deployment's language (BW_LOCALE): the contract's summary
    evidence_url: str | None = None
    # distinguishes several simultaneous conditions of one code on one device (a zone)
    key: str = ""
    labels: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    source: str = "rule"
    # the summary in every language of the catalogue (i18n.in_every_locale), for readers
    # of another language than the deployment's; {} where the rule writes one language
    summaries: dict[str, str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.kind, self.code, self.device_id, self.site_id, self.key)


@dataclass(frozen=True)
class Alert:
    id: int | None
    kind: str
    code: str
    severity: str
    state: AlertState
    device_id: str
    site_id: str | None
    fingerprint: str
    started_at: datetime
    updated_at: datetime
    last_raised_at: datetime
    count: int = 1
    summary: str = ""
    evidence_url: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    summaries: dict[str, str] = field(default_factory=dict)  # AlertSignal.summaries

    @property
    def is_open(self) -> bool:
        return self.state != AlertState.RESOLVED

    def evolve(self, **changes: Any) -> Alert:
        return replace(self, **changes)


class Action(StrEnum):
    FIRED = "fired"  # a new alert
    REFIRED = "refired"  # raised again while open: count + 1
    REOPENED = "reopened"  # raised again within the flap window after clearing
    UPDATED = "updated"  # details changed, no new occurrence
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


# message type of interfaces.md for each action
MESSAGE_TYPE: dict[Action, str] = {
    Action.FIRED: "new",
    Action.REFIRED: "update",
    Action.REOPENED: "update",
    Action.UPDATED: "update",
    Action.ACKNOWLEDGED: "update",
    Action.RESOLVED: "resolved",
}


@dataclass(frozen=True)
class AlertChange:
    """One change of one alert: the record after it, what happened and who did it."""

    alert: Alert
    action: Action
    actor: str
    previous_state: AlertState | None
    note: str | None = None

    @property
    def message_type(self) -> str:
        return MESSAGE_TYPE[self.action]


def more_urgent(a: str, b: str) -> str:
    return a if SEVERITY_RANK.get(a, 9) <= SEVERITY_RANK.get(b, 9) else b
