"""Training a small crop classifier (torch, CPU) from the boxes of a YOLO-format set,
exported to ONNX for `OnnxAttributeClassifier`.

Made for the mask classifier: every labelled face of the face-mask set (CC0) becomes a
crop, the box widened by `crop_expand` so the classifier sees the face's surroundings and
tolerates the looser crops a head or person box gives. The split is by image
(`YoloSet.split`), so no face of a held-out picture is ever trained on. A network of four
conv blocks (~0.1 M parameters, < 1 MB) is enough for three classes at 64 x 64 and trains
in minutes on two cores; class weights counter the imbalance (with_mask dominates).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from brightwatch.vision.classify.crops import expand_box
from brightwatch.vision.yoloset import LabelledImage, open_set

log = logging.getLogger(__name__)


@dataclass
class ClassifierTraining:
    data: Path
    output: Path  # .onnx; a .json record with the held-out figures beside it
    imgsz: int = 64
    epochs: int = 40
    batch: int = 64
    lr: float = 3e-3
    holdout: float = 0.2
    seed: int = 0
    crop_expand: float = 1.25
    min_box: int = 6  # faces smaller than this (pixels, shorter side) are not judged
    threads: int | None = None
    command: str = ""  # the command line that produced the model, kept in its metadata
    data_licence: str = ""  # the training data's licence, kept in the metadata


@dataclass(frozen=True)
class CropSet:
    images: list[np.ndarray]
    index: np.ndarray  # (n,) which image
    boxes: np.ndarray  # (n, 4) pixels
    classes: np.ndarray  # (n,)


def collect_crops(items: Sequence[LabelledImage], min_box: int) -> CropSet:
    images: list[np.ndarray] = []
    index, boxes, classes = [], [], []
    for item in items:
        image = cv2.imread(str(item.image), cv2.IMREAD_COLOR)
        if image is None:
            log.warning("skipping unreadable %s", item.image)
            continue
        labels = item.labels()
        h, w = image.shape[:2]
        for cls, box in zip(labels.classes, labels.xyxy(w, h), strict=True):
            if min(box[2] - box[0], box[3] - box[1]) < min_box:
                continue
            index.append(len(images))
            boxes.append(box)
            classes.append(int(cls))
        images.append(image)
    return CropSet(
        images,
        np.asarray(index, dtype=np.int64),
        np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
        np.asarray(classes, dtype=np.int64),
    )


def render(
    crops: CropSet, k: int, size: int, expand: float, rng: np.random.Generator | None
) -> np.ndarray:
    """Crop k resized to size x size (BGR uint8); with `rng`, randomly widened, shifted,
    mirrored and lit, so the classifier does not depend on an exact box."""
    image = crops.images[crops.index[k]]
    box = crops.boxes[k].copy()
    if rng is not None:
        w, h = box[2] - box[0], box[3] - box[1]
        dx, dy = rng.uniform(-0.08, 0.08, 2) * (w, h)
        box += (dx, dy, dx, dy)
        expand *= rng.uniform(0.85, 1.4)
    x1, y1, x2, y2 = expand_box(box, expand, image.shape[1], image.shape[0])
    crop = cv2.resize(image[y1:y2, x1:x2], (size, size), interpolation=cv2.INTER_AREA)
    if rng is not None:
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        gain, bias = rng.uniform(0.75, 1.25), rng.uniform(-20, 20)
        crop = np.clip(crop.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)
    return crop


def to_batch(crops: list[np.ndarray]) -> np.ndarray:
    arr = np.stack(crops)[..., ::-1].transpose(0, 3, 1, 2)  # RGB, NCHW
    return np.ascontiguousarray(arr, dtype=np.float32) / 255.0


def build_network(n_classes: int) -> Any:
    import torch
    from torch import nn

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        return [
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        ]

    class CropNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                *block(3, 24),
                nn.MaxPool2d(2),
                *block(24, 48),
                nn.MaxPool2d(2),
                *block(48, 96),
                nn.MaxPool2d(2),
                *block(96, 128),
                nn.AdaptiveAvgPool2d(1),
            )
            self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(128, n_classes))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            # input RGB 0..1 as the runtime feeds it; centring lives in the graph
            return self.head(self.features((x - 0.5) / 0.25))

    return CropNet()


@dataclass(frozen=True)
class TrainedClassifier:
    onnx: Path
    record: Path
    heldout: dict[str, Any]


def train_classifier(job: ClassifierTraining) -> TrainedClassifier:
    import torch
    from torch import nn

    from brightwatch.vision.evaluation.classification import evaluate_crops

    torch.manual_seed(job.seed)
    if job.threads:
        torch.set_num_threads(job.threads)
    rng = np.random.default_rng(job.seed)
    yset = open_set(job.data)
    names = yset.names
    train_items = yset.split("train", holdout=job.holdout, seed=job.seed)
    val_items = yset.split("val", holdout=job.holdout, seed=job.seed)
    train = collect_crops(train_items, job.min_box)
    val = collect_crops(val_items, job.min_box)
    if len(train.classes) == 0:
        raise ValueError(f"no labelled boxes of at least {job.min_box} px in {job.data}")
    counts = np.bincount(train.classes, minlength=len(names))
    log.info(
        "crops: train %d from %d images %s, held out %d from %d images",
        len(train.classes),
        len(train_items),
        dict(zip(names, counts.tolist(), strict=True)),
        len(val.classes),
        len(val_items),
    )
    # inverse square-root frequency: the rare classes count, without drowning the common
    weights = np.sqrt(counts.sum() / np.maximum(counts, 1) / len(names))
    net = build_network(len(names))
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    optimiser = torch.optim.AdamW(net.parameters(), lr=job.lr, weight_decay=5e-4)
    steps = job.epochs * int(np.ceil(len(train.classes) / job.batch))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=job.lr, total_steps=steps)
    started = time.monotonic()
    bar = tqdm(range(job.epochs), unit="epoch", desc="train classifier")
    for _epoch in bar:
        net.train()
        order = rng.permutation(len(train.classes))
        total = 0.0
        for start in range(0, len(order), job.batch):
            picked = order[start : start + job.batch]
            x = torch.from_numpy(
                to_batch([render(train, k, job.imgsz, job.crop_expand, rng) for k in picked])
            )
            y = torch.from_numpy(train.classes[picked])
            optimiser.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(picked)
        bar.set_postfix(loss=f"{total / len(order):.3f}")
    net.eval()
    export_onnx(net, job, names)
    trained_s = time.monotonic() - started

    from brightwatch.vision.classify.onnx_classifier import OnnxAttributeClassifier

    exported = OnnxAttributeClassifier(job.output)
    val_crops = [render(val, k, job.imgsz, job.crop_expand, None) for k in range(len(val.classes))]
    heldout = evaluate_crops(exported, val_crops, val.classes.tolist(), names).summary()
    record = job.output.with_suffix(".json")
    record.write_text(
        json.dumps(
            {
                "model": job.output.name,
                "classes": list(names),
                "train_images": len(train_items),
                "train_crops": int(len(train.classes)),
                "train_crops_per_class": dict(zip(names, counts.tolist(), strict=True)),
                "heldout_images": len(val_items),
                "heldout": heldout,
                "training_seconds": round(trained_s, 1),
                "command": job.command,
                "job": {k: str(v) for k, v in asdict(job).items()},
            },
            indent=2,
        )
    )
    return TrainedClassifier(job.output, record, heldout)


def export_onnx(net: Any, job: ClassifierTraining, names: Sequence[str]) -> None:
    import onnx
    import torch

    class WithSoftmax(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.softmax(self.inner(x), dim=1)

    job.output.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 3, job.imgsz, job.imgsz)
    torch.onnx.export(
        WithSoftmax(net),
        (dummy,),
        str(job.output),
        input_names=["images"],
        output_names=["scores"],
        dynamic_axes={"images": {0: "batch"}, "scores": {0: "batch"}},
        opset_version=17,
        dynamo=False,  # the TorchScript exporter: no onnxscript dependency
    )
    model = onnx.load(str(job.output))
    onnx.helper.set_model_props(
        model,
        {
            "task": "classify",
            "names": repr(dict(enumerate(names))),
            "imgsz": repr([job.imgsz, job.imgsz]),
            "crop_expand": str(job.crop_expand),
            "description": "brightwatch crop classifier trained on " + Path(job.data).name,
            "holdout": f"fraction {job.holdout}, seed {job.seed}, split by image",
            "command": job.command,
            "data_license": job.data_licence,
        },
    )
    onnx.save(model, str(job.output))
