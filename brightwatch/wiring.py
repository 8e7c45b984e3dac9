"""The one place where packages are put together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from alerts.review.store import ReviewDesk
from alerts.routing.pipeline import NotificationPipeline
from alerts.store import AlertStore
from brightwatch.runtime import Runtime, utcnow
from brightwatch.settings import Settings


def build_alert_store(settings: Settings, clock: Callable[[], datetime] = utcnow) -> AlertStore:
    """The alert store with every reactor the service runs on an alert change."""
    store = AlertStore(settings.alerts, settings.topic_root, clock=clock)
    # notifications (routing, grouping, mutes, escalation), then the kitchen review queue
    pipeline = NotificationPipeline(settings.alerts, settings.topic_root, clock)
    store.add_reactor(pipeline)
    store.add_reactor(
        ReviewDesk(settings.alerts, pipeline, store, settings.data_dir, clock).on_alert_change
    )
    return store


def build_review_desk(runtime: Runtime) -> ReviewDesk:
    """The kitchen review desk on the runtime's alert store (API routes, the review clock)."""
    s = runtime.settings
    pipeline = NotificationPipeline(s.alerts, s.topic_root, runtime.clock)
    return ReviewDesk(s.alerts, pipeline, runtime.alert_store, s.data_dir, runtime.clock)


def build_runtime(settings: Settings, clock: Callable[[], datetime] = utcnow) -> Runtime:
    return Runtime(settings=settings, alert_store=build_alert_store(settings, clock), clock=clock)
