"""The dashboards, one module each; `ALL` in the order Grafana lists them."""

from __future__ import annotations

from brightwatch.dashboards.boards import city, elevator, kitchen, operations
from brightwatch.dashboards.model import Dashboard

ALL: tuple[Dashboard, ...] = (
    city.DASHBOARD,
    elevator.DASHBOARD,
    kitchen.DASHBOARD,
    operations.DASHBOARD,
)
