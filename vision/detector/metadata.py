"""What a model says about itself: class names, input size, stride, task.

Ultralytics exports write these into the ONNX metadata as Python literals
(`names: "{0: 'person', ...}"`, `imgsz: "[320, 320]"`). A model without metadata may ship
a sidecar beside it (`<model>.yaml` with `names:` as in a data.yaml, or `<model>.names`
with one name per line); an explicit `names` option wins over both.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class ModelInfo:
    names: tuple[str, ...]
    imgsz: tuple[int, int] | None  # (height, width) the model was exported for
    stride: int
    task: str
    end2end: bool
    description: str = ""


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text


def names_from(raw: Any) -> tuple[str, ...]:
    """Class names from a mapping id -> name, a list, or 'a,b,c'."""
    if isinstance(raw, str):
        parsed = _literal(raw)
        if isinstance(parsed, str):
            return tuple(n.strip() for n in parsed.split(",") if n.strip())
        raw = parsed
    if isinstance(raw, Mapping):
        ids = sorted(int(k) for k in raw)
        if ids != list(range(len(ids))):
            raise ValueError("class ids must be 0..n-1")
        by_id = {int(k): str(v) for k, v in raw.items()}
        return tuple(by_id[i] for i in ids)
    if isinstance(raw, Sequence):
        return tuple(str(n) for n in raw)
    raise ValueError(f"cannot read class names from {raw!r}")


def imgsz_from(raw: Any) -> tuple[int, int] | None:
    value = _literal(raw) if isinstance(raw, str) else raw
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, list | tuple) and len(value) == 2:
        return (int(value[0]), int(value[1]))
    return None


def parse_metadata(meta: Mapping[str, str]) -> ModelInfo:
    names = names_from(meta["names"]) if "names" in meta else ()
    return ModelInfo(
        names=names,
        imgsz=imgsz_from(meta["imgsz"]) if "imgsz" in meta else None,
        stride=int(meta.get("stride", 32) or 32),
        task=str(meta.get("task", "detect")),
        end2end=str(meta.get("end2end", "False")).lower() == "true",
        description=str(meta.get("description", "")),
    )


def sidecar_names(model: Path) -> tuple[str, ...]:
    """Names from `<model>.yaml` / `<model>.names` beside the model; () when neither."""
    yaml_file = model.with_suffix(".yaml")
    if yaml_file.exists():
        import yaml

        data = yaml.safe_load(yaml_file.read_text()) or {}
        if "names" in data:
            return names_from(data["names"])
    names_file = model.with_suffix(".names")
    if names_file.exists():
        return tuple(n.strip() for n in names_file.read_text().splitlines() if n.strip())
    return ()


def file_version(path: Path) -> str:
    """A short content hash: two files with the same version are the same model."""
    digest = hashlib.sha256()
    target = path
    if path.is_dir():  # e.g. an OpenVINO folder: hash its files in name order
        for part in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(part.name.encode())
            digest.update(part.read_bytes())
        return digest.hexdigest()[:12]
    with open(target, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]
