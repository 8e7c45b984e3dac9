"""Training the project's face detector (`brightwatch vision train face`) from scratch on
the CC0 face set (../shared/datasets/face_mask, Kaggle "Face Mask Detection" by andrewmvd,
CC0-1.0), on the CPU, within a wall-time budget; exported to ONNX for the ONNX backend.

The network, augmentation, targets and losses are the flame detector's (`flame`,
`flame_net`: a CenterNet-style net in plain torch, random initialisation, no COCO weights),
with one class, `face`: the set's three classes (with_mask, without_mask,
mask_weared_incorrect) are all faces. The split is the one the privacy check uses
(`vision.yoloset.holdout_split`, 20 %, seed 0): the model trains on `train` only, and
`bench.face_privacy` and the MTCNN test measure on `val`, which it never saw.

What it is for: the privacy filter's third face search (`vision.privacy.TrainedFaces`),
beside BlazeFace, which is trained on close, frontal faces and misses the 8-20 px faces of
crowds and high cameras that this set is full of.

Imports: torch, numpy, cv2, onnxruntime (held-out scoring through the service's own
`OnnxDetector`), `brightwatch.vision.{yoloset,training.flame}`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from brightwatch.vision.training.flame import (
    FlameResult,
    FlameTraining,
    cache,
    ship,
    train_net,
)
from brightwatch.vision.yoloset import DatasetError, holdout_split, open_set

log = logging.getLogger(__name__)

CLASSES = ("face",)
HOLDOUT, SEED = 0.2, 0  # bench.face_privacy's split: measured on what training never saw
OPERATING_SCORE = 0.3  # the privacy filter's threshold (vision.privacy.TrainedFaces)
ATTRIBUTION = "Face Mask Detection by andrewmvd (Kaggle), CC0-1.0"


def train_face(
    job: FlameTraining, progress: Callable[[int, float, float], None] | None = None
) -> FlameResult:
    """Train, export fp32 and int8, keep the int8 file when its held-out AP50 holds."""
    dataset = open_set(job.data)
    mapping = {i: 0 for i in range(len(dataset.names))}  # every class of the set is a face
    train, held_out = holdout_split(dataset.splits["train"], HOLDOUT, SEED)
    if not train or not held_out:
        raise DatasetError(f"{job.data}: the split left no training or held-out picture")
    log.info("split: train %d, held out %d", len(train), len(held_out))
    net, steps, seconds = train_net(cache(train, mapping, job.imgsz), job, progress, CLASSES)
    facts = {
        "split": {"train": len(train), "held_out": len(held_out)},
        "split_rule": f"vision.yoloset.holdout_split(fraction={HOLDOUT}, seed={SEED})",
        "operating_score": OPERATING_SCORE,
        "data_licence": "CC0-1.0",
        "attribution": ATTRIBUTION,
    }
    return ship(
        net,
        job,
        steps,
        seconds,
        CLASSES,
        f"brightwatch face detector, trained from scratch on face_mask ({ATTRIBUTION})",
        facts,
        {"licence": "weights: project's; data CC0-1.0", "attribution": ATTRIBUTION},
        {"held_out": held_out},
        mapping,
        OPERATING_SCORE,
        "face",
    )
