"""Two vision replicas sharing the cameras through partition leases, on the real broker
and database: each camera's frames are stepped by its owner only, and when the owner
stops, the other takes the camera over with its saved state and its silence timer."""

from __future__ import annotations

import time

import psycopg

from brightwatch.components import ComponentSet
from brightwatch.db.partitions import live_owners, partition_of
from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from tests.support.components import started
from tests.support.waiting import wait_until
from tests.vision.worker.support import CAMERA, SITE, Camera, alerts, now_ms, processed, solid

PARTS = 4


def replica(settings: Settings, name: str) -> ComponentSet:
    vision = settings.vision.model_copy(
        update={"partitions": PARTS, "lease_ttl_s": 2.0, "offline_after_s": 8.0}
    )
    return started(
        settings.model_copy(update={"instance": name, "vision": vision}), "vision", "mqtt-vision"
    )


def owners(db: str) -> dict[int, str]:
    with psycopg.connect(db) as conn:
        return live_owners(conn, "vision")


def test_a_camera_moves_to_the_other_replica_with_its_state_and_timer(
    settings: Settings, broker: EmbeddedBroker
) -> None:
    db = settings.database_url.get_secret_value()
    a = replica(settings, "vis-a")
    b = replica(settings, "vis-b")
    running = {"vis-a": a, "vis-b": b}
    camera = Camera(broker.port, settings.topic_root)
    try:
        wait_until(
            lambda: len(owners(db)) == PARTS and set(owners(db).values()) == set(running),
            timeout=30,
            what="the partitions shared by both replicas",
        )
        owner = owners(db)[partition_of(f"{SITE}/{CAMERA}", PARTS)]
        start = now_ms()
        camera.frames((start + k * 1000, solid(90 + k)) for k in range(3))
        wait_until(lambda: processed(db, 3), timeout=30, what="3 frames")
        time.sleep(1.0)
        first = processed(db, 3)
        assert first is not None and first.frames == 3  # stepped once, by the owner only
        # the owner stops (its partitions are given back); the other one takes the camera
        running.pop(owner).shutdown()
        (other,) = running
        wait_until(lambda: set(owners(db).values()) == {other}, timeout=30, what="the takeover")
        camera.frames((start + k * 1000, solid(90 + k)) for k in range(3, 5))
        state = wait_until(lambda: processed(db, 5), timeout=30, what="5 frames")
        assert state.frames == 5  # the saved state went with the camera
        # the camera goes silent: its CAMERA_OFFLINE comes from the new owner, once
        wait_until(lambda: alerts(db, "CAMERA_OFFLINE"), timeout=40, what="CAMERA_OFFLINE")
        time.sleep(2.0)
        assert len(alerts(db, "CAMERA_OFFLINE")) == 1
    finally:
        camera.close()
        for components in running.values():
            components.shutdown()
