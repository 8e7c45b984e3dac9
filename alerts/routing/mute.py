"""Silences and inhibition: which alerts are muted, and by what. Pure functions.

A muted alert stays open and keeps its history; it is left out of notifications and
escalations while muted. Silences are time-boxed matchers set by a person; an
inhibition rule mutes targets while a matching source alert is open, when the `equal`
labels have the same value in both (POWER_FAIL mutes door faults of the same elevator).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from brightwatch.alerts.routing.matchers import Matcher, match_all
from brightwatch.alerts.routing.settings import InhibitRule


@dataclass(frozen=True)
class Silence:
    id: int
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def matches(self, labels: Mapping[str, str]) -> bool:
        return bool(self.matchers) and match_all(self.matchers, labels)


@dataclass(frozen=True)
class Rule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    @classmethod
    def compile(cls, rule: InhibitRule) -> Rule:
        return cls(
            tuple(Matcher.parse(m) for m in rule.source_matchers),
            tuple(Matcher.parse(m) for m in rule.target_matchers),
            tuple(rule.equal),
        )


@dataclass(frozen=True)
class LabelledAlert:
    id: int
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Mute:
    silenced_by: tuple[int, ...] = ()
    inhibited_by: tuple[int, ...] = ()

    @property
    def muted(self) -> bool:
        return bool(self.silenced_by or self.inhibited_by)


@dataclass
class MuteChange:
    alert_id: int
    before: Mute
    after: Mute
    events: list[tuple[str, dict[str, list[int]]]] = field(default_factory=list)


def silenced_by(
    labels: Mapping[str, str], silences: Iterable[Silence], now: datetime
) -> tuple[int, ...]:
    return tuple(sorted(s.id for s in silences if s.active(now) and s.matches(labels)))


def inhibited_by(
    target: LabelledAlert, sources: Sequence[LabelledAlert], rules: Sequence[Rule]
) -> tuple[int, ...]:
    found: set[int] = set()
    for rule in rules:
        if not match_all(rule.target, target.labels):
            continue
        for src in sources:
            if src.id == target.id or not match_all(rule.source, src.labels):
                continue
            # Alertmanager: equal labels must be equal, a label missing from both counts as equal
            if all(target.labels.get(n, "") == src.labels.get(n, "") for n in rule.equal):
                found.add(src.id)
    return tuple(sorted(found))


def compute(
    target: LabelledAlert,
    silences: Iterable[Silence],
    sources: Sequence[LabelledAlert],
    rules: Sequence[Rule],
    now: datetime,
) -> Mute:
    return Mute(silenced_by(target.labels, silences, now), inhibited_by(target, sources, rules))


def changes(alert_id: int, before: Mute, after: Mute) -> MuteChange:
    """History events for a change of mute: silenced / inhibited / unsilenced / uninhibited."""
    change = MuteChange(alert_id, before, after)
    if after.silenced_by and set(after.silenced_by) != set(before.silenced_by):
        change.events.append(("silenced", {"silences": list(after.silenced_by)}))
    if before.silenced_by and not after.silenced_by:
        change.events.append(("unsilenced", {"silences": list(before.silenced_by)}))
    if after.inhibited_by and set(after.inhibited_by) != set(before.inhibited_by):
        change.events.append(("inhibited", {"sources": list(after.inhibited_by)}))
    if before.inhibited_by and not after.inhibited_by:
        change.events.append(("uninhibited", {"sources": list(before.inhibited_by)}))
    return change
