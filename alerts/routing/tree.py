"""The routing tree: which receivers an alert goes to and how it is grouped.

Alertmanager's semantics: a route matches when all its matchers match; its children are
tried in order and the first matching child wins (unless it says `continue`, then its
later siblings are tried too); a route none of whose children match is itself the
result. Children inherit every unset field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from brightwatch.alerts.routing.matchers import match_all, parse
from brightwatch.alerts.routing.settings import RouteSettings

ALL_LABELS = "..."


@dataclass(frozen=True)
class RoutePlan:
    """A matched route with everything inherited filled in."""

    path: str  # "root/urgent": stable identity of the route in group keys
    receiver: str
    group_by: tuple[str, ...]
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta

    def group_labels(self, labels: Mapping[str, Any]) -> dict[str, str]:
        if ALL_LABELS in self.group_by:
            return {k: str(v) for k, v in sorted(labels.items()) if v is not None}
        return {k: str(labels[k]) for k in self.group_by if labels.get(k) not in (None, "")}

    def group_key(self, labels: Mapping[str, Any]) -> str:
        """Alertmanager-style key: {route matchers}:{group labels}, plus the receiver."""
        glabels = self.group_labels(labels)
        inner = ", ".join(f'{k}="{v}"' for k, v in sorted(glabels.items()))
        return f"{self.path}:{self.receiver}:{{{inner}}}"


def _merge(parent: RoutePlan, node: RouteSettings, path: str) -> RoutePlan:
    return RoutePlan(
        path=path,
        receiver=node.receiver or parent.receiver,
        group_by=tuple(node.group_by) if node.group_by is not None else parent.group_by,
        group_wait=timedelta(seconds=node.group_wait_s)
        if node.group_wait_s is not None
        else parent.group_wait,
        group_interval=timedelta(seconds=node.group_interval_s)
        if node.group_interval_s is not None
        else parent.group_interval,
        repeat_interval=timedelta(seconds=node.repeat_interval_s)
        if node.repeat_interval_s is not None
        else parent.repeat_interval,
    )


def root_plan(root: RouteSettings) -> RoutePlan:
    assert root.receiver is not None and root.group_by is not None
    assert root.group_wait_s is not None and root.group_interval_s is not None
    assert root.repeat_interval_s is not None
    return RoutePlan(
        path=root.name or "root",
        receiver=root.receiver,
        group_by=tuple(root.group_by),
        group_wait=timedelta(seconds=root.group_wait_s),
        group_interval=timedelta(seconds=root.group_interval_s),
        repeat_interval=timedelta(seconds=root.repeat_interval_s),
    )


def _walk(node: RouteSettings, plan: RoutePlan, labels: Mapping[str, Any]) -> list[RoutePlan]:
    found: list[RoutePlan] = []
    for i, child in enumerate(node.routes):
        if not match_all((parse(m) for m in child.matchers), labels):
            continue
        child_plan = _merge(plan, child, f"{plan.path}/{child.name or i}")
        found.extend(_walk(child, child_plan, labels))
        if not child.continue_:
            break
    return found or [plan]


def route(root: RouteSettings, labels: Mapping[str, Any]) -> list[RoutePlan]:
    """Every route (with its receiver) an alert with these labels is notified through."""
    return _walk(root, root_plan(root), labels)
