"""The recipes of the default models that are trained on the user's machine rather than
shipped (their data may not be redistributed, or they start from AGPL COCO exports):
`brightwatch models install --train NAME` runs one. A recipe names its data in
`../shared` beside the checkout; `--data` points elsewhere.

The rat recipe (issue 12, item 5): the shared rat set fine-tuned from the COCO yolo11n
export at 320 px, with negatives so that people, faces, kitchens and night scenes are not
called rats: people and faces from the face-mask set's *training* split (its held-out split
measures the false alarms), people on building sites from the helmet set's training folder,
CCTV frames without fire from the fire set, a quarter of them darkened as night scenes.
The 13 kitchen photos (`../shared/media/kitchen`) are never among them: they measure.

Imports: `vision.training.detector` and `vision.detector.spec` (for the shared folder).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from brightwatch.vision.detector.spec import SHARED_MODELS
from brightwatch.vision.training.detector import DetectorTraining

SHARED = SHARED_MODELS.parent
SHARED_DATASETS = SHARED / "datasets"


@dataclass(frozen=True)
class Recipe:
    name: str
    data: Path
    init_from: Path
    imgsz: int
    hours: float  # time cap; on 2 free CPU cores the run ends by itself well before
    negatives: tuple[Path, ...] = ()
    negatives_skip: tuple[str, ...] = ()
    negatives_ratio: float = 0.5
    negatives_dark: float = 0.25
    why_local: str = ""

    def job(
        self,
        output: Path,
        *,
        data: Path | None = None,
        hours: float | None = None,
        device: str = "cpu",
        work_dir: Path = Path("runs/train"),
    ) -> DetectorTraining:
        return DetectorTraining(
            data=data or self.data,
            output=output,
            imgsz=self.imgsz,
            init_from=self.init_from,
            time_limit_h=hours or self.hours,
            device=device,
            work_dir=work_dir,
            negatives=tuple(str(n) for n in self.negatives),
            negatives_ratio=self.negatives_ratio,
            negatives_dark=self.negatives_dark,
            negatives_skip=self.negatives_skip,
        )


RECIPES: dict[str, Recipe] = {
    "rat": Recipe(
        name="rat",
        data=SHARED_DATASETS / "rat",
        init_from=SHARED_MODELS / "coco" / "yolo11n_int8_320.onnx",
        imgsz=320,
        hours=0.9,
        negatives=(
            SHARED_DATASETS / "face_mask",
            SHARED_DATASETS / "helmet_workwear",
            SHARED_DATASETS / "fire_smoke",
        ),
        negatives_skip=("Fire",),
        why_local="the rat set's licence is not stated; fine-tuned from AGPL-3.0 COCO exports",
    ),
}
