"""The snapshot's sidecar (vision.snapshots): the person boxes of the frame the public
picture is made from, taken only when they belong to that very JPEG."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from brightwatch.vision import snapshots
from brightwatch.vision.snapshots import read_snapshot, sidecar, sidecar_path, snapshot_path
from tests.conftest import shared_path
from tests.support.waiting import wait_until
from tests.vision.worker.support import (
    Camera,
    data_file,
    jpeg,
    now_ms,
    solid,
    vision_running,
)

SITE, CAM = "K1", "hot"


def frame(value: int) -> bytes:
    rng = np.random.default_rng(value)
    return jpeg(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))


def test_a_sidecar_is_read_with_its_frame_and_scaled(tmp_path: Path) -> None:
    data = frame(1)
    snapshots.write_frame(tmp_path, SITE, CAM, data)
    snapshots.write_sidecar(
        tmp_path, SITE, CAM, sidecar(data, 1_700_000_000_000, 640, 480, [(64, 48, 320, 480)])
    )
    snap = read_snapshot(tmp_path, SITE, CAM)
    assert snap is not None and snap.jpeg == data and snap.frame is not None
    assert snap.frame.ts == 1_700_000_000_000
    # the boxes are pixels of the 640 x 480 frame: a 160 x 120 copy gets them at 1/4
    assert snap.frame.persons_in(160, 120) == [(16.0, 12.0, 80.0, 120.0)]
    assert json.loads(sidecar_path(tmp_path, SITE, CAM).read_text())["persons"] == [
        [64.0, 48.0, 320.0, 480.0]
    ]


def test_a_sidecar_of_an_older_frame_is_ignored(tmp_path: Path) -> None:
    old, new = frame(1), frame(2)
    snapshots.write_frame(tmp_path, SITE, CAM, old)
    snapshots.write_sidecar(tmp_path, SITE, CAM, sidecar(old, 1000, 160, 120, [(0, 0, 50, 90)]))
    snapshots.write_frame(tmp_path, SITE, CAM, new)  # its persons are not known (yet)
    snap = read_snapshot(tmp_path, SITE, CAM, attempts=2, wait_s=0.001)
    assert snap is not None and snap.jpeg == new and snap.frame is None
    # once the new frame's own sidecar comes, it is taken
    snapshots.write_sidecar(tmp_path, SITE, CAM, sidecar(new, 2000, 160, 120, []))
    snap = read_snapshot(tmp_path, SITE, CAM)
    assert snap is not None and snap.frame is not None and snap.frame.ts == 2000


def test_no_snapshot_no_sidecar_and_a_broken_sidecar(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert read_snapshot(tmp_path, SITE, CAM) is None
    assert snapshots.stamp(tmp_path, SITE, CAM) is None
    data = frame(3)
    snapshots.write_frame(tmp_path, SITE, CAM, data)
    snap = read_snapshot(tmp_path, SITE, CAM)
    assert snap is not None and snap.frame is None  # no sidecar: faces alone
    stamp = snapshots.stamp(tmp_path, SITE, CAM)
    assert stamp is not None and stamp[1] is None
    sidecar_path(tmp_path, SITE, CAM).write_text('{"ts": 1, "width": -3}')
    snap = read_snapshot(tmp_path, SITE, CAM)
    assert snap is not None and snap.frame is None
    assert "unreadable" in caplog.text


@pytest.mark.parametrize(
    ("size", "persons"),
    [((0, 480), []), ((640, -1), []), ((640, 480), [(1.0, 2.0, float("nan"), 4.0)])],
)
def test_a_sidecar_that_cannot_be_right_is_refused(
    size: tuple[int, int], persons: list[tuple[float, float, float, float]]
) -> None:
    with pytest.raises(ValueError):
        sidecar(b"x", 1, size[0], size[1], persons)


def test_readers_never_see_half_a_file_nor_another_frame_s_boxes(tmp_path: Path) -> None:
    """A writer replaces frame and sidecar 150 times (frame k has k persons) while a reader
    reads: each read is whole, and a sidecar is only ever taken with its own frame."""
    frames = [frame(k) for k in range(150)]
    done = threading.Event()

    def write() -> None:
        for k, data in enumerate(frames):
            snapshots.write_frame(tmp_path, SITE, CAM, data)
            side = sidecar(data, k, 160, 120, [(k, 0, k + 10, 20)] * (k % 5))
            snapshots.write_sidecar(tmp_path, SITE, CAM, side)
        done.set()

    snapshots.write_frame(tmp_path, SITE, CAM, frames[0])
    writer = threading.Thread(target=write)
    writer.start()
    reads = described = 0
    while not done.is_set():
        snap = read_snapshot(tmp_path, SITE, CAM, attempts=1)
        assert snap is not None and snap.jpeg in frames
        if snap.frame is not None:
            k = frames.index(snap.jpeg)
            assert snap.frame.ts == k and len(snap.frame.persons) == k % 5
            described += 1
        reads += 1
    writer.join(10)
    assert reads > 0 and described > 0
    assert sorted(p.name for p in snapshot_path(tmp_path, SITE, CAM).parent.iterdir()) == [
        f"{CAM}.jpg",
        f"{CAM}.json",
    ]  # no temporary file left behind


def test_the_worker_describes_an_edge_camera_s_snapshot(
    settings: Settings, broker: EmbeddedBroker
) -> None:
    """An edge camera sends its frame, then its detections (a person) of the same `ts`:
    the snapshot's sidecar holds that person. The next frame, whose detections have not
    come, leaves a sidecar that does not belong to it: the reader ignores it."""
    settings = settings.model_copy(
        update={
            "model": str(data_file(settings, "no-model.onnx")),  # only the edge's boxes
            "vision": settings.vision.model_copy(update={"snapshot_every_s": 0.0}),
        }
    )
    camera = Camera(broker.port, settings.topic_root)
    site, cam = camera.site, camera.camera
    data_dir = Path(settings.data_dir)
    ts = now_ms() - 5000
    body = {
        "ts": ts,
        "seq": 0,
        "model": "edge-coco@1",
        "width": 320,
        "height": 240,
        "objects": [
            {"label": "person", "score": 0.9, "box": [100, 20, 180, 230]},
            {"label": "cup", "score": 0.8, "box": [10, 10, 30, 30]},
        ],
    }
    try:
        with vision_running(settings):
            camera.frames([(ts, solid(90))], seq=0)
            camera.send("detections", json.dumps(body).encode())
            wait_until(
                lambda: sidecar_path(data_dir, site, cam).exists(), timeout=30, what="sidecar"
            )
            snap = read_snapshot(data_dir, site, cam)
            assert snap is not None and snap.jpeg == solid(90) and snap.frame is not None
            assert snap.frame.ts == ts and snap.frame.persons == [(100.0, 20.0, 180.0, 230.0)]
            camera.frames([(ts + 500, solid(120))], seq=1)
            wait_until(
                lambda: snapshot_path(data_dir, site, cam).read_bytes() == solid(120),
                timeout=30,
                what="the second snapshot",
            )
            snap = read_snapshot(data_dir, site, cam, attempts=1)
            assert snap is not None and snap.frame is None
    finally:
        camera.close()


def test_the_worker_describes_a_centrally_inferred_snapshot(
    settings: Settings, broker: EmbeddedBroker
) -> None:
    """A camera without its own detections: the person boxes of the worker's own
    inference (the built-in COCO model) of that frame go in its sidecar, in pixels of
    the full frame."""
    shared_path("models", "coco")
    picture = shared_path("media", "zidane.jpg").read_bytes()  # 1280 x 720, two men
    settings = settings.model_copy(
        update={"vision": settings.vision.model_copy(update={"snapshot_every_s": 0.0})}
    )
    camera = Camera(broker.port, settings.topic_root)
    data_dir = Path(settings.data_dir)
    ts = now_ms() - 5000
    try:
        with vision_running(settings):
            camera.frames([(ts, picture)])
            wait_until(
                lambda: sidecar_path(data_dir, camera.site, camera.camera).exists(),
                timeout=60,
                what="sidecar",
            )
    finally:
        camera.close()
    snap = read_snapshot(data_dir, camera.site, camera.camera)
    assert snap is not None and snap.jpeg == picture and snap.frame is not None
    assert (snap.frame.ts, snap.frame.width, snap.frame.height) == (ts, 1280, 720)
    assert len(snap.frame.persons) >= 2
    # boxes in pixels of the full frame (one man stands in its right third)
    assert all(x1 >= 0 and x2 <= 1280 and y2 <= 720 for x1, _, x2, y2 in snap.frame.persons)
    assert max(x2 for _, _, x2, _ in snap.frame.persons) > 900
