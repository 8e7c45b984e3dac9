"""Public pictures checked by an independent face detector (issue 12, item 7).

On a fixed subset of the held-out split of ../shared/datasets/face_mask (`holdout_split`,
20 %, seed 0, `val`: 136 images; every 17th of them by name, 8 images, and one hard picture, to keep this test
bounded: ~4 s of CPU per picture; the filter's constants were tuned on `train` only and `bench.face_privacy`
measures the whole of `val`): the deployed person detector (`load_detector("coco")`)
gives the person boxes the vision worker writes in the snapshot's sidecar, the picture
is served by the API's own `PublicPictures` (same default width, same JPEG), and MTCNN
(facenet-pytorch) with the pinned settings (`min_face_size=20`, thresholds 0.6/0.7/0.7,
on the served picture upscaled x2) looks for faces in it. On this subset it finds none.
On all of `val` (`bench.face_privacy`, bench/RESULTS.md) it finds 2 "faces" in 2 of 136
pictures, both looked at by eye: pavement texture (maksssksksss238) and a pictogram on a
sign (maksssksksss471), no face; every real face is blurred since the project's own face
detector (`TrainedFaces`, trained on the other 80 %) joined the search.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.face_privacy import MtcnnCheck, api_max_width, face_mask_split, persons
from brightwatch.api.web.pictures import PublicPictures
from brightwatch.vision import snapshots
from brightwatch.vision.detector import DetectorError, load_detector
from brightwatch.vision.privacy import PrivacyUnavailable, find_face_model
from tests.conftest import shared_path

SUBSET_EVERY = 17  # every 17th image of `val` (sorted by name): 8 of 136
# face_mask is crowds and close-ups: on all of `val` the blurred share is 0.63 on average,
# 0.946 at most (a face filling the picture); the bound: never the whole picture
MAX_SHARE = 0.97
# and one hard picture of `val`: crowd faces of 10-15 px with no person box around them,
# which BlazeFace misses at any tile size and the project's own face detector finds
HARD = "maksssksksss111.jpg"
MAX_MEAN_SHARE = 0.7


def _served(tmp_path: Path) -> list[tuple[str, int, np.ndarray, float]]:
    """(image, faces MTCNN finds in the raw picture, the served picture, its blurred share)
    for each image of the subset."""
    pytest.importorskip("facenet_pytorch", reason="needs facenet-pytorch (the dev extra)")
    data = shared_path("datasets", "face_mask")
    try:
        find_face_model()
        detector = load_detector("coco")
    except (PrivacyUnavailable, DetectorError) as exc:
        pytest.skip(f"needs the face model and ../shared's COCO model: {exc}")
    val = face_mask_split("val", data)
    images = val[::SUBSET_EVERY] + [i for i in val if i.image.name == HARD]
    assert len(images) == 9
    pictures = PublicPictures(tmp_path, None, 10.0, api_max_width(), 600.0)
    check = MtcnnCheck()
    out = []
    for k, item in enumerate(images):
        jpeg = item.image.read_bytes()
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None
        h, w = image.shape[:2]
        # what the vision worker writes for this frame: the JPEG, then its sidecar
        snapshots.write_frame(tmp_path, "K1", f"cam{k}", jpeg)
        side = snapshots.sidecar(jpeg, int(time.time() * 1000), w, h, persons(detector, image))
        snapshots.write_sidecar(tmp_path, "K1", f"cam{k}", side)
        picture = pictures.get("K1", f"cam{k}")
        assert picture is not None
        served = cv2.imdecode(np.frombuffer(picture.jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert served is not None
        assert served.shape[:2] == image.shape[:2]  # under the width: served as large
        assert picture.heads == len(side.persons)
        out.append((item.image.name, len(check.faces(image)), served, picture.share))
    return out


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, int, np.ndarray, float]]:
    return _served(tmp_path_factory.mktemp("public"))


def test_mtcnn_finds_no_face_in_served_pictures(
    served: list[tuple[str, int, np.ndarray, float]],
) -> None:
    assert sum(raw for _, raw, _, _ in served) >= 15  # the check does find the faces before
    check = MtcnnCheck()
    left = {name: found for name, _, picture, _ in served if (found := check.faces(picture))}
    assert not left, f"MTCNN still finds faces in {len(left)} served pictures: {left}"


def test_blurred_area_is_bounded(served: list[tuple[str, int, np.ndarray, float]]) -> None:
    shares = [share for *_, share in served]
    assert max(shares) < MAX_SHARE, shares
    assert float(np.mean(shares)) < MAX_MEAN_SHARE, shares
