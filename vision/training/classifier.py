"""Training a small crop classifier (torch, CPU) from the boxes of a YOLO-format set,
exported to ONNX for `OnnxAttributeClassifier`.

Made for the mask classifier: every labelled face of the face-mask set (CC0) becomes a
crop, the box widened by `crop_expand` so the classifier sees the face's surroundings and
tolerates the looser crops a head or person box gives. The split is by image
(`YoloSet.split`), so no face of a held-out picture is ever trained on. A network of four
conv blocks (~0.1 M parameters, < 1 MB) is enough for three classes at 64 x 64 and trains
in minutes on two cores; class weights counter the imbalance (with_mask dominates).

It also reads folders of crops (`train/<label>/<picture>`, `crop_folders`), such as the
`classify/` set `brightwatch vision export-reviews` writes from review verdicts: each
picture is a crop, taken whole, and the folders' own split is kept.
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

from brightwatch.vision.classify.crops import expand_box, face_part
from brightwatch.vision.training.crop_folders import is_crop_folders, open_folders
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
    # the part of each face box cut out (`crops.face_part`): `lower` (nose to chin, what
    # a mask covers) or `whole`; kept in the metadata so the runtime cuts the same part
    part: str = "whole"
    # share of training crops given a painted cap, hairnet or cloth over their top
    # (`headwear`) or degraded like a kitchen camera's faces (`degrade`: defocus, a
    # few pixels up-scaled, JPEG blocks, motion): the label stays, so neither a cap nor
    # a blur decides the verdict
    headwear: float = 0.0
    degrade: float = 0.0
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


def whole_crops(pictures: Sequence[tuple[Path, int]], min_box: int) -> CropSet:
    """Pictures that are crops already (a folder set): each one whole, one box each."""
    images: list[np.ndarray] = []
    boxes, classes = [], []
    for path, cls in pictures:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            log.warning("skipping unreadable %s", path)
            continue
        h, w = image.shape[:2]
        if min(w, h) < min_box:
            continue
        images.append(image)
        boxes.append((0.0, 0.0, float(w), float(h)))
        classes.append(cls)
    return CropSet(
        images,
        np.arange(len(images), dtype=np.int64),
        np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
        np.asarray(classes, dtype=np.int64),
    )


def read_crops(job: ClassifierTraining) -> tuple[tuple[str, ...], CropSet, CropSet, int, int]:
    """(class names, train crops, held-out crops, train pictures, held-out pictures) of
    `job.data`: a folder of crops (`train/<label>/<picture>`, `crop_folders`) or the boxes
    of a YOLO-format set."""
    if is_crop_folders(Path(job.data)):
        folders = open_folders(Path(job.data), holdout=job.holdout, seed=job.seed)
        return (
            folders.names,
            whole_crops(folders.splits["train"], job.min_box),
            whole_crops(folders.splits["val"], job.min_box),
            len(folders.splits["train"]),
            len(folders.splits["val"]),
        )
    yset = open_set(job.data)
    train_items = yset.split("train", holdout=job.holdout, seed=job.seed)
    val_items = yset.split("val", holdout=job.holdout, seed=job.seed)
    return (
        yset.names,
        collect_crops(train_items, job.min_box),
        collect_crops(val_items, job.min_box),
        len(train_items),
        len(val_items),
    )


def render(
    crops: CropSet,
    k: int,
    size: int,
    expand: float,
    rng: np.random.Generator | None,
    part: str = "whole",
) -> np.ndarray:
    """Crop k (its `part`) resized to size x size (BGR uint8); with `rng`, randomly
    widened, shifted, mirrored and lit, so the classifier does not depend on an exact box."""
    image = crops.images[crops.index[k]]
    box = np.array(face_part(crops.boxes[k], part))
    if rng is not None:
        w, h = box[2] - box[0], box[3] - box[1]
        dx, dy = rng.uniform(-0.08, 0.08, 2) * (w, h)
        box += (dx, dy, dx, dy)
        expand *= rng.uniform(0.85, 1.4)
    x1, y1, x2, y2 = expand_box(box.tolist(), expand, image.shape[1], image.shape[0])
    crop = cv2.resize(image[y1:y2, x1:x2], (size, size), interpolation=cv2.INTER_AREA)
    if rng is not None:
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        gain, bias = rng.uniform(0.75, 1.25), rng.uniform(-20, 20)
        crop = np.clip(crop.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)
    return crop


# colours of disposable caps, hairnets and cloth (BGR): blues, white, greens, black
HEADWEAR_COLOURS = (
    (200, 140, 60),
    (230, 190, 120),
    (170, 90, 30),
    (240, 240, 240),
    (210, 215, 220),
    (150, 190, 90),
    (40, 40, 40),
)


def headwear(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A hard negative for the mask classifier, painted on a face crop: a cap, hairnet
    or piece of cloth covering the top of the head down to the brows (never the mouth),
    in the colours of surgical masks. Without it a blue cap read as a blue mask."""
    out = crop.copy()
    size = out.shape[0]
    colour = np.array(HEADWEAR_COLOURS[rng.integers(len(HEADWEAR_COLOURS))], np.float32)
    colour = np.clip(colour + rng.normal(0, 12, 3), 0, 255)
    bottom = int(size * rng.uniform(0.18, 0.4))  # brows at ~35-40 % of a face crop
    mask = np.zeros(out.shape[:2], np.float32)
    centre = (size // 2 + int(rng.integers(-size // 10, size // 10 + 1)), bottom)
    axes = (int(size * rng.uniform(0.45, 0.7)), int(bottom * rng.uniform(1.0, 1.4)))
    cv2.ellipse(mask, centre, axes, 0, 180, 360, 1.0, -1)
    mask[:bottom] = np.maximum(mask[:bottom], (rng.random() < 0.5) * 1.0)
    texture = rng.normal(0, 8, out.shape).astype(np.float32)
    kind = rng.integers(3)
    if kind == 1:  # hairnet: a see-through mesh
        grid = np.zeros(out.shape[:2], np.float32)
        step = max(2, size // 16)
        grid[::step] = 1.0
        grid[:, ::step] = 1.0
        mask *= 0.35 + 0.5 * grid
    elif kind == 2:  # cloth with folds
        folds = np.sin(np.linspace(0, rng.uniform(6, 14), size))[None, :, None] * 18
        texture += folds.astype(np.float32)
    paint = np.clip(colour + texture, 0, 255)
    alpha = mask[..., None]
    return (out.astype(np.float32) * (1 - alpha) + paint * alpha).astype(np.uint8)


def degrade(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The crop as a kitchen camera sees a face: one of defocus, a face of 10-24 px
    up-scaled, heavy JPEG, or motion blur."""
    size = crop.shape[0]
    kind = rng.integers(4)
    if kind == 0:
        return cv2.GaussianBlur(crop, (0, 0), rng.uniform(0.8, 2.2))
    if kind == 1:
        small = int(rng.integers(10, 25))
        tiny = cv2.resize(crop, (small, small), interpolation=cv2.INTER_AREA)
        return cv2.resize(tiny, (size, size), interpolation=cv2.INTER_LINEAR)
    if kind == 2:
        quality = int(rng.integers(12, 45))
        ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, quality])
        decoded = cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else None
        return crop if decoded is None else np.asarray(decoded)
    length = int(rng.integers(3, 10))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    return cv2.filter2D(crop, -1, kernel)


def augmented(
    crops: CropSet, k: int, job: ClassifierTraining, rng: np.random.Generator
) -> np.ndarray:
    crop = render(crops, k, job.imgsz, job.crop_expand, rng, job.part)
    if rng.random() < job.headwear:
        crop = headwear(crop, rng)
    if rng.random() < job.degrade:
        crop = degrade(crop, rng)
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
    names, train, val, train_images, val_images = read_crops(job)
    if len(train.classes) == 0:
        raise ValueError(f"no labelled boxes of at least {job.min_box} px in {job.data}")
    counts = np.bincount(train.classes, minlength=len(names))
    log.info(
        "crops: train %d from %d images %s, held out %d from %d images",
        len(train.classes),
        train_images,
        dict(zip(names, counts.tolist(), strict=True)),
        len(val.classes),
        val_images,
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
            x = torch.from_numpy(to_batch([augmented(train, k, job, rng) for k in picked]))
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
    val_crops = [
        render(val, k, job.imgsz, job.crop_expand, None, job.part) for k in range(len(val.classes))
    ]
    heldout = evaluate_crops(exported, val_crops, val.classes.tolist(), names).summary()
    # the same held-out faces under a painted cap, hairnet or cloth, and as a kitchen
    # camera sees them (fixed seeds)
    hard = np.random.default_rng(job.seed + 1)
    heldout_headwear = evaluate_crops(
        exported, [headwear(c, hard) for c in val_crops], val.classes.tolist(), names
    ).summary()
    heldout_degraded = evaluate_crops(
        exported, [degrade(c, hard) for c in val_crops], val.classes.tolist(), names
    ).summary()
    record = job.output.with_suffix(".json")
    record.write_text(
        json.dumps(
            {
                "model": job.output.name,
                "classes": list(names),
                "train_images": train_images,
                "train_crops": int(len(train.classes)),
                "train_crops_per_class": dict(zip(names, counts.tolist(), strict=True)),
                "heldout_images": val_images,
                "heldout": heldout,
                "heldout_headwear": heldout_headwear,
                "heldout_degraded": heldout_degraded,
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
            "crop_part": job.part,
            "description": "brightwatch crop classifier trained on " + Path(job.data).name,
            "holdout": f"fraction {job.holdout}, seed {job.seed}, split by image",
            "command": job.command,
            "data_license": job.data_licence,
        },
    )
    onnx.save(model, str(job.output))
