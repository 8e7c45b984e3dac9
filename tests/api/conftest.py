from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from brightwatch.api.app import create_app
from brightwatch.api.auth import create_token
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(build_runtime(settings))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def make_token(db_url: str):  # type: ignore[no-untyped-def]
    def make(role: str, firm_id: str | None = None, site_id: str | None = None) -> dict[str, str]:
        with psycopg.connect(db_url) as conn:
            _, token = create_token(conn, role, firm_id, site_id)
        return {"Authorization": f"Bearer {token}"}

    return make
