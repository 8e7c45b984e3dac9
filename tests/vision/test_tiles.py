"""Full-resolution input: tiles cover the frame with overlap, and their detections
merge into one box per object in frame pixels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from brightwatch.vision import tiles
from brightwatch.vision.detector.base import Detection
from brightwatch.vision.inference import Inference


def test_policy_tiles_above_720p_only() -> None:
    assert tiles.tiled("auto", 1920, 1080)
    assert not tiles.tiled("auto", 1280, 720)
    assert tiles.tiled("tiles", 640, 480)
    assert not tiles.tiled("full", 3840, 2160)


def test_auto_follows_the_model_input() -> None:
    # a 320 px model: tiles above 720p; the 640 px default sees 1080p whole, tiles 4K
    assert tiles.tiled("auto", 1920, 1080, 320)
    assert not tiles.tiled("auto", 1280, 720, 320)
    assert not tiles.tiled("auto", 1920, 1080, 640)
    assert tiles.tiled("auto", 3840, 2160, 640)
    assert tiles.tiled("tiles", 1920, 1080, 640)


def test_windows_cover_the_frame_with_overlap_then_the_whole() -> None:
    wins = tiles.windows(1920, 1080)
    assert wins[-1] == (0, 0, 1920, 1080)
    squares = wins[:-1]
    assert all(x2 - x1 == 1080 and y2 - y1 == 1080 for x1, y1, x2, y2 in squares)
    assert squares[0][0] == 0 and squares[-1][2] == 1920
    covered = np.zeros(1920, bool)
    for x1, _, x2, _ in squares:
        covered[x1:x2] = True
    assert covered.all()
    xs = sorted(w[0] for w in squares)
    for a, b in zip(xs, xs[1:], strict=False):
        assert 1080 - (b - a) >= tiles.OVERLAP * 1080  # neighbours share >= 20 %
    # a frame no wider than tall is one window
    assert tiles.windows(500, 500) == [(0, 0, 500, 500)]


def test_merge_drops_duplicates_but_keeps_the_colleague_behind() -> None:
    boxes = np.array(
        [
            [100, 100, 400, 800],  # a worker close to the camera
            [102, 101, 401, 798],  # the same worker from another window
            [300, 150, 380, 300],  # a colleague behind, wholly inside the worker's box
            [100, 100, 400, 800],  # a different class at the same place
        ],
        dtype=np.float64,
    )
    scores = np.array([0.9, 0.8, 0.5, 0.5])
    classes = np.array([0, 0, 0, 1])
    assert tiles.merge(boxes, scores, classes).tolist() == [0, 2, 3]


def test_a_box_on_a_tiles_inner_border_is_cut() -> None:
    left, right = (0, 0, 1080, 1080), (840, 0, 1920, 1080)
    assert tiles.cut((1000.0, 10.0, 1080.0, 200.0), left, 1920, 1080)  # right border
    assert not tiles.cut((0.0, 10.0, 50.0, 200.0), left, 1920, 1080)  # the frame's edge
    assert tiles.cut((0.0, 10.0, 50.0, 200.0), right, 1920, 1080)  # the tile's left border
    assert not tiles.cut((100.0, 0.0, 200.0, 1080.0), right, 1920, 1080)  # top and bottom


class PerWindow:
    """A detector that sees a person only where it is at least 100 px tall in the
    picture it is given (as a small network misses small people)."""

    name, version, names = "win", "1", ("person",)
    person = (1500.0, 400.0, 1560.0, 560.0)  # 160 px tall in a 1920 x 1080 frame

    def detect_batch(
        self, images: Sequence[np.ndarray], conf: float | None = None
    ) -> list[list[Detection]]:
        out = []
        for image in images:
            h, w = image.shape[:2]
            # which window this is: its top-left pixel holds its x offset / 8
            x0 = float(image[0, 0, 0]) * 8
            scale = 320 / max(h, w)  # the network's input
            x1, y1, x2, y2 = self.person
            inside = x0 <= x1 and x2 <= x0 + w
            seen = inside and (y2 - y1) * scale >= 40
            out.append([Detection("person", 0.8, (x1 - x0, y1, x2 - x0, y2), 0)] if seen else [])
        return out


def test_tiled_frame_finds_what_the_whole_frame_misses() -> None:
    frame = np.zeros((1080, 1920, 3), np.uint8)
    for x0 in range(0, 1920, 8):
        frame[0, x0, 0] = x0 // 8  # PerWindow reads its window's offset from here
    inf = Inference([PerWindow()])  # type: ignore[list-item]
    whole = inf.run([frame], ["full"])[0]
    tiled = inf.run([frame], ["tiles"])[0]
    assert whole == []
    assert len(tiled) == 1
    assert tiled[0].box == PerWindow.person
