"""Issue 15's acceptance: a delivery-only kitchen with a public camera that never
streams is counted registered and not covered, gets CAMERA_OFFLINE (inside its
operating hours), and its public page shows no grade it has not earned."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from fastapi.testclient import TestClient

from brightwatch.api.app import create_app
from brightwatch.embedded import EmbeddedBroker
from brightwatch.registry import store
from brightwatch.registry.models import CameraRecord, OpeningHours, SiteRecord
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from tests.support.waiting import wait_until
from tests.vision.worker.support import alerts, vision_running

SITE = "JY14403050000009"


def hours_around_now() -> OpeningHours:
    """Open from two hours ago to two hours ahead (Shanghai time): the test runs inside
    the operating hours, as CAMERA_OFFLINE counts only then."""
    local = datetime.now(ZoneInfo("Asia/Shanghai"))
    return OpeningHours(
        days="daily",
        open=(local - timedelta(hours=2)).strftime("%H:%M"),
        close=(local + timedelta(hours=2)).strftime("%H:%M"),
    )


def test_a_delivery_only_kitchen_that_never_streams(
    settings: Settings, broker: EmbeddedBroker, make_token: Any
) -> None:
    vision = settings.vision.model_copy(update={"offline_after_s": 1.0, "registry_ttl_s": 0.5})
    settings = settings.model_copy(update={"vision": vision})
    db = settings.database_url.get_secret_value()
    with psycopg.connect(db) as conn:
        store.upsert_site(
            conn,
            SITE,
            SiteRecord(
                name="外卖小厨",
                district="福田区",
                kitchen_type="delivery_only",
                operating_hours=[hours_around_now()],
            ),
        )
        store.upsert_camera(conn, SITE, "c1", CameraRecord(work_area="cooking", is_public=True))
    with vision_running(settings):
        wait_until(lambda: alerts(db, "CAMERA_OFFLINE"), timeout=60, what="CAMERA_OFFLINE")
    (offline,) = alerts(db, "CAMERA_OFFLINE")
    assert offline["site_id"] == SITE and offline["device_id"] == "c1"

    sup = make_token("supervisor")
    with TestClient(create_app(build_runtime(settings)), raise_server_exceptions=False) as c:
        got = c.get("/api/v1/stats/kitchens/coverage", headers=sup).json()
        assert (got["registered"], got["covered"], got["coverage_rate"]) == (1, 0, 0.0)
        assert got["by_type"]["delivery_only"] == {
            "registered": 1,
            "covered": 0,
            "coverage_rate": 0.0,
        }
        lists = c.get("/api/v1/stats/kitchen-lists", headers=sup).json()
        (black,) = lists["black_list"]
        assert black["site_id"] == SITE and black["hygiene_score"] is None
        assert "not streaming" in black["reasons"] and lists["red_list"] == []
        for lang in ("en", "zh-CN"):
            page = c.get(f"/public/kitchens/{SITE}", params={"lang": lang})
            assert page.status_code == 200, page.text
            for letter in "ABCD":
                assert f'class="big">{letter}<' not in page.text
                assert f"grade-{letter}" not in page.text
            assert "100<small>" not in page.text
            assert 'class="big">—<' in page.text  # no data: no grade shown
