"""What a running component is given: settings, addresses, the alert store and the desks
built on it (notification pipeline, review desk, ticket desk), a clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from brightwatch.alerts.review.store import ReviewDesk
from brightwatch.alerts.routing.pipeline import NotificationPipeline
from brightwatch.alerts.store import AlertStore
from brightwatch.alerts.tickets.store import TicketDesk
from brightwatch.mqttlink.client import BrokerAddress, parse_mqtt_url
from brightwatch.progress import ProgressSource, Verdict, Watch
from brightwatch.settings import Settings

if TYPE_CHECKING:
    from brightwatch.health import RuntimeHealth


def utcnow() -> datetime:
    return datetime.now(UTC)


HealthProbe = Callable[[], bool]


def broker_of(settings: Settings, protocol: str | None = None) -> BrokerAddress:
    """The broker the settings name (BW_MQTT_URL, BW_MQTT_PROTOCOL unless `protocol` is
    given, BW_MQTT_CA_FILE)."""
    return parse_mqtt_url(
        settings.mqtt_url.get_secret_value(),
        protocol or settings.mqtt_protocol,
        settings.mqtt_ca_file,
    )


@dataclass
class Runtime:
    settings: Settings
    alert_store: AlertStore
    # the reactors brightwatch.wiring put on the alert store, one each, shared by the
    # components and the API
    pipeline: NotificationPipeline
    reviews: ReviewDesk
    tickets: TicketDesk
    clock: Callable[[], datetime] = utcnow
    # name -> probe; /healthz reports each (e.g. "mqtt": the ingest consumer is connected)
    health: dict[str, HealthProbe] = field(default_factory=dict)
    # name -> progress of a loop (brightwatch.progress): "elevators", "alerts.outbox", ...;
    # /healthz names the stuck ones, the heartbeat writes them for the API's /healthz
    progress: dict[str, ProgressSource] = field(default_factory=dict)
    # set once every component of this process has started
    started: threading.Event = field(default_factory=threading.Event)

    @property
    def database_url(self) -> str:
        return self.settings.database_url.get_secret_value()

    @cached_property
    def broker(self) -> BrokerAddress:
        return broker_of(self.settings)

    @cached_property
    def watch(self) -> Watch:
        h = self.settings.health
        return Watch(h.failing_after_s, h.stalled_after_s)

    def verdicts(self) -> list[Verdict]:
        """Every progress source of this process, judged now."""
        return [self.watch.judge(name, source()) for name, source in list(self.progress.items())]

    @cached_property
    def system_health(self) -> RuntimeHealth:
        from brightwatch.health import RuntimeHealth

        return RuntimeHealth(self)

    def reports_on_broker(self) -> bool:
        """Whether a component of this process already tells the broker's health."""
        return any(k.startswith("mqtt") for k in self.health)

    def client_id(self, component: str, n: int = 0) -> str:
        """Stable per instance and component, so persistent sessions survive restarts."""
        return f"{self.settings.instance}-{component}-{n}"
