"""A settable server clock and a small registry for the ticket tests."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from brightwatch.alerts.store import AlertStore
from brightwatch.alerts.tickets.store import TicketDesk
from brightwatch.api.app import create_app
from brightwatch.api.auth import create_token
from brightwatch.settings import Settings
from brightwatch.wiring import build_alert_store, build_runtime
from tests.api.conftest import make_token  # noqa: F401  (the API token fixture, shared)

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> datetime:
        self.at += timedelta(**kw)
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def city(db_url: str) -> str:
    """Firms FA (webhook-less), FB (standby of E1), FC (district standby); elevators E1
    (firm FA, standby FB) and E2 (firm FB) in district D1."""
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO firm (firm_id, name) VALUES ('FA', 'A Lifts'), ('FB', 'B Lifts'),"
            " ('FC', 'C Lifts')"
        )
        conn.execute(
            "INSERT INTO site (site_id, kind, name, operator, address, district)"
            " VALUES ('S1', 'building', 'Tower', 'Tower Property Co', '1 Main St', 'D1')"
        )
        conn.execute(
            "INSERT INTO elevator (elevator_id, firm_id, standby_firm_id, site_id, district)"
            " VALUES ('E1', 'FA', 'FB', 'S1', 'D1'), ('E2', 'FB', NULL, 'S1', 'D1')"
        )
        conn.execute(
            "INSERT INTO district_standby_firm (district, rank, firm_id) VALUES ('D1', 1, 'FC')"
        )
    return db_url


@pytest.fixture
def store(settings: Settings, clock: Clock) -> AlertStore:
    return build_alert_store(settings, clock)


@pytest.fixture
def desk(store: AlertStore) -> TicketDesk:
    return next(r for r in store.reactors if isinstance(r, TicketDesk))


@pytest.fixture
def ticket_page(settings: Settings) -> Iterator[Callable[..., tuple[int, str]]]:
    """The console's page of a ticket as a caller of `role` (and scope) reads it in `lang`:
    (HTTP status, the fragment's text with its entities resolved)."""
    with TestClient(create_app(build_runtime(settings))) as client:

        def page(
            ticket_id: int, lang: str, role: str = "supervisor", **scope: str
        ) -> tuple[int, str]:
            with psycopg.connect(settings.database_url.get_secret_value()) as conn:
                _, token = create_token(conn, role, scope.get("firm_id"), scope.get("site_id"))
            r = client.get(
                f"/console/views/tickets/{ticket_id}?lang={lang}",
                headers={"Authorization": f"Bearer {token}"},
            )
            return r.status_code, html.unescape(r.text)

        yield page
