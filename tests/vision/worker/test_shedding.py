"""A node over its capacity sheds late frames (`[vision] shed_after_s`): a frame that
reaches the detectors longer after it was taken than the setting allows is looked at for
the camera's presence and picture health, not inferred, and counted; frames on time go
on being inferred, and a worker that is not behind infers every frame. A real broker,
database and worker; a constant ONNX detector."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from brightwatch.vision.rules.state import CameraState
from tests.support.waiting import wait_until
from tests.vision.synthetic import constant_detector
from tests.vision.worker.support import Camera, now_ms, solid, state, vision_running

SHED = "brightwatch_vision_frames_shed_total"
LATE_BY_S = 1.5  # how much later than the camera's usual the second frame arrives


def _seen_at(db: str, ts: int) -> CameraState | None:
    st = state(db)
    return st if st is not None and (st.last_health or 0) >= ts else None


@pytest.mark.parametrize(
    ("shed_after_s", "batch_wait_ms", "inferred"),
    [
        (1.0, 600, 2),  # behind: the late frame is shed
        (0.0, 600, 3),  # shedding off
        (1.0, 50, 3),  # a worker that is not behind infers a late frame (a spool replay)
    ],
)
def test_a_frame_that_comes_too_late_is_seen_but_not_inferred(
    settings: Settings,
    broker: EmbeddedBroker,
    tmp_path: Path,
    shed_after_s: float,
    batch_wait_ms: int,
    inferred: int,
) -> None:
    db = settings.database_url.get_secret_value()
    model = constant_detector(tmp_path / "box.onnx", [[160, 160, 80, 80, 0.8]], ["box"])
    # every message waits for its batch to fill: 0.6 s in this worker is at least the
    # quarter of shed_after_s that tells a worker that is behind, 0.05 s is not
    vision = settings.vision.model_copy(
        update={"shed_after_s": shed_after_s, "batch_wait_ms": batch_wait_ms}
    )
    settings = settings.model_copy(update={"model": str(model), "vision": vision})
    camera = Camera(broker.port, settings.topic_root)
    shed_before = REGISTRY.get_sample_value(SHED) or 0.0
    try:
        with vision_running(settings) as components:
            first = now_ms()
            camera.frames([(first, solid(80))])  # on time: the camera's clock offset
            wait_until(lambda: _seen_at(db, first), timeout=30, what="the first frame")
            time.sleep(LATE_BY_S)
            # taken 100 ms after the first, arriving 1.5 s later than that: as a frame
            # held in a broker queue behind a node over its capacity
            late = first + 100
            camera.frames([(late, solid(90))])
            wait_until(lambda: _seen_at(db, late), timeout=30, what="the late frame")
            fresh = now_ms()
            camera.frames([(fresh, solid(100))])
            st = wait_until(lambda: _seen_at(db, fresh), timeout=30, what="a frame on time")
            counters = components.runtime.progress["vision"]().counters
    finally:
        camera.close()
    shed = 3 - inferred
    # every frame kept the camera seen and measured; the late one was not looked at
    assert st.last_seen == fresh and st.last_health == fresh
    assert st.frames == inferred
    assert counters["frames_shed"] == shed
    assert (REGISTRY.get_sample_value(SHED) or 0.0) - shed_before == shed
