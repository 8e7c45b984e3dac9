"""The default backend: any YOLO detector exported to ONNX, run by ONNX Runtime on the CPU
(or CUDA when asked and available)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from brightwatch.vision.detector.base import Detection, DetectorError
from brightwatch.vision.detector.metadata import file_version, parse_metadata, sidecar_names
from brightwatch.vision.detector.postprocess import Raw, decode, guess_layout
from brightwatch.vision.detector.preprocess import Letterbox, prepare

log = logging.getLogger(__name__)

DEFAULT_IMGSZ = 640  # for inputs with a dynamic size and no imgsz in the metadata
DEFAULT_BATCH = 8  # images per run for models with a dynamic batch axis


def providers_for(device: str) -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device in ("cuda", "auto") and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "cuda":
        log.warning(
            "CUDA asked for but ONNX Runtime has no CUDAExecutionProvider (have %s); "
            "running on the CPU",
            ", ".join(available),
        )
    return ["CPUExecutionProvider"]


def min_score_table(
    names: Sequence[str], conf: float, class_scores: Mapping[str, float]
) -> np.ndarray:
    """One minimum score per class id; unknown class names are an error (a typo would
    otherwise silently keep the default)."""
    unknown = sorted(set(class_scores) - set(names))
    if unknown:
        raise DetectorError(
            f"class_scores names classes the model does not have: {', '.join(unknown)}"
        )
    return np.array([class_scores.get(n, conf) for n in names], dtype=np.float32)


def to_detections(raw: Raw, box: Letterbox, names: Sequence[str]) -> list[Detection]:
    mapped = box.unmap(raw.boxes)
    out = []
    for (x1, y1, x2, y2), score, cls in zip(mapped, raw.scores, raw.classes, strict=True):
        if x2 <= x1 or y2 <= y1:  # entirely in the padding
            continue
        out.append(
            Detection(
                label=names[cls] if 0 <= cls < len(names) else str(int(cls)),
                score=float(score),
                box=(float(x1), float(y1), float(x2), float(y2)),
                class_id=int(cls),
            )
        )
    return out


class ThresholdDetector:
    """What the exported-model backends share: one image is a batch of one, and the
    per-class minimum scores come from the loaded table unless a call names its own
    `conf`. Subclasses set `names`, `class_scores`, `_min_scores` and `detect_batch`."""

    names: Sequence[str]
    class_scores: dict[str, float]
    _min_scores: np.ndarray

    def detect_batch(
        self, images: Sequence[np.ndarray], conf: float | None = None
    ) -> list[list[Detection]]:
        raise NotImplementedError

    def _thresholds(self, conf: float | None) -> np.ndarray:
        if conf is None:
            return self._min_scores
        return min_score_table(self.names, conf, self.class_scores)

    def detect(self, image: np.ndarray, conf: float | None = None) -> list[Detection]:
        return self.detect_batch([image], conf)[0]


class OnnxDetector(ThresholdDetector):
    """Letterbox -> ONNX Runtime -> decode -> class-aware NMS -> image pixels."""

    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        conf: float = 0.25,
        iou: float = 0.45,
        class_scores: Mapping[str, float] | None = None,
        imgsz: int | None = None,
        device: str = "cpu",
        threads: int | None = None,
        names: Sequence[str] | None = None,
        max_det: int = 300,
        batch_size: int = DEFAULT_BATCH,
        concurrency: int = 1,  # a session runs concurrent calls as it is
    ) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise DetectorError(f"no ONNX model at {self.path}")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # no busy-waiting between runs: on a node shared by many cameras a spinning pool
        # burns the cores the other sessions need (measured: 2x CPU per frame, 2 threads)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(
                str(self.path), sess_options=options, providers=providers_for(device)
            )
        except Exception as exc:  # ORT raises its own exception types per failure
            raise DetectorError(f"cannot load {self.path} with ONNX Runtime: {exc}") from None
        info = parse_metadata(self.session.get_modelmeta().custom_metadata_map)
        if info.task not in ("detect", ""):
            raise DetectorError(f"{self.path} is a {info.task!r} model, not a detector")
        self.names: Sequence[str] = tuple(names or info.names or sidecar_names(self.path))
        if not self.names:
            raise DetectorError(
                f"{self.path} has no class names in its metadata; put them in "
                f"{self.path.with_suffix('.yaml')} (names: [...]) or set `names`"
            )
        self.name = name or self.path.stem
        self.version = file_version(self.path)
        self.providers = self.session.get_providers()
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        shape = model_input.shape  # e.g. [1, 3, 320, 320] or ['batch', 3, 'h', 'w']
        fixed_hw = all(isinstance(d, int) and d > 0 for d in shape[2:4])
        if fixed_hw:
            self.input_size: tuple[int, int] = (int(shape[2]), int(shape[3]))
        elif imgsz:
            self.input_size = (imgsz, imgsz)
        else:
            self.input_size = info.imgsz or (DEFAULT_IMGSZ, DEFAULT_IMGSZ)
        if imgsz and fixed_hw and (imgsz, imgsz) != self.input_size:
            log.info("%s has a fixed %s input; imgsz %d ignored", self.path, shape, imgsz)
        self.max_batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else batch_size
        out_shape = self.session.get_outputs()[0].shape
        probe = tuple(d if isinstance(d, int) else 8400 for d in out_shape)
        self.layout = guess_layout(probe, len(self.names), info.end2end)
        self.conf = conf
        self.iou = iou
        self.max_det = max_det
        self.class_scores = dict(class_scores or {})
        self._min_scores = min_score_table(self.names, conf, self.class_scores)

    def __repr__(self) -> str:
        return f"OnnxDetector({self.name}@{self.version}, {self.input_size}, {self.providers[0]})"

    def detect_batch(
        self, images: Sequence[np.ndarray], conf: float | None = None
    ) -> list[list[Detection]]:
        thresholds = self._thresholds(conf)
        results: list[list[Detection]] = []
        for start in range(0, len(images), self.max_batch):
            chunk = images[start : start + self.max_batch]
            tensor, boxes = prepare(chunk, self.input_size)
            output = self.session.run(None, {self.input_name: tensor})[0]
            raws = decode(output, self.layout, thresholds, iou=self.iou, max_det=self.max_det)
            results += [to_detections(r, b, self.names) for r, b in zip(raws, boxes, strict=True)]
        return results
