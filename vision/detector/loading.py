"""Choosing and constructing a backend for a model spec.

`load(spec)` accepts a model file, a configured or built-in name (`coco`), or a
`ModelSpec`; the backend is the spec's, else chosen from the file type: `.onnx` -> `onnx`,
anything else ultralytics can read (`.pt`, OpenVINO folders, ...) -> `ultralytics`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vision.detector.base import BACKENDS, Detector, DetectorError
from vision.detector.spec import ModelSpec, resolve

# Backends living in this package, imported on first use so that their registration
# runs; the ultralytics one imports ultralytics itself only when a model is loaded.
BUILTIN_BACKENDS = {
    "onnx": "vision.detector.onnx_backend",
    "ultralytics": "vision.detector.ultralytics_backend",
    "labels": "vision.detector.labels_backend",
}


def backend_for(path: Path) -> str:
    if path.suffix.lower() == ".onnx":
        return "onnx"
    if path.is_dir() and any(path.glob("*.txt")) and not any(path.glob("*.xml")):
        return "labels"
    return "ultralytics"


def factory(backend: str) -> Any:
    if backend not in BACKENDS and backend in BUILTIN_BACKENDS:
        importlib.import_module(BUILTIN_BACKENDS[backend])
    found = BACKENDS.get(backend)
    if found is None:
        known = sorted(set(BACKENDS) | set(BUILTIN_BACKENDS))
        raise DetectorError(f"no detector backend {backend!r} (known: {', '.join(known)})")
    return found


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
    chosen = backend or model.backend or backend_for(path)
    kwargs: dict[str, Any] = {"name": name, **model.options(), **options}
    return factory(chosen)(path, **kwargs)
