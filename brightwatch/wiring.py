"""The one place where packages are put together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from brightwatch.alerts.review.store import ReviewDesk
from brightwatch.alerts.routing.pipeline import NotificationPipeline
from brightwatch.alerts.store import AlertStore
from brightwatch.alerts.tickets.store import TicketDesk
from brightwatch.elevators.maintenance.reactor import on_alert_change as maintenance_on_alert_change
from brightwatch.runtime import Runtime, utcnow
from brightwatch.settings import Settings


@dataclass(frozen=True)
class Parts:
    """The alert store and the reactors on it that others call directly."""

    alert_store: AlertStore
    pipeline: NotificationPipeline
    reviews: ReviewDesk
    tickets: TicketDesk


def build_parts(settings: Settings, clock: Callable[[], datetime] = utcnow) -> Parts:
    """The alert store with every reactor the service runs on an alert change."""
    store = AlertStore(settings.alerts, settings.topic_root, clock=clock)
    # notifications (routing, grouping, mutes, escalation), then the kitchen review queue
    # what people read (e-mail, SMS, notices) in BW_LOCALE, times in BW_TIMEZONE
    pipeline = NotificationPipeline(
        settings.alerts,
        settings.topic_root,
        clock,
        locale=settings.locale,
        zone=settings.timezone,
    )
    store.add_reactor(pipeline)
    reviews = ReviewDesk(settings.alerts, pipeline, store, settings.data_dir, clock)
    store.add_reactor(reviews)
    # rescue and repair tickets from P1/P2 elevator alerts (alerts/tickets)
    tickets = build_ticket_desk(settings, store, clock)
    store.add_reactor(tickets)
    # elevators.md: every P1/P2 elevator fault recomputes the maintenance plan
    store.add_reactor(maintenance_on_alert_change)
    return Parts(store, pipeline, reviews, tickets)


def build_alert_store(settings: Settings, clock: Callable[[], datetime] = utcnow) -> AlertStore:
    return build_parts(settings, clock).alert_store


def build_ticket_desk(
    settings: Settings, store: AlertStore, clock: Callable[[], datetime] = utcnow
) -> TicketDesk:
    """The ticket desk on an alert store (the reactor, the SLA clock, the planner's opener)."""
    return TicketDesk(
        settings.alerts.tickets,
        store,
        settings.topic_root,
        settings.data_dir,
        clock,
        locale=settings.locale,
        zone=settings.timezone,
    )


def ticket_desk_of(runtime: Runtime) -> TicketDesk:
    return runtime.tickets


def pipeline_of(runtime: Runtime) -> NotificationPipeline:
    return runtime.pipeline


def review_desk_of(runtime: Runtime) -> ReviewDesk:
    return runtime.reviews


def build_runtime(settings: Settings, clock: Callable[[], datetime] = utcnow) -> Runtime:
    parts = build_parts(settings, clock)
    return Runtime(
        settings=settings,
        alert_store=parts.alert_store,
        pipeline=parts.pipeline,
        reviews=parts.reviews,
        tickets=parts.tickets,
        clock=clock,
    )
