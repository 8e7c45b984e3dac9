"""What the HTTP app is handed by the shell (`create_app(parts)`): settings, the alert
store and the desks on it, the clock, the addresses, and the shell's view of the system's
health. A protocol, so that the API never imports the shell: the shell's `Runtime` is
one (brightwatch.wiring builds it), a test may hand in its own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from brightwatch.alerts.review.store import ReviewDesk
from brightwatch.alerts.routing.pipeline import NotificationPipeline
from brightwatch.alerts.settings import AlertSettings
from brightwatch.alerts.store import AlertStore
from brightwatch.alerts.tickets.store import TicketDesk
from brightwatch.api.settings import ApiSettings
from brightwatch.db.heartbeat import Heartbeat
from brightwatch.mqttlink.client import BrokerAddress


class AppSettings(Protocol):
    @property
    def api(self) -> ApiSettings: ...

    @property
    def alerts(self) -> AlertSettings: ...

    @property
    def data_dir(self) -> Path: ...

    @property
    def topic_root(self) -> str: ...

    @property
    def locale(self) -> str: ...

    @property
    def timezone(self) -> str: ...


class SystemHealth(Protocol):
    """How the shell judges components (brightwatch.health): this process's own, and
    every replica's from their heartbeat rows."""

    def probes(self, mqtt_fallback: Callable[[], bool] | None) -> dict[str, str]: ...

    def own(self) -> list[dict[str, Any]]: ...

    def system(self, rows: Sequence[Heartbeat]) -> list[dict[str, Any]]: ...

    def report(
        self, parts: dict[str, str], replicas: list[dict[str, Any]]
    ) -> tuple[int, dict[str, Any]]: ...


class AppParts(Protocol):
    @property
    def settings(self) -> AppSettings: ...

    @property
    def database_url(self) -> str: ...

    @property
    def broker(self) -> BrokerAddress: ...

    @property
    def alert_store(self) -> AlertStore: ...

    @property
    def pipeline(self) -> NotificationPipeline: ...

    @property
    def reviews(self) -> ReviewDesk: ...

    @property
    def tickets(self) -> TicketDesk: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...

    @property
    def system_health(self) -> SystemHealth: ...

    def client_id(self, component: str, n: int = 0) -> str: ...

    def reports_on_broker(self) -> bool:
        """Whether a consumer of this process already tells the broker's health."""
        ...
