"""What the deployed pipeline makes of one frame: `brightwatch vision assess`.

The same path that raises alarms, stopped before the temporal confirmation: the
configured detectors with the camera's input policy (`vision.inference`), the face and
head stage and the attribute classifiers, then the rule engine's per-frame judgement
(`vision.rules.assess`) with the camera's configuration. `candidates` are the codes the
frame counts towards; an alarm needs them in N of the last M frames (kitchens.md).

An attribute below its rule's `min_score`, or with nothing to judge (no face visible),
is reported `unknown`: the pipeline cannot tell, and does not count it either way.

May import: numpy, vision (inference, rules, health, cameras, settings).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from brightwatch.vision import health
from brightwatch.vision.cameras import build_config
from brightwatch.vision.inference import UNKNOWN, Inference, build
from brightwatch.vision.rules.assess import Seen, assess
from brightwatch.vision.rules.config import CameraConfig
from brightwatch.vision.rules.observations import FrameSeen, Obj
from brightwatch.vision.settings import VisionSettings

# the camera whose `[vision.cameras."<key>"]` settings apply when none is named
DEFAULT_CAMERA = "assess/camera"


def _r(values: Sequence[float], digits: int = 1) -> list[float]:
    return [round(float(v), digits) for v in values]


class FrameAssessor:
    def __init__(self, inference: Inference, cfg: CameraConfig) -> None:
        self.inference = inference
        self.cfg = cfg

    @classmethod
    def from_settings(
        cls, settings: VisionSettings, model: str, data_dir: Path, camera: str | None = None
    ) -> FrameAssessor:
        """The worker's models and one camera's configuration (`site/camera`: its
        `[vision.cameras]` zones, rules and input policy; default: the fleet's)."""
        site, _, cam = (camera or DEFAULT_CAMERA).partition("/")
        cfg = build_config(settings, (site, cam or "camera"), None)
        return cls(build(settings, model, data_dir), cfg)

    def objects(self, image: np.ndarray) -> list[Obj]:
        return self.inference.run([image], [self.cfg.input])[0]

    def assess(self, image: np.ndarray, source: str, ts: int = 0) -> dict[str, Any]:
        h, w = image.shape[:2]
        objs = self.objects(image)
        seen: list[Seen] = []
        for o in objs:
            rule = self.cfg.class_rule(o.model, o.label)
            if o.score >= (rule.min_score if rule else 0.25):
                seen.append(Seen(o, None, rule))
        frame = FrameSeen(ts, w, h, tuple(s.obj for s in seen), health.measure(image))
        hits = assess(frame, seen, self.cfg)
        persons, objects = [], []
        for s in seen:
            if s.is_person:
                persons.append(
                    {
                        "box": _r(s.obj.box),
                        "score": round(s.obj.score, 4),
                        "attributes": self.attributes(s.obj),
                    }
                )
            else:
                objects.append(
                    {"label": s.obj.label, "score": round(s.obj.score, 4), "box": _r(s.obj.box)}
                )
        return {
            "source": source,
            "width": w,
            "height": h,
            "persons": persons,
            "objects": objects,
            "candidates": sorted({hit.code for hit in hits.values()}),
        }

    def attributes(self, obj: Obj) -> dict[str, str]:
        """Each configured attribute's verdict on a person: its label, or `unknown`
        when nothing could be judged or the verdict is below the rule's minimum."""
        out = {name: UNKNOWN for name, rule in self.cfg.attributes.items() if rule.enabled}
        for attr in obj.attributes:
            rule = self.cfg.attributes.get(attr.classifier)
            if rule is not None and attr.label != UNKNOWN and attr.score >= rule.min_score:
                out[attr.classifier] = attr.label
        return out
