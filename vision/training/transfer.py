"""Starting weights for training from an ultralytics ONNX export (fp32 or dynamically
quantised int8), when no `.pt` is at hand.

The only pretrained detectors here are ONNX exports (`../shared/models/coco`), and nothing
may be downloaded. An export holds the conv weights with the batch norms folded in (and,
for the int8 ones, quantised per tensor: w = (q - zero_point) x scale). We put them back
into the matching architecture (`yolo11n.yaml` for a YOLO11n export) and un-fold the batch
norms: each BN gets the mean and variance of its conv's output measured on a few
calibration images, gamma = sqrt(var + eps) and beta = folded bias + mean, so the network
computes the export's function in eval mode and nearly the same in train mode. The result
is saved as an ultralytics checkpoint: training from it transfers every layer whose shape
matches (all but the class-score convs when the class count differs), which makes a
usable detector from a few hundred images in a few CPU epochs instead of hundreds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


class TransferError(ValueError):
    pass


def folded_weights(onnx_path: Path) -> dict[str, np.ndarray]:
    """`<module>.weight` / `<module>.bias` of every conv in an ultralytics ONNX export,
    de-quantised to float32 where the export is int8."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    tensors = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    out: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        if not name.startswith("model."):
            continue
        if name.endswith(".weight_quantized"):
            base = name.removesuffix("_quantized")
            scale = tensors[base + "_scale"].astype(np.float32)
            zero = tensors[base + "_zero_point"].astype(np.float32)
            if scale.ndim == 1 and scale.size == value.shape[0] and value.ndim == 4:
                scale, zero = scale[:, None, None, None], zero[:, None, None, None]  # per channel
            out[base] = (value.astype(np.float32) - zero) * scale
        elif name.endswith((".weight", ".bias")):
            out[name] = value.astype(np.float32)
    if not out:
        raise TransferError(f"{onnx_path}: no ultralytics layer weights (model.N...) found")
    return out


def unfold_into(
    model: Any, weights: dict[str, np.ndarray], calibration: Sequence[np.ndarray]
) -> tuple[int, list[str]]:
    """Load folded weights into an unfused ultralytics model in place; returns the number
    of layers loaded and the names skipped for a shape mismatch."""
    import torch
    from torch import nn
    from ultralytics.nn.modules.conv import Conv

    loaded, skipped = 0, []
    folded_bias: dict[nn.BatchNorm2d, torch.Tensor] = {}
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, Conv) and isinstance(getattr(module, "bn", None), nn.BatchNorm2d):
                w, b = weights.get(f"{name}.conv.weight"), weights.get(f"{name}.conv.bias")
                if w is None or b is None or tuple(w.shape) != tuple(module.conv.weight.shape):
                    skipped.append(name)
                    continue
                module.conv.weight.copy_(torch.from_numpy(w))
                bn = module.bn
                bias = torch.from_numpy(b)
                folded_bias[bn] = bias
                # the folded function exactly: BN(x) = x + bias in eval mode
                assert bn.running_mean is not None and bn.running_var is not None
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0)
                bn.weight.fill_(float(np.sqrt(1.0 + bn.eps)))
                bn.bias.copy_(bias)
                loaded += 1
            elif type(module) is nn.Conv2d and module.bias is not None:
                w, b = weights.get(f"{name}.weight"), weights.get(f"{name}.bias")
                if name.endswith(".dfl.conv"):
                    continue  # fixed, not learnt
                if w is None or b is None or tuple(w.shape) != tuple(module.weight.shape):
                    skipped.append(name)
                    continue
                module.weight.copy_(torch.from_numpy(w))
                module.bias.copy_(torch.from_numpy(b))
                loaded += 1
    if loaded == 0:
        raise TransferError("no layer of the export matches the architecture")
    _calibrate(model, folded_bias, calibration)
    return loaded, skipped


def _calibrate(model: Any, folded_bias: dict[Any, Any], images: Sequence[np.ndarray]) -> None:
    """Measure each conv's output statistics under the folded function, then give each BN
    the statistics it would see in training, keeping the function unchanged."""
    import torch

    sums: dict[Any, list[Any]] = {bn: [0.0, 0.0, 0] for bn in folded_bias}
    convs = {}
    for module in model.modules():
        bn = getattr(module, "bn", None)
        if bn in folded_bias:
            convs[module.conv] = bn

    def hook(conv: Any, _inputs: Any, output: Any) -> None:
        stats = sums[convs[conv]]
        stats[0] = stats[0] + output.sum(dim=(0, 2, 3))
        stats[1] = stats[1] + (output**2).sum(dim=(0, 2, 3))
        stats[2] += output.shape[0] * output.shape[2] * output.shape[3]

    handles = [conv.register_forward_hook(hook) for conv in convs]
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(images), 8):
                batch = np.stack(images[start : start + 8])[..., ::-1].transpose(0, 3, 1, 2)
                model(torch.from_numpy(np.ascontiguousarray(batch, np.float32) / 255.0))
    finally:
        for handle in handles:
            handle.remove()
    with torch.no_grad():
        for bn, (total, squares, count) in sums.items():
            if count == 0:
                continue
            mean = total / count
            var = torch.clamp(squares / count - mean**2, min=1e-6)
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            bn.weight.copy_(torch.sqrt(var + bn.eps))
            bn.bias.copy_(folded_bias[bn] + mean)


def checkpoint_from_onnx(
    onnx_path: Path,
    architecture: str,
    output: Path,
    calibration_images: Sequence[Path],
    *,
    imgsz: int = 320,
) -> Path:
    """An ultralytics `.pt` holding the export's weights in `architecture` (a .yaml such as
    `yolo11n.yaml`), with the export's class names."""
    import cv2
    import torch

    from brightwatch.vision.detector.metadata import names_from
    from brightwatch.vision.detector.preprocess import letterbox
    from brightwatch.vision.ultralytics_env import import_ultralytics

    ul = import_ultralytics("initialising from an ONNX export")
    import onnxruntime as ort

    meta = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = names_from(meta.get_modelmeta().custom_metadata_map.get("names", "[]"))
    if not names:
        raise TransferError(f"{onnx_path}: no class names in the metadata")
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel(architecture, nc=len(names), verbose=False)
    model.names = dict(enumerate(names))
    images = []
    for path in calibration_images:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is not None:
            images.append(letterbox(image, (imgsz, imgsz))[0])
    if not images:
        raise TransferError("no readable calibration images")
    loaded, skipped = unfold_into(model, folded_weights(onnx_path), images)
    if skipped:
        raise TransferError(
            f"{onnx_path} does not fit {architecture}: {len(skipped)} layers differ "
            f"(first: {', '.join(skipped[:3])}); pick the export's own architecture"
        )
    log.info("initialised %d layers of %s from %s", loaded, architecture, onnx_path.name)
    output.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "model": model.float(),
            "train_args": {"task": "detect", "imgsz": imgsz},
            "date": datetime.now(UTC).isoformat(),
            "version": ul.__version__,
            "description": f"weights of {onnx_path.name} (de-quantised, BN re-estimated)",
        },
        output,
    )
    return output
