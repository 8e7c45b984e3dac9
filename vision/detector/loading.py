"""Choosing and constructing a backend for a model spec.

`load(spec)` accepts a model file, a configured or built-in name (`coco`), or a
`ModelSpec`; the backend (a key of `base.BACKENDS`) is the spec's, else chosen from the
file type: `.onnx` -> `onnx`, a folder of label files -> `labels`, anything else
ultralytics can read (`.pt`, OpenVINO folders, ...) -> `ultralytics`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from brightwatch.vision.detector.base import Detector, backend_factory
from brightwatch.vision.detector.spec import ModelSpec, resolve


def backend_for(path: Path) -> str:
    if path.suffix.lower() == ".onnx":
        return "onnx"
    if path.is_dir() and any(path.glob("*.txt")) and not any(path.glob("*.xml")):
        return "labels"
    return "ultralytics"


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
    return backend_factory(chosen)(path, **kwargs)
