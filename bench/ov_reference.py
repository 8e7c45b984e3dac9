"""The reference the default detector is held to: OpenVINO int8 yolo11n at 640 as a
plain script would run it (Frigate's CPU path), nothing of brightwatch imported.

    python -m bench.ov_reference MODEL_XML IMAGE_OR_FOLDER... [--json OUT] [--threads N]

Reads each image with OpenCV, letterboxes it to the model input, feeds the uint8 BGR
image through OpenVINO's own preprocessing (to float RGB 0..1), decodes the YOLO output
and runs OpenCV's NMS per class (conf 0.25, IoU 0.45). `bench.vision` times it as a
whole process beside `brightwatch vision detect`, and calls `Reference` in-process.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

IMAGES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


class Reference:
    def __init__(self, xml: str | Path, threads: int | None = None) -> None:
        import openvino as ov
        from openvino.preprocess import ColorFormat, PrePostProcessor

        core = ov.Core()
        model = core.read_model(str(xml))
        steps = PrePostProcessor(model)
        steps.input().tensor().set_element_type(ov.Type.u8).set_layout(
            ov.Layout("NHWC")
        ).set_color_format(ColorFormat.BGR)
        steps.input().model().set_layout(ov.Layout("NCHW"))
        steps.input().preprocess().convert_element_type(ov.Type.f32).convert_color(
            ColorFormat.RGB
        ).scale(255.0)
        config = {"INFERENCE_NUM_THREADS": threads} if threads else {}
        self.compiled = core.compile_model(steps.build(), "CPU", config)
        self.request = self.compiled.create_infer_request()
        shape = self.compiled.inputs[0].get_partial_shape()
        self.side = shape[1].get_length()  # NHWC after preprocessing: square input

    def detect(self, image: np.ndarray) -> list[tuple[int, float, list[float]]]:
        """(class id, score, [x1, y1, x2, y2] in image pixels), best first."""
        h, w = image.shape[:2]
        r = min(self.side / h, self.side / w)
        nw, nh = round(w * r), round(h * r)
        px, py = (self.side - nw) // 2, (self.side - nh) // 2
        canvas = np.full((self.side, self.side, 3), 114, np.uint8)
        canvas[py : py + nh, px : px + nw] = cv2.resize(image, (nw, nh))
        self.request.infer({0: canvas[None]})
        pred = self.request.get_output_tensor(0).data[0].T  # N x (4 + nc)
        scores = pred[:, 4:].max(1)
        keep = scores >= 0.25
        pred, scores = pred[keep], scores[keep]
        classes = pred[:, 4:].argmax(1)
        xywh = pred[:, :4].copy()
        xywh[:, 0] -= xywh[:, 2] / 2
        xywh[:, 1] -= xywh[:, 3] / 2
        kept = cv2.dnn.NMSBoxesBatched(xywh.tolist(), scores.tolist(), classes.tolist(), 0.25, 0.45)
        out = []
        for i in sorted(np.asarray(kept).reshape(-1), key=lambda i: -scores[i]):
            x, y, bw, bh = xywh[i]
            box = [(x - px) / r, (y - py) / r, (x + bw - px) / r, (y + bh - py) / r]
            box = [float(np.clip(v, 0, w if k % 2 == 0 else h)) for k, v in enumerate(box)]
            out.append((int(classes[i]), float(scores[i]), box))
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("sources", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    files = []
    for source in args.sources:
        found = sorted(source.iterdir()) if source.is_dir() else [source]
        files += [f for f in found if f.suffix.lower() in IMAGES]
    reference = Reference(args.model, args.threads)
    sink = args.json.open("w") if args.json else None
    total = 0
    for path in files:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        found = reference.detect(image)
        total += len(found)
        if sink:
            objects = [{"class_id": c, "score": s, "box": b} for c, s, b in found]
            sink.write(json.dumps({"source": str(path), "objects": objects}) + "\n")
    if sink:
        sink.close()
    print(f"{total} objects in {len(files)} images", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
