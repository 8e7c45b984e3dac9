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
    """One box as the evidence table stores it."""

    label: str
    score: float
    box: tuple[float, float, float, float]
    track: int = -1
    model: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "score": round(self.score, 4),
            "box": [round(v, 1) for v in self.box],
            "track": self.track,
            **({"model": self.model} if self.model else {}),
        }


class EvidenceRef(msgspec.Struct, array_like=True):
    """Which frame (by capture time) supports a violation, and what was in it."""

    ts: int
    width: int
    height: int
    boxes: list[BoxRecord] = msgspec.field(default_factory=list)
    zone: str = ""

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
    summary: str
    zone: str = ""
    rule: str = ""
    evidence: tuple[EvidenceRef, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
