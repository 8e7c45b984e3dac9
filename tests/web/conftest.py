from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from brightwatch.api.app import create_app
from brightwatch.api.auth import create_token
from brightwatch.registry import store
from brightwatch.registry.models import CameraRecord, OpeningHours, SiteRecord
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime

# a Friday, 12:00 in Shanghai
NOON = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return settings


@pytest.fixture
def web_client(web_settings: Settings, clock: Clock) -> Iterator[TestClient]:
    app = create_app(build_runtime(web_settings, clock=clock))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def make_token(db_url: str) -> Callable[..., dict[str, str]]:
    def make(role: str, firm_id: str | None = None, site_id: str | None = None) -> dict[str, str]:
        with psycopg.connect(db_url) as conn:
            _, token = create_token(conn, role, firm_id, site_id)
        return {"Authorization": f"Bearer {token}"}

    return make


def register_kitchen(db_url: str, site_id: str = "K1") -> None:
    """A kitchen open 06:00-22:00 with a public cooking camera, a private one, and a
    public camera on a storage room (never shown)."""
    with psycopg.connect(db_url) as conn:
        store.upsert_site(
            conn,
            site_id,
            SiteRecord(
                name="Sunny Canteen",
                operator="Sunny Catering Ltd",
                address="1 Market Street",
                district="Futian",
                operating_hours=[OpeningHours(days="daily", open="06:00", close="22:00")],
            ),
        )
        store.upsert_camera(conn, site_id, "hot", CameraRecord(work_area="cooking", is_public=True))
        store.upsert_camera(
            conn, site_id, "cold", CameraRecord(work_area="cutting", is_public=False)
        )
        store.upsert_camera(
            conn, site_id, "store", CameraRecord(work_area="storage", is_public=True)
        )
        store.upsert_site(conn, "B1", SiteRecord(kind="building", name="Tower"))


def put_snapshot(data_dir: Path, site_id: str, camera_id: str, jpeg: bytes) -> Path:
    path = data_dir / "snapshots" / site_id / f"{camera_id}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jpeg)
    return path
