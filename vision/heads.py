"""Faces and heads of detected persons, found at full resolution.

The first round took "the head" to be the top quarter of a person box. For staff bent
over a counter that quarter holds the disposable cap, which the mask classifier read as
a blue surgical mask; a worker with their back turned got a confident `with_mask` too.
Here a face detector (MediaPipe BlazeFace, Apache-2.0, the model the privacy filter
uses) looks for a face in each person's search area, cut from the full-resolution
frame and seen at the model's own input size, so a 40-pixel face of a 1080p camera is
as large to it as in a close-up:

- a face is found: the mask classifier judges that face (`Head.face`), and the head box
  (`Head.head`: the face grown upwards and sideways to take in the cap or hair) feeds the
  hat rule;
- no face (the back of a head, a face turned away, a face too small to judge): there is
  nothing to judge a mask on, and the answer is `unknown`; the head box falls back to
  the top of the person box, where a cap is still visible from behind.

The search area is the top half of an upright person box and the whole box of a wide
one (a person bending over a counter is wider than tall and the head may be at either
end), with a margin; a face that sticks out of the person's own box belongs to a
neighbour (or is no face) and is not taken. Pure apart from the face model: boxes in, boxes out; knows nothing of rules.

May import: numpy, OpenCV, vision.privacy (the face model), vision.rules.zones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from brightwatch.vision.privacy import Face
from brightwatch.vision.rules.zones import region

Box = tuple[float, float, float, float]

# an upright person: its head lies in the top half of its box; wider than this ratio of
# its height, a person is bending or sitting and the whole box is searched
SEARCH_TOP = 0.5
WIDE = 0.9
MARGIN = 0.1  # the search area widened by this share of the box on each side
FACE_THRESHOLD = 0.7  # BlazeFace score of a face worth judging
SPILL = 0.15  # share of a face's size it may stick out of its person's box


class FaceModel(Protocol):
    def detect(self, image: np.ndarray) -> Sequence[Face]:
        """Faces in pixels of `image`, best first."""
        ...


@dataclass(frozen=True)
class Head:
    face: Box | None  # None: no face visible to judge
    face_score: float
    head: Box  # where a cap or hat would be


def search_area(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """Pixels of the frame searched for a person's face (see the module docstring)."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    bottom = y2 if w > WIDE * h else y1 + SEARCH_TOP * h
    left = max(0, int(np.floor(x1 - MARGIN * w)))
    top = max(0, int(np.floor(y1 - MARGIN * h)))
    right = min(width, int(np.ceil(x2 + MARGIN * w)))
    low = min(height, int(np.ceil(bottom)))
    return left, top, max(right, left + 1), max(low, top + 1)


def within(face: Box, box: Box) -> bool:
    """A person's box holds its head: its face lies inside, give or take `SPILL` of the
    face's size on any side (a detector box may clip an ear or the chin)."""
    fw, fh = face[2] - face[0], face[3] - face[1]
    return (
        face[0] >= box[0] - SPILL * fw
        and face[2] <= box[2] + SPILL * fw
        and face[1] >= box[1] - SPILL * fh
        and face[3] <= box[3] + SPILL * fh
    )


def head_of_face(face: Box, width: int, height: int) -> Box:
    """The face grown to the whole head: a face's height again above it (cap, hair),
    a third of its width on each side."""
    x1, y1, x2, y2 = face
    w, h = x2 - x1, y2 - y1
    return (
        max(0.0, x1 - w / 3),
        max(0.0, y1 - h),
        min(float(width), x2 + w / 3),
        min(float(height), y2 + 0.1 * h),
    )


class HeadFinder:
    """`find(image, person_boxes)` -> a `Head` per person."""

    def __init__(
        self, faces: FaceModel, min_face_px: int = 16, min_score: float = FACE_THRESHOLD
    ) -> None:
        self.faces = faces
        self.min_face_px = min_face_px
        self.min_score = min_score

    def find(self, image: np.ndarray, boxes: Sequence[Box]) -> list[Head]:
        height, width = image.shape[:2]
        out: list[Head] = []
        for box in boxes:
            left, top, right, bottom = search_area(box, width, height)
            face: Box | None = None
            score = 0.0
            for found in self.faces.detect(image[top:bottom, left:right]):
                fx1, fy1, fx2, fy2 = found.box
                s = found.score
                if s < self.min_score or min(fx2 - fx1, fy2 - fy1) < self.min_face_px:
                    continue
                if not within((fx1 + left, fy1 + top, fx2 + left, fy2 + top), box):
                    continue  # a neighbour's face, or not a face
                face = (fx1 + left, fy1 + top, fx2 + left, fy2 + top)
                score = s
                break  # best first
            head = head_of_face(face, width, height) if face else region(box, "head")
            out.append(Head(face, score, head))
        return out
