"""Central inference: results stay with their frames when runs are spread over threads,
and a replay detector (with a position) sees its frames in order."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from brightwatch.vision.detector.base import Detection
from brightwatch.vision.inference import Inference


class ByPixel:
    """Stateless: one box whose score is the image's first pixel / 255."""

    name, version, names = "pixel", "1", ("thing",)

    def detect(self, image: np.ndarray, conf: float | None = None) -> list[Detection]:
        return [Detection("thing", float(image[0, 0, 0]) / 255, (0.0, 0.0, 1.0, 1.0), 0)]

    def detect_batch(
        self, images: Sequence[np.ndarray], conf: float | None = None
    ) -> list[list[Detection]]:
        return [self.detect(i) for i in images]


class Replay(ByPixel):
    """Stateful, like the `labels` backend: its answer is its call count."""

    name = "replay"

    def __init__(self) -> None:
        self.frame = 0

    def seek(self, frame: int) -> None:
        self.frame = frame

    def detect(self, image: np.ndarray, conf: float | None = None) -> list[Detection]:
        self.frame += 1
        return [Detection("thing", self.frame / 100, (0.0, 0.0, 1.0, 1.0), 0)]


def test_parallel_runs_keep_frames_in_order() -> None:
    images = [np.full((8, 8, 3), v, np.uint8) for v in (10, 20, 30, 40, 50, 60, 70)]
    inf = Inference([ByPixel(), Replay()], batch=2, parallel=3)  # type: ignore[list-item]
    found = inf.run(images)
    assert [round(objs[0].score * 255) for objs in found] == [10, 20, 30, 40, 50, 60, 70]
    assert [objs[1].score for objs in found] == [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07]
    assert {objs[0].model for objs in found} == {"pixel@1"}


def test_map_spreads_work_over_the_runs_and_keeps_the_order() -> None:
    """The worker decodes its frames through `map`: each item's own result, in order,
    from more than one thread when runs are parallel."""
    import threading

    seen: set[str] = set()
    both = threading.Barrier(2, timeout=10)  # fails unless two threads run at once

    def work(x: int) -> int:
        name = threading.current_thread().name
        if name not in seen:
            seen.add(name)
            both.wait()
        return x * x

    inf = Inference([ByPixel()], parallel=2)  # type: ignore[list-item]
    assert inf.map(work, list(range(9))) == [x * x for x in range(9)]
    assert len(seen) == 2
    assert Inference([ByPixel()]).map(lambda x: -x, [3, 1]) == [-3, -1]  # type: ignore[list-item]
