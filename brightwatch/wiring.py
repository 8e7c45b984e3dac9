"""The one place where packages are put together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from alerts.review.store import ReviewDesk
from alerts.routing.pipeline import NotificationPipeline
from alerts.store import AlertStore
from alerts.tickets.store import TicketDesk
from brightwatch.runtime import Runtime, utcnow
from brightwatch.settings import Settings
from elevators.maintenance.reactor import on_alert_change as maintenance_on_alert_change

R = TypeVar("R")


def build_alert_store(settings: Settings, clock: Callable[[], datetime] = utcnow) -> AlertStore:
    """The alert store with every reactor the service runs on an alert change."""
    store = AlertStore(settings.alerts, settings.topic_root, clock=clock)
    # notifications (routing, grouping, mutes, escalation), then the kitchen review queue
    pipeline = NotificationPipeline(settings.alerts, settings.topic_root, clock)
    store.add_reactor(pipeline)
    store.add_reactor(ReviewDesk(settings.alerts, pipeline, store, settings.data_dir, clock))
    # rescue and repair tickets from P1/P2 elevator alerts (alerts/tickets)
    store.add_reactor(build_ticket_desk(settings, store, clock))
    # elevators.md: every P1/P2 elevator fault recomputes the maintenance plan
    store.add_reactor(maintenance_on_alert_change)
    return store


def build_ticket_desk(
    settings: Settings, store: AlertStore, clock: Callable[[], datetime] = utcnow
) -> TicketDesk:
    """The ticket desk on an alert store (the reactor, the SLA clock, the planner's opener)."""
    return TicketDesk(settings.alerts.tickets, store, settings.topic_root, settings.data_dir, clock)


def _reactor_of(runtime: Runtime, kind: type[R]) -> R:
    """The object of `kind` build_alert_store put on the runtime's alert store (one each:
    components and API routes share it rather than building their own)."""
    return next(r for r in runtime.alert_store.reactors if isinstance(r, kind))


def ticket_desk_of(runtime: Runtime) -> TicketDesk:
    return _reactor_of(runtime, TicketDesk)


def pipeline_of(runtime: Runtime) -> NotificationPipeline:
    return _reactor_of(runtime, NotificationPipeline)


def review_desk_of(runtime: Runtime) -> ReviewDesk:
    return _reactor_of(runtime, ReviewDesk)


def build_runtime(settings: Settings, clock: Callable[[], datetime] = utcnow) -> Runtime:
    return Runtime(settings=settings, alert_store=build_alert_store(settings, clock), clock=clock)
