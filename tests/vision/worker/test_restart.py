"""Rule state survives a restart of the vision worker (table vision_rule_state): a window
half-filled before the restart is completed after it, and an episode that raised its
alert before the restart does not raise it again after it."""

from __future__ import annotations

import cv2

from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from tests.conftest import shared_path
from tests.support.waiting import wait_until
from tests.vision.worker.support import Camera, alerts, jpeg, now_ms, processed, vision_running
from tests.vision.worker.test_acceptance import COCO, PHONE_PICTURE


def test_restarts_neither_lose_nor_repeat_a_phone_episode(
    settings: Settings, broker: EmbeddedBroker
) -> None:
    settings = settings.model_copy(update={"model": str(shared_path(*COCO))})
    db = settings.database_url.get_secret_value()
    picture = jpeg(cv2.imread(str(shared_path(*PHONE_PICTURE))))
    start = now_ms() - 60_000
    camera = Camera(broker.port, settings.topic_root)
    try:
        # two frames: not yet 3 of 5
        with vision_running(settings):
            camera.frames((start + k * 1000, picture) for k in range(2))
            wait_until(lambda: processed(db, 2), timeout=120, what="2 frames")
        assert alerts(db, "PHONE") == []
        # restarted: frames 3 and 4 complete the window (3 of 5 over 3 s) -> raised once
        with vision_running(settings):
            camera.frames((start + k * 1000, picture) for k in range(2, 4))
            wait_until(lambda: processed(db, 4), timeout=120, what="4 frames")
        phone = alerts(db, "PHONE")
        assert len(phone) == 1 and phone[0]["count"] == 1, phone
        # restarted again: the episode goes on; no second raise
        with vision_running(settings):
            camera.frames((start + k * 1000, picture) for k in range(4, 9))
            wait_until(lambda: processed(db, 9), timeout=120, what="9 frames")
        phone = alerts(db, "PHONE")
        assert len(phone) == 1 and phone[0]["count"] == 1, phone
    finally:
        camera.close()
