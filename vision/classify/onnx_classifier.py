"""Crop classifiers exported to ONNX: the project's own (trained by `vision train
classifier`) and ultralytics `-cls` exports alike.

Input: RGB, 0..1, N x 3 x S x S (S from the metadata `imgsz`), each crop resized to S x S;
output: one score per class (softmax applied here when the graph does not end with one).
The metadata carries `names`, `imgsz` and, for ours, `crop_expand` (how much the boxes
were widened around the object when the classifier was trained) and `crop_part` (the
part of a face box it judges: `lower`, nose to chin, for the mask classifier).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from brightwatch.vision.detector.base import Attribute, DetectorError
from brightwatch.vision.detector.metadata import file_version, imgsz_from, names_from, sidecar_names
from brightwatch.vision.detector.onnx_backend import providers_for
from brightwatch.vision.detector.spec import BUILTIN_CLASSIFIERS, ModelSpec, resolve

log = logging.getLogger(__name__)


class OnnxAttributeClassifier:
    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        device: str = "cpu",
        threads: int | None = None,
        names: Sequence[str] | None = None,
        batch_size: int = 32,
        **_ignored: Any,  # detector-only options (conf, iou, imgsz ...) of a shared spec
    ) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise DetectorError(f"no ONNX classifier at {self.path}")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(
                str(self.path), sess_options=options, providers=providers_for(device)
            )
        except Exception as exc:  # ORT raises its own exception types per failure
            raise DetectorError(f"cannot load {self.path} with ONNX Runtime: {exc}") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("task", "classify") != "classify":
            raise DetectorError(f"{self.path} is a {meta['task']!r} model, not a classifier")
        found = names_from(meta["names"]) if "names" in meta else sidecar_names(self.path)
        self.names: Sequence[str] = tuple(names or found)
        if not self.names:
            raise DetectorError(f"{self.path} has no class names in its metadata")
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        size = imgsz_from(meta.get("imgsz", "")) or (
            (int(model_input.shape[2]), int(model_input.shape[3]))
            if isinstance(model_input.shape[2], int)
            else (64, 64)
        )
        self.input_size: tuple[int, int] = size
        self.crop_expand = float(meta.get("crop_expand", 1.0))
        # which part of a face box it was trained on (`lower`: nose to chin; crops.face_part)
        self.crop_part = meta.get("crop_part", "whole")
        self.max_batch = (
            model_input.shape[0]
            if isinstance(model_input.shape[0], int) and model_input.shape[0] > 0
            else batch_size
        )
        self.name = name or self.path.stem
        self.version = file_version(self.path)

    def __repr__(self) -> str:
        return f"OnnxAttributeClassifier({self.name}@{self.version}, {self.names})"

    def probabilities(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """(n, classes) scores summing to one per crop."""
        if not crops:
            return np.zeros((0, len(self.names)), dtype=np.float32)
        h, w = self.input_size
        out = []
        for start in range(0, len(crops), self.max_batch):
            chunk = crops[start : start + self.max_batch]
            batch = np.stack(
                [
                    cv2.resize(c, (w, h), interpolation=cv2.INTER_AREA)
                    if c.size
                    else np.zeros((h, w, 3), np.uint8)
                    for c in chunk
                ]
            )
            tensor = np.ascontiguousarray(batch[..., ::-1].transpose(0, 3, 1, 2), np.float32)
            tensor *= np.float32(1 / 255)
            scores = self.session.run(None, {self.input_name: tensor})[0].astype(np.float32)
            sums = scores.sum(1)
            if scores.min() < 0 or not np.allclose(sums, 1.0, atol=1e-3):
                shifted = np.exp(scores - scores.max(1, keepdims=True))
                scores = shifted / shifted.sum(1, keepdims=True)
            out.append(scores)
        return np.concatenate(out)

    def classify(self, crops: Sequence[np.ndarray]) -> list[Attribute]:
        probs = self.probabilities(crops)
        best = probs.argmax(1) if len(probs) else np.zeros(0, dtype=int)
        return [Attribute(self.names[k], float(probs[i, k])) for i, k in enumerate(best)]


def load_classifier(
    spec: str | ModelSpec,
    *,
    models: Mapping[str, ModelSpec] | None = None,
    data_dir: Path | None = None,
    **options: Any,
) -> OnnxAttributeClassifier:
    """A classifier from a file, a configured name (VisionSettings.classifiers) or the
    built-in `mask`."""
    if isinstance(spec, ModelSpec):
        name, model = Path(spec.path).stem, spec
    else:
        name, model = resolve(
            spec, models=models, data_dir=data_dir, builtin=BUILTIN_CLASSIFIERS, what="classifier"
        )
    return OnnxAttributeClassifier(model.path, **{"name": name, **model.options(), **options})
