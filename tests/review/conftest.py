from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from brightwatch.alerts.review.store import ReviewDesk
from brightwatch.alerts.routing.settings import NotifySettings
from brightwatch.alerts.settings import AlertSettings
from brightwatch.api.app import create_app
from brightwatch.runtime import Runtime
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime, review_desk_of
from tests.alerts.notify_support import Clock
from tests.api.conftest import make_token  # noqa: F401  (fixture)

NOTICES = NotifySettings(
    route={
        "receiver": "default",
        "group_by": ["kind", "location"],
        "group_wait_s": 30,
        "group_interval_s": 300,
        "repeat_interval_s": 14400,
        "routes": [
            # a notice goes to the kitchen's operator and to the district's officer
            {
                "name": "operator",
                "matchers": ["notice=~.+"],
                "receiver": "kitchen-operator",
                "continue": True,
            },
            {"name": "officer", "matchers": ["notice=~.+"], "receiver": "officer"},
        ],
    },
    receivers={
        "default": [],
        "bureau-duty": [],
        "kitchen-operator": [{"channel": "sms", "target": "{contact.phone}"}],
        "officer": [{"channel": "email", "target": "officer-{district}@bureau.example"}],
    },
)


@dataclass
class App:
    client: TestClient
    runtime: Runtime
    clock: Clock
    conn: psycopg.Connection[Any]
    desk: ReviewDesk

    def tick(self) -> int:
        """One pass of the review clock (the `alerts` component runs it every tick)."""
        return self.desk.clock_step(self.conn)


@pytest.fixture
def app(settings: Settings, db_url: str) -> Iterator[App]:
    clock = Clock()
    settings = settings.model_copy(update={"alerts": AlertSettings(notify=NOTICES)})
    runtime = build_runtime(settings, clock)
    with (
        TestClient(create_app(runtime), raise_server_exceptions=False) as client,
        psycopg.connect(db_url, autocommit=True) as conn,
    ):
        yield App(client, runtime, clock, conn, review_desk_of(runtime))
