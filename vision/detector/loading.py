"""Choosing and constructing a backend for a model spec.

`load(spec)` accepts a model file, a configured or built-in name (`coco`), or a
`ModelSpec`; the backend (a key of `base.BACKENDS`) is the spec's, else chosen from the
file type and device: on the CPU an `.onnx` file or an OpenVINO IR folder goes to the
first runtime of `RUNTIMES` that can run here (OpenVINO, then ONNX Runtime for `.onnx`
or ultralytics for IR); with `device = "cuda"` (or `auto` where ONNX Runtime has CUDA)
an `.onnx` goes to `onnx`; a folder of label files -> `labels`; anything else
ultralytics can read (`.pt`, ...) -> `ultralytics`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from brightwatch.vision.detector.base import (
    Detector,
    DetectorError,
    backend_available,
    backend_factory,
)
from brightwatch.vision.detector.spec import ModelSpec, resolve

log = logging.getLogger(__name__)

ModelKind = Literal["onnx", "openvino_ir", "labels", "other"]

# Backends tried in order for each kind of model file, by where it runs: the first that
# can run here (`base.backend_available`) is chosen; the last is the answer when none can
# (its own error then says what is missing).
RUNTIMES: dict[tuple[ModelKind, str], tuple[str, ...]] = {
    ("onnx", "cpu"): ("openvino", "onnx"),
    ("onnx", "gpu"): ("onnx",),
    ("openvino_ir", "cpu"): ("openvino", "ultralytics"),
    ("openvino_ir", "gpu"): ("openvino", "ultralytics"),
    ("labels", "cpu"): ("labels",),
    ("labels", "gpu"): ("labels",),
    ("other", "cpu"): ("ultralytics",),
    ("other", "gpu"): ("ultralytics",),
}


def model_kind(path: Path) -> ModelKind:
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return "onnx"
    if suffix == ".xml" or (path.is_dir() and any(path.glob("*.xml"))):
        return "openvino_ir"
    if path.is_dir() and any(path.glob("*.txt")):
        return "labels"
    if path.name.endswith("_openvino_model"):  # ultralytics' name for an IR folder
        return "openvino_ir"
    return "other"


def _cuda() -> bool:
    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return "CUDAExecutionProvider" in ort.get_available_providers()


def backends_for(path: Path, device: str = "cpu") -> list[str]:
    """The backends that can run this file here, best first (the last of its `RUNTIMES`
    entry when none can: its own error says what is missing)."""
    where = "gpu" if device == "cuda" or (device == "auto" and _cuda()) else "cpu"
    choices = RUNTIMES[(model_kind(path), where)]
    return [key for key in choices if backend_available(key)] or [choices[-1]]


def backend_for(path: Path, device: str = "cpu") -> str:
    return backends_for(path, device)[0]


def load(
    spec: str | ModelSpec,
    *,
    backend: str | None = None,
    models: Mapping[str, ModelSpec] | None = None,
    data_dir: Path | None = None,
    **options: Any,
) -> Detector:
    if isinstance(spec, ModelSpec):
        name, model = Path(spec.path).stem, spec
    else:
        name, model = resolve(spec, models=models, data_dir=data_dir)
    path = Path(model.path)
    kwargs: dict[str, Any] = {"name": name, **model.options(), **options}
    given = backend or model.backend
    chosen = [given] if given else backends_for(path, str(kwargs.get("device", "cpu")))
    errors: list[DetectorError] = []
    for key in chosen:
        try:
            return construct(key, path, data_dir, kwargs)
        except DetectorError as exc:
            # a file the preferred runtime cannot read (e.g. an ONNX Runtime QOperator
            # int8 export under OpenVINO) goes to the next one that can run it
            errors.append(exc)
            log.info("%s: the %s backend cannot run it (%s)", path, key, exc)
    raise errors[0]


def construct(key: str, path: Path, data_dir: Path | None, kwargs: dict[str, Any]) -> Detector:
    factory = backend_factory(key)
    options = dict(kwargs)
    # a backend that caches compiled models keeps them under the data folder
    cache_key = getattr(factory, "cache_key", None)
    if cache_key and data_dir is not None and "cache_dir" not in options:
        options["cache_dir"] = Path(data_dir) / "cache" / cache_key
    if not getattr(factory, "frame_shaped", False) and options.pop("rect", False):
        log.warning("%s: the %s backend runs square inputs only (rect ignored)", path, key)
    return factory(path, **options)
