"""int8 versions of an ONNX detector, with ONNX Runtime's quantisation tools.

- `dynamic`: weights int8, activations quantised at run time (ConvInteger). No data
  needed; how the shared COCO exports were made. On CPUs without VNNI it is often no
  faster than fp32.
- `static`: weights int8 per channel and activations int8 with ranges calibrated on sample
  frames (QLinearConv). The detection head's decoding (DFL, box arithmetic, sigmoid,
  concatenation) stays in float so box coordinates keep their precision.
The metadata (class names, image size, stride) is carried over; `bench.vision` measures
which variant is fastest on the machine at hand.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np


def _metadata(path: Path) -> dict[str, str]:
    import onnx

    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def _restore_metadata(target: Path, meta: dict[str, str], note: str) -> None:
    import onnx

    model = onnx.load(str(target))
    kept = {p.key: p.value for p in model.metadata_props}
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, {**kept, **meta, "quantization": note})
    onnx.save(model, str(target))


def quantize_dynamic_int8(source: Path, target: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    meta = _metadata(source)
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "q.onnx"
        quantize_dynamic(str(source), str(staged), weight_type=QuantType.QUInt8)
        target.write_bytes(staged.read_bytes())
    _restore_metadata(target, meta, "dynamic int8 (onnxruntime quantize_dynamic)")
    return target


def head_nodes(model: object) -> list[str]:
    """Names of the non-conv nodes of the module that produces the output (the YOLO
    Detect head: DFL, anchors, box decoding), kept in float."""
    graph = model.graph  # type: ignore[attr-defined]
    output = graph.output[0].name
    producer = next(n for n in graph.node if output in n.output)
    parts = producer.name.strip("/").split("/")
    prefix = "/" + parts[0] + "/" if len(parts) > 1 else producer.name
    return [n.name for n in graph.node if n.name.startswith(prefix) and n.op_type != "Conv"]


def quantize_static_int8(
    source: Path, target: Path, calibration: Sequence[Path], *, max_images: int = 64
) -> Path:
    """Static int8 (QOperator, s8 weights per channel, u8 activations), calibrated by
    min/max over letterboxed `calibration` images at the model's own input size."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from brightwatch.vision.detector.preprocess import prepare

    session = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    model_input = session.get_inputs()[0]
    h, w = (int(d) if isinstance(d, int) else 640 for d in model_input.shape[2:4])
    frames = []
    for path in calibration[:max_images]:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is not None:
            frames.append(image)
    if not frames:
        raise ValueError("no readable calibration images")

    class Frames(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches: Iterator[np.ndarray] = (prepare([f], (h, w))[0] for f in frames)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self.batches, None)
            return None if batch is None else {model_input.name: batch}

    meta = _metadata(source)
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(source), str(pre))
        staged = Path(tmp) / "q.onnx"
        quantize_static(
            str(pre),
            str(staged),
            Frames(),
            quant_format=QuantFormat.QOperator,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=head_nodes(onnx.load(str(pre))),
        )
        target.write_bytes(staged.read_bytes())
    _restore_metadata(target, meta, f"static int8, calibrated on {len(frames)} images")
    return target
