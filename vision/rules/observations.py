"""What the engine is given: frames (objects found in them, frame health) and
availability changes of one camera, and what it says back: events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from brightwatch.vision.rules.zones import Box


@dataclass(frozen=True, slots=True)
class Attribute:
    """A crop classifier's verdict on an object (two-stage): e.g. mask / without_mask."""

    classifier: str
    label: str
    score: float
    crop: Box | None = None  # the region it judged, in frame pixels (None: not recorded)


@dataclass(frozen=True, slots=True)
class Obj:
    label: str  # class name from the model's own metadata
    score: float
    box: Box  # x1, y1, x2, y2 in pixels
    model: str = ""  # name@version of the detector that found it
    attributes: tuple[Attribute, ...] = ()


@dataclass(frozen=True, slots=True)
class Health:
    """Frame-health metrics of a small grey copy of the frame (vision.health)."""

    mean: float
    std: float
    sharpness: float  # variance of the Laplacian


@dataclass(frozen=True, slots=True)
class FrameSeen:
    """One processed frame: central inference on a frame, or edge detections."""

    ts: int  # capture time, epoch ms
    width: int
    height: int
    objects: tuple[Obj, ...] | None = ()  # None: not looked at (a health-only frame)
    health: Health | None = None  # None: not measured (edge detections)


@dataclass(frozen=True, slots=True)
class AvailabilitySeen:
    ts: int
    online: bool


Observation = FrameSeen | AvailabilitySeen


class BoxRecord(msgspec.Struct, array_like=True):
    """One box as the evidence table stores it. A crop classifier's verdict on an object
    (`Attribute`) names the `classifier` and the `crop` it judged; its label is the
    verdict, not a detector class."""

    label: str
    score: float
    box: tuple[float, float, float, float]
    track: int = -1
    model: str = ""
    classifier: str = ""
    crop: tuple[float, float, float, float] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "score": round(self.score, 4),
            "box": [round(v, 1) for v in self.box],
            "track": self.track,
            **({"model": self.model} if self.model else {}),
            **({"classifier": self.classifier} if self.classifier else {}),
            **({"crop": [round(v, 1) for v in self.crop]} if self.crop is not None else {}),
        }


class EvidenceRef(msgspec.Struct, array_like=True):
    """Which frame (by capture time) supports a violation, and what was in it: `boxes`
    raised the code, `context` is every object the detectors saw in the frame (None: the
    frame was not looked at), kept so that a review's verdict on `boxes` does not turn
    the rest of the picture into background when it becomes training data."""

    ts: int
    width: int
    height: int
    boxes: list[BoxRecord] = msgspec.field(default_factory=list)
    zone: str = ""
    context: list[BoxRecord] | None = None

    @property
    def model(self) -> str:
        models = sorted({b.model for b in self.boxes if b.model})
        return ",".join(models)


@dataclass(frozen=True)
class Event:
    """A violation raised (active) or an episode that ended (active False, only for codes
    whose rule clears the alert)."""

    code: str
    key: str  # "" or the zone: distinguishes simultaneous conditions of one code
    active: bool
    at: int  # epoch ms, capture time
    tier: str
    summary: str  # in the deployment's language (CameraConfig.locale)
    zone: str = ""
    rule: str = ""
    evidence: tuple[EvidenceRef, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    summaries: dict[str, str] = field(default_factory=dict)  # in every language
    rules: dict[str, str] = field(default_factory=dict)  # `rule` in every language
