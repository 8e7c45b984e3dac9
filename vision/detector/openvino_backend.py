"""The default CPU backend: a YOLO detector as an ONNX file or an OpenVINO IR folder
(`*.xml` + `*.bin`, e.g. ultralytics' `*_openvino_model/`), run by OpenVINO Runtime.

Same letterbox, decoding and NMS as the ONNX Runtime backend (`preprocess`,
`postprocess`), so both runtimes give the same boxes for one model file; OpenVINO's CPU
kernels (int8 with VNNI/AMX where the CPU has them) make it 2-3x faster per frame here.
The compiled model is cached once per model and machine in `cache_dir` (OpenVINO's
`CACHE_DIR`; `load_detector(..., data_dir=)` passes BW_DATA_DIR/cache/openvino, and
without a data folder nothing is cached), so a second start reads the blob instead of
compiling (0.2 instead of 0.6-2 s here); `brightwatch models install` compiles the
defaults. With `rect` (ModelSpec.rect) a frame runs at its own aspect, a model compiled
per input shape on first use (`openvino_shapes`: 640 x 384 for a 16:9 camera).

May import: openvino, numpy, the detector package.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from brightwatch.vision.detector.base import Detection, DetectorError
from brightwatch.vision.detector.metadata import (
    ModelInfo,
    file_version,
    parse_metadata,
    sidecar_names,
)
from brightwatch.vision.detector.onnx_backend import (
    DEFAULT_IMGSZ,
    ThresholdDetector,
    min_score_table,
    to_detections,
)
from brightwatch.vision.detector.openvino_shapes import ShapeUnsupported, frame_input, reshape
from brightwatch.vision.detector.postprocess import decode, guess_layout
from brightwatch.vision.detector.preprocess import letterbox

log = logging.getLogger(__name__)

IR_METADATA = "metadata.yaml"  # what ultralytics writes beside an OpenVINO export
# input shapes compiled per detector (the square and the cameras' aspects: 16:9, 4:3,
# a portrait or two); frames of further shapes run letterboxed into the square
MAX_SHAPES = 6


@cache
def available() -> bool:
    """Whether the `openvino` package imports here (the loader falls back to ONNX
    Runtime when it does not)."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


_bridge_lock = threading.Lock()
_bridge_made = False


def numpy_bridge_ready() -> None:
    """Make OpenVINO's numpy bridge once, on the thread that loads a model, before any
    two threads run one. The bridge (pybind11's numpy API table) is made on first use;
    when two threads' first inferences make it at once, one waits for it holding the GIL
    while the other, making it, waits for the GIL: the whole process stops (every thread,
    the HTTP server and Ctrl-C's handler included). Measured with openvino 2026.4: 12 of 100
    fresh processes whose two threads started together hung, 0 of 100 after this. Under a
    lock: two threads loading models at once (the vision worker's detector, the public
    pictures' face detector) wait for it without holding the GIL."""
    global _bridge_made
    with _bridge_lock:
        if _bridge_made:
            return
        import openvino as ov

        ov.Tensor(np.zeros(1, np.float32)).data  # noqa: B018  (the access makes the bridge)
        _bridge_made = True


def thread_request(requests: threading.local, compiled: Any, key: object = None) -> Any:
    """This thread's infer request of `compiled` (kept in `requests` under `key`): an
    infer request is not for two threads at once, and making one per call costs."""
    mine: dict[object, Any] = requests.__dict__.setdefault("by_key", {})
    request = mine.get(key)
    if request is None:
        request = mine[key] = compiled.create_infer_request()
    return request


def cpu_config(
    *,
    streams: int,
    threads: int | None,
    precision: str = "f32",
    hint: str = "LATENCY",
    pinning: bool | None = None,
) -> dict[str, Any]:
    """The CPU plugin's properties for a model that `streams` callers run at once, each
    with `threads` threads (None: OpenVINO's choice); the detectors' and BlazeFace's."""
    config: dict[str, Any] = {
        "PERFORMANCE_HINT": hint,
        # f32: the same boxes and scores as ONNX Runtime. OpenVINO's own default is bf16
        # on CPUs that have it (AVX512-BF16, AMX): no faster for an int8 model (33 ms
        # per 640 px frame either way here), twice as fast for an fp32 one, boxes
        # within about 0.5 % (precision="bf16" where that is wanted).
        "INFERENCE_PRECISION_HINT": precision,
        # one stream per caller that runs at once (the vision worker's parallel runs):
        # a stream runs one request at a time, so two threads sharing the latency
        # hint's single stream wait for each other (measured: 13.5 fps with two
        # threads against 15.7 with one; two streams of one thread: 18.6)
        "NUM_STREAMS": streams,
    }
    # None: OpenVINO's default (threads pinned to cores, as a plain script runs it:
    # ~8 % more frames a second for one caller here) for one caller; unpinned for
    # several, whose streams share the cores with the worker's decoding and
    # classifiers (a pinned thread cannot move to the core that is idle)
    if pinning is None and streams > 1:
        pinning = False
    if pinning is not None:
        config["ENABLE_CPU_PINNING"] = pinning
    if threads:  # per run: OpenVINO's count is for all streams together
        config["INFERENCE_NUM_THREADS"] = threads * streams
    return config


def model_file(path: Path) -> Path:
    """The file OpenVINO reads: the `.onnx` or `.xml` itself, or the one `.xml` of an IR
    folder."""
    if path.is_dir():
        found = sorted(path.glob("*.xml"))
        if len(found) != 1:
            raise DetectorError(
                f"{path} is not an OpenVINO IR folder (expected one .xml, found {len(found)})"
            )
        return found[0]
    if not path.is_file():
        raise DetectorError(f"no model at {path}")
    if path.suffix.lower() not in (".onnx", ".xml"):
        raise DetectorError(f"{path}: OpenVINO reads .onnx files and IR folders (.xml + .bin)")
    return path


def model_info(model: Any, file: Path) -> ModelInfo:
    """Names, size and task: an ONNX file's metadata (exposed by OpenVINO as the
    `framework` runtime info), else the `metadata.yaml` ultralytics writes beside an IR."""
    meta: dict[str, str] = {}
    if model.has_rt_info(["framework"]):
        framework = model.get_rt_info(["framework"]).astype(dict)
        meta = {str(k): _text(v) for k, v in framework.items()}
    sidecar = file.parent / IR_METADATA
    if not meta and file.suffix.lower() == ".xml" and sidecar.is_file():
        import yaml

        data = yaml.safe_load(sidecar.read_text()) or {}
        meta = {k: repr(v) if not isinstance(v, str) else v for k, v in data.items()}
    return parse_metadata(meta)


def _text(value: Any) -> str:
    return str(value.astype(str)) if hasattr(value, "astype") else str(value)


def with_preprocessing(model: Any) -> Any:
    """The model taking the letterboxed BGR image as it is (uint8, 1 x H x W x 3): the
    conversion to float RGB 0..1 in CHW order (`preprocess.to_tensor`) runs inside
    OpenVINO, fused with the first layer (the same values: outputs identical here)."""
    import openvino as ov
    from openvino.preprocess import ColorFormat, PrePostProcessor

    steps = PrePostProcessor(model)
    steps.input().tensor().set_element_type(ov.Type.u8).set_layout(
        ov.Layout("NHWC")
    ).set_color_format(ColorFormat.BGR)
    steps.input().model().set_layout(ov.Layout("NCHW"))
    steps.input().preprocess().convert_element_type(ov.Type.f32).convert_color(
        ColorFormat.RGB
    ).scale(255.0)
    return steps.build()


class OpenVinoDetector(ThresholdDetector):
    """Letterbox -> OpenVINO Runtime (CPU) -> decode -> class-aware NMS -> image pixels."""

    cache_key = "openvino"  # the loader passes data_dir/cache/<cache_key> as cache_dir
    frame_shaped = True  # takes `rect` (ModelSpec.rect): other backends run squares only

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
        batch_size: int = 1,
        cache_dir: str | Path | None = None,
        hint: str = "LATENCY",
        precision: str = "f32",
        concurrency: int = 1,
        pinning: bool | None = None,
        rect: bool = False,
    ) -> None:
        self.from_cache = False
        try:
            import openvino as ov
        except ImportError:
            raise DetectorError(
                "the openvino backend needs the `openvino` package (pip install openvino); "
                "or use backend = 'onnx'"
            ) from None
        numpy_bridge_ready()
        self.path = Path(path)
        file = model_file(self.path)
        if device == "cuda":
            log.warning("the openvino backend runs on the CPU; use backend 'onnx' for CUDA")
        core = ov.Core()
        self.cache_dir = Path(cache_dir) if cache_dir else None
        if self.cache_dir is not None:
            try:
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                core.set_property({"CACHE_DIR": str(self.cache_dir)})
            except OSError as exc:  # a read-only data folder: compile every start, still run
                log.warning("OpenVINO model cache off (%s): %s", self.cache_dir, exc)
                self.cache_dir = None
        try:
            model = core.read_model(str(file))
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses per failure
            raise DetectorError(f"cannot read {file} with OpenVINO: {exc}") from None
        info = model_info(model, file)
        if info.task not in ("detect", ""):
            raise DetectorError(f"{self.path} is a {info.task!r} model, not a detector")
        self.names: Sequence[str] = tuple(names or info.names or sidecar_names(file))
        if not self.names:
            raise DetectorError(
                f"{self.path} has no class names in its metadata; put them in "
                f"{file.with_suffix('.yaml')} (names: [...]) or set `names`"
            )
        self.name = name or (self.path.stem if self.path.is_file() else self.path.name)
        self.version = file_version(self.path)
        shape = model.inputs[0].get_partial_shape()
        fixed_hw = shape.rank.get_length() == 4 and all(d.is_static for d in list(shape)[2:4])
        if fixed_hw:
            self.input_size: tuple[int, int] = (shape[2].get_length(), shape[3].get_length())
        elif imgsz:
            self.input_size = (imgsz, imgsz)
        else:
            self.input_size = info.imgsz or (DEFAULT_IMGSZ, DEFAULT_IMGSZ)
        if imgsz and fixed_hw and (imgsz, imgsz) != self.input_size:
            log.info("%s has a fixed %s input; imgsz %d ignored", self.path, shape, imgsz)
        self._core, self._file, self._dynamic = core, file, shape.is_dynamic
        if shape.is_dynamic:  # one image per request: what the latency hint is built for
            model.reshape([1, 3, *self.input_size])
        self.max_batch = 1
        self._config = cpu_config(
            streams=max(1, concurrency),
            threads=threads,
            precision=precision,
            hint=hint,
            pinning=pinning,
        )
        try:
            self.compiled = self._compile(model)
        except Exception as exc:
            raise DetectorError(f"cannot compile {file} with OpenVINO: {exc}") from None
        self.from_cache = bool(self.compiled.get_property("LOADED_FROM_CACHE"))
        # frames run at their own aspect (openvino_shapes): input size -> compiled model
        self.rect = rect and self.input_size[0] == self.input_size[1]
        self._shapes: dict[tuple[int, int], Any] = {self.input_size: self.compiled}
        self._squared: set[tuple[int, int]] = set()  # shapes that failed or came past the cap
        self._shape_lock = threading.Lock()
        out_shape = self.compiled.outputs[0].get_partial_shape()
        probe = tuple(d.get_length() if d.is_static else 8400 for d in out_shape)
        self.layout = guess_layout(probe, len(self.names), info.end2end)
        self.conf = conf
        self.iou = iou
        self.max_det = max_det
        self.class_scores = dict(class_scores or {})
        self._min_scores = min_score_table(self.names, conf, self.class_scores)
        self._requests = threading.local()  # an infer request is not for two threads at once
        self.providers = ["OpenVINO CPU"]

    def __repr__(self) -> str:
        cached = ", from cache" if self.from_cache else ""
        return f"OpenVinoDetector({self.name}@{self.version}, {self.input_size}{cached})"

    def input_for(self, height: int, width: int) -> tuple[int, int]:
        """The input a `height` x `width` frame runs at: the frame's own aspect (its
        longer side the model's, the shorter rounded up to a multiple of 32; compiled on
        first use, a handful of camera shapes at most), else the model's square."""
        if not self.rect:
            return self.input_size
        size = frame_input(height, width, self.input_size[0])
        if size in self._shapes:
            return size
        if size in self._squared:
            return self.input_size
        with self._shape_lock:
            if size not in self._shapes and size not in self._squared:
                compiled = self._compile_shape(size) if len(self._shapes) < MAX_SHAPES else None
                if compiled is None:
                    self._squared.add(size)
                else:
                    self._shapes[size] = compiled
        return size if size in self._shapes else self.input_size

    def _compile(self, model: Any) -> Any:
        """`model` (read, shaped) compiled for this detector's CPU configuration."""
        return self._core.compile_model(with_preprocessing(model), "CPU", self._config)

    def _compile_shape(self, size: tuple[int, int]) -> Any:
        """The model compiled for a `size` input (cached like the square one); None when
        it cannot take one (logged: its frames keep the square input)."""
        try:
            model = self._core.read_model(str(self._file))
            if self._dynamic:
                model.reshape([1, 3, *size])
            else:
                reshape(model, self.input_size, size)
            return self._compile(model)
        except ShapeUnsupported as exc:  # not for any other shape: no further tries
            self.rect = False
            log.warning("%s runs every frame letterboxed into its square input: %s", self.name, exc)
        except RuntimeError as exc:  # OpenVINO's errors: this shape only
            log.warning(
                "%s runs %d x %d frames letterboxed into its square input: %s",
                self.name,
                size[1],
                size[0],
                exc,
            )
        return None

    def detect_batch(
        self, images: Sequence[np.ndarray], conf: float | None = None
    ) -> list[list[Detection]]:
        thresholds = self._thresholds(conf)
        results: list[list[Detection]] = []
        for image in images:
            size = self.input_for(*image.shape[:2])
            padded, box = letterbox(image, size)
            request = thread_request(self._requests, self._shapes[size], size)
            request.infer({0: padded[None]})
            output = request.get_output_tensor(0).data
            raws = decode(output, self.layout, thresholds, iou=self.iou, max_det=self.max_det)
            results.append(to_detections(raws[0], box, self.names))
        return results
