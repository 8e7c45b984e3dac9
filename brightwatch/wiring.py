"""The one place where packages are put together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from alerts.store import AlertStore
from brightwatch.runtime import Runtime, utcnow
from brightwatch.settings import Settings


def build_alert_store(settings: Settings, clock: Callable[[], datetime] = utcnow) -> AlertStore:
    """The alert store with every reactor the service runs on an alert change."""
    from alerts.routing.pipeline import NotificationPipeline

    store = AlertStore(settings.alerts, settings.topic_root, clock=clock)
    store.add_reactor(NotificationPipeline(settings.alerts, settings.topic_root, clock))
    return store


def build_runtime(settings: Settings, clock: Callable[[], datetime] = utcnow) -> Runtime:
    return Runtime(settings=settings, alert_store=build_alert_store(settings, clock), clock=clock)
