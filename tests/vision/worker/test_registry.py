"""The registry drives the worker: zones of the camera row (STRANGER in a restricted
zone), unknown cameras quarantined or auto-registered by BW_UNKNOWN_DEVICES."""

from __future__ import annotations

import cv2
import psycopg

from brightwatch.embedded import EmbeddedBroker
from brightwatch.registry import store
from brightwatch.registry.models import CameraRecord, SiteRecord, Zone
from brightwatch.settings import Settings
from tests.conftest import shared_path
from tests.support.waiting import wait_until
from tests.vision.worker.support import (
    SITE,
    Camera,
    alerts,
    jpeg,
    now_ms,
    processed,
    state,
    vision_running,
)
from tests.vision.worker.test_acceptance import COCO, PHONE_PICTURE


def test_registry_zones_and_quarantine(settings: Settings, broker: EmbeddedBroker) -> None:
    settings = settings.model_copy(
        update={"model": str(shared_path(*COCO)), "unknown_devices": "quarantine"}
    )
    db = settings.database_url.get_secret_value()
    with psycopg.connect(db) as conn:
        store.upsert_site(conn, SITE, SiteRecord(name="Sunny Canteen", district="Futian"))
        # the whole picture is a storage room nobody may enter (no allowed hours)
        room = Zone(name="store", kind="restricted", polygon=[(0, 0), (1, 0), (1, 1), (0, 1)])
        store.upsert_camera(conn, SITE, "cam1", CameraRecord(work_area="storage", zones=[room]))
    picture = jpeg(cv2.imread(str(shared_path(*PHONE_PICTURE))))
    known, unknown = (
        Camera(broker.port, settings.topic_root),
        Camera(broker.port, settings.topic_root, camera="cam9"),
    )
    start = now_ms() - 30_000
    try:
        with vision_running(settings):
            unknown.frames((start + k * 1000, picture) for k in range(6))
            known.frames((start + k * 1000, picture) for k in range(6))
            wait_until(lambda: processed(db, 6), timeout=120, what="cam1's frames")
    finally:
        known.close()
        unknown.close()
    stranger = alerts(db, "STRANGER")
    assert len(stranger) == 1 and stranger[0]["labels"]["zone"] == "store"
    assert stranger[0]["labels"]["district"] == "Futian" and stranger[0]["severity"] == "T2"
    assert stranger[0]["fingerprint"].endswith("|STRANGER|store")
    assert state(db, SITE, "cam9") is None  # quarantined: no state, no alert
    assert {a["device_id"] for a in alerts(db)} == {"cam1"}
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM camera WHERE camera_id = 'cam9'").fetchone() == (
            0,
        )


def test_unknown_cameras_auto_registered_in_accept_mode(
    settings: Settings, broker: EmbeddedBroker
) -> None:
    db = settings.database_url.get_secret_value()
    cam = Camera(broker.port, settings.topic_root, site="NEW1", camera="c7")
    try:
        with vision_running(settings):
            cam.send("availability", b"online")
            wait_until(lambda: state(db, "NEW1", "c7"), timeout=60, what="state of NEW1/c7")
    finally:
        cam.close()
    with psycopg.connect(db) as conn:
        row = conn.execute(
            "SELECT registered_by FROM camera WHERE site_id = 'NEW1' AND camera_id = 'c7'"
        ).fetchone()
    assert row == ("auto",)
