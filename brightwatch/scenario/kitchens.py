"""Kitchen clips the demo's cameras play instead of their drawn scene, so that the real
pipeline (motion gate, detector, rules) confirms real violations.

- `no_mask`: close-ups of clearly visible unmasked faces from
  ../shared/datasets/face_mask (CC0), each held for `HOLD_S` seconds and sliding slowly
  over the kitchen picture, so the motion gate keeps sending and the same person stays
  tracked for NO_MASK's 3 s (vision.rules.config: N=3 of M=5 frames);
- `phone`: a picture from the same set where the person detector finds a phone in a
  person's hands (PHONE), played the same way;
- `rodent`: the shared rat video (../shared/media/video), played by the storeroom camera
  as edge detections: the lean install has no rat model (it is trained on this machine,
  `brightwatch models install --train rat`), so its boxes are the video's ground-truth
  labels, sent under the model name `rat-labels@demo` that says so (interfaces.md allows
  a camera's own detections; the RODENT rule still needs 2 of 5 frames with motion).

Absent ../shared, a clip is unavailable (`ClipUnavailable`, the player logs it) and the
camera keeps its drawn scene. `ClipDeck` is the hand-over between the player's thread
and the camera's: the player queues clips, the camera's capture takes their frames.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from brightwatch.edge.camera.source import Capture, Frame
from brightwatch.vision.detector.base import Detection
from brightwatch.vision.detector.labels_backend import LabelReplay

log = logging.getLogger("brightwatch.demo")

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FACE_MASK = SHARED / "datasets" / "face_mask"
RAT_VIDEO = SHARED / "media" / "video" / "rat_cage_phonevideo_2022-11-01_17-51-05_reassembled.mp4"
RAT_LABELS = RAT_VIDEO.parent / "rat_cage_phonevideo_2022-11-01_17-51-05_labels"
RAT_MODEL = ("rat-labels", "demo")  # name, version sent with the detections
HOLD_S = 10.0  # each picture of a clip, at the camera's rate
SLIDE_PX = 40  # to and fro: the gate sees motion, the tracker the same person

# pictures checked with `brightwatch vision assess` (the deployed pipeline: person,
# face, mask classifier): one unmasked face each, large and frontal; a phone in the
# person's hands. Missing files are skipped, and NO_MASK falls back to the labels.
NO_MASK_PICTURES = ("maksssksksss609", "maksssksksss442", "maksssksksss218", "maksssksksss528")
PHONE_PICTURES = ("maksssksksss697", "maksssksksss733")


class ClipUnavailable(RuntimeError):
    """The clip's material is not here (../shared absent); the message says what."""


@dataclass(frozen=True)
class ClipFrame:
    image: np.ndarray  # BGR, the size of the camera's scene
    objects: tuple[Detection, ...] = ()  # edge detections of this frame (rodent)


Clip = Iterator[ClipFrame]
ClipMaker = Callable[[np.ndarray], Clip]  # the camera's own background -> frames


class ClipDeck:
    """Clips waiting for one camera: `queue` from any thread; `next_frame` from the
    camera's thread only, which also remembers the frame it took (`current`) for the
    edge detector of the same sample."""

    def __init__(self, background: np.ndarray) -> None:
        self.background = background
        self._waiting: queue.SimpleQueue[tuple[str, ClipMaker]] = queue.SimpleQueue()
        self._playing: Clip | None = None
        self.current: ClipFrame | None = None
        self.played: list[str] = []

    def queue(self, name: str, maker: ClipMaker) -> None:
        self._waiting.put((name, maker))

    def next_frame(self) -> ClipFrame | None:
        while True:
            if self._playing is None:
                try:
                    name, maker = self._waiting.get_nowait()
                except queue.Empty:
                    self.current = None
                    return None
                self._playing = maker(self.background)
                self.played.append(name)
            frame = next(self._playing, None)
            if frame is not None:
                self.current = frame
                return frame
            self._playing = None


class ClipCapture:
    """A capture (edge.camera.source.Capture) that plays the deck's clips and the
    camera's own scene in between."""

    def __init__(self, scene: Capture, deck: ClipDeck) -> None:
        self.scene = scene
        self.deck = deck

    def read(self) -> Frame | None:
        clip = self.deck.next_frame()
        if clip is not None:
            return Frame(clip.image, -1)
        return self.scene.read()

    def close(self) -> None:
        self.scene.close()


class ClipDetections:
    """The storeroom camera's edge detector: the boxes that came with the clip frame
    just read (ground-truth labels), nothing between clips. No model runs."""

    def __init__(self, deck: ClipDeck) -> None:
        self.deck = deck
        self.name, self.version = RAT_MODEL
        self.names: Sequence[str] = ("rat",)

    def detect(self, image: np.ndarray, conf: float | None = None) -> list[Detection]:
        frame = self.deck.current
        return list(frame.objects) if frame is not None else []

    def detect_batch(
        self, images: Sequence[np.ndarray], conf: float | None = None
    ) -> list[list[Detection]]:
        return [self.detect(image) for image in images]


# ---------------------------------------------------------------- the clips


def fit(image: np.ndarray, width: int, height: int) -> tuple[float, int, int]:
    """Scale and offsets that fit `image` whole and centred into width x height."""
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    return scale, (width - round(w * scale)) // 2, (height - round(h * scale)) // 2


def _over(background: np.ndarray, picture: np.ndarray, dx: int) -> np.ndarray:
    """`picture` fitted into the frame (with room to slide), shifted by `dx` from the
    centre, over `background` (the camera's own scene, so the frame keeps its size)."""
    out = background.copy()
    height, width = out.shape[:2]
    scale, ox, oy = fit(picture, width - SLIDE_PX, height)
    pic = cv2.resize(picture, (round(picture.shape[1] * scale), round(picture.shape[0] * scale)))
    x0 = min(max(ox + SLIDE_PX // 2 + dx, 0), width - pic.shape[1])
    out[oy : oy + pic.shape[0], x0 : x0 + pic.shape[1]] = pic
    return out


def slide(pictures: list[np.ndarray], fps: float) -> ClipMaker:
    """Each picture held `HOLD_S` seconds, sliding to and fro by `SLIDE_PX`."""
    frames = max(3, round(HOLD_S * fps))

    def make(background: np.ndarray) -> Clip:
        for picture in pictures:
            for k in range(frames):
                phase = (k % 8) / 8  # one to-and-fro every 8 samples
                dx = round(SLIDE_PX * (1 - abs(2 * phase - 1)) - SLIDE_PX / 2)
                yield ClipFrame(_over(background, picture, dx))

    return make


def _read_pictures(names: tuple[str, ...], folder: Path) -> list[np.ndarray]:
    out = []
    for name in names:
        found = sorted(folder.glob(f"{name}.*"))
        image = cv2.imread(str(found[0]), cv2.IMREAD_COLOR) if found else None
        if image is not None:
            out.append(image)
    return out


def unmasked_by_labels(root: Path = FACE_MASK, count: int = 2) -> list[str]:
    """Pictures whose labels hold one face, without a mask, largest first (the fallback
    when the checked pictures are missing)."""
    ranked = []
    for labels in sorted(root.glob("labels/*/*.txt")):
        rows = [line.split() for line in labels.read_text().splitlines() if line.strip()]
        if len(rows) == 1 and rows[0][0] == "1":
            ranked.append((-float(rows[0][3]) * float(rows[0][4]), labels.stem))
    return [stem for _, stem in sorted(ranked)[:count]]


def no_mask_clip(fps: float, root: Path = FACE_MASK) -> ClipMaker:
    folder = root / "images" / "train"
    pictures = _read_pictures(NO_MASK_PICTURES, folder)[:2]
    if not pictures and root.is_dir():
        pictures = _read_pictures(tuple(unmasked_by_labels(root)), folder)
    if not pictures:
        raise ClipUnavailable(f"no face pictures in {root}")
    return slide(pictures, fps)


def phone_clip(fps: float, root: Path = FACE_MASK) -> ClipMaker:
    pictures = _read_pictures(PHONE_PICTURES, root / "images" / "train")[:1]
    if not pictures:
        raise ClipUnavailable(f"no phone picture in {root}")
    return slide(pictures, fps)


def rodent_clip(fps: float, video: Path = RAT_VIDEO, labels: Path = RAT_LABELS) -> ClipMaker:
    """The rat video at the camera's rate, fitted into the frame, each frame with its
    ground-truth boxes as `rat` detections."""
    if not video.is_file() or not labels.is_dir():
        raise ClipUnavailable(f"no rat video with labels at {video}")
    replay = LabelReplay(labels, name=RAT_MODEL[0], names=("rat",), score=0.9)

    def make(background: np.ndarray) -> Clip:
        capture = cv2.VideoCapture(str(video))
        try:
            file_fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
            step = max(1, round(file_fps / fps))
            index = 0
            while True:
                ok, image = capture.read()
                if not ok:
                    return
                if index % step == 0:
                    yield _rat_frame(replay, index, image, background)
                index += 1
        finally:
            capture.release()

    return make


def _rat_frame(
    replay: LabelReplay, index: int, image: np.ndarray, background: np.ndarray
) -> ClipFrame:
    """Video frame `index` fitted into the camera's frame, with its labelled boxes."""
    height, width = background.shape[:2]
    scale, ox, oy = fit(image, width, height)
    canvas = np.zeros_like(background)
    h, w = round(image.shape[0] * scale), round(image.shape[1] * scale)
    canvas[oy : oy + h, ox : ox + w] = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    objects = tuple(
        Detection(
            d.label,
            d.score,
            (
                d.box[0] * scale + ox,
                d.box[1] * scale + oy,
                d.box[2] * scale + ox,
                d.box[3] * scale + oy,
            ),
            d.class_id,
        )
        for d in replay.detect_frame(index, image)
    )
    return ClipFrame(canvas, objects)


KITCHEN_CLIPS: dict[str, Callable[[float], ClipMaker]] = {
    "no_mask": no_mask_clip,
    "phone": phone_clip,
    "rodent": rodent_clip,
}
