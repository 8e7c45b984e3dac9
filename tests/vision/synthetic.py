"""Tiny ONNX models with known outputs, built in the test (no weights in the repository).

`constant_detector` always answers the same raw YOLOv8 output, so a test knows exactly
which boxes must come out after letterbox, decoding, NMS and unmapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _save(graph, path: Path, metadata: dict[str, str] | None) -> Path:  # type: ignore[no-untyped-def]
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if metadata:
        helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def constant_detector(
    path: Path,
    rows: Sequence[Sequence[float]],
    names: Sequence[str] | None,
    *,
    imgsz: int = 320,
    batch: int | str = 1,
    metadata: dict[str, str] | None = None,
) -> Path:
    """A detector whose output0 is `rows` (anchors x (4 + nc)) as [B, 4 + nc, N], for
    every image of the batch (output = constant + 0 x mean(input), so the batch axis and
    the input are really used)."""
    from onnx import TensorProto, helper, numpy_helper

    table = np.asarray(rows, dtype=np.float32).T[None]  # 1, 4+nc, N
    channels, anchors = table.shape[1:]
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["images"], ["m"], axes=[1, 2, 3], keepdims=1),
            helper.make_node("Mul", ["m", "zero"], ["z"]),  # (B, 1, 1, 1)
            helper.make_node("Reshape", ["z", "shape3"], ["z3"]),  # (B, 1, 1)
            helper.make_node("Add", ["z3", "table"], ["output0"]),
        ],
        "constant_detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch, 3, imgsz, imgsz])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [batch, channels, anchors])],
        initializer=[
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(np.zeros(1, np.float32), "zero"),
            numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "shape3"),
        ],
    )
    meta = {"task": "detect", "stride": "32", "imgsz": f"[{imgsz}, {imgsz}]"}
    if names is not None:
        meta["names"] = repr(dict(enumerate(names)))
    meta.update(metadata or {})
    return _save(graph, path, meta)


def constant_classifier(
    path: Path, scores: Sequence[float], names: Sequence[str], *, imgsz: int = 32
) -> Path:
    """A classifier answering `scores` (probabilities or raw logits) for every crop."""
    from onnx import TensorProto, helper, numpy_helper

    vec = np.asarray(scores, dtype=np.float32)[None]
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["m"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Reshape", ["z", "shape2"], ["z2"]),
        helper.make_node("Add", ["z2", "vec"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes,
        "constant_classifier",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, imgsz, imgsz])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", len(names)])],
        initializer=[
            numpy_helper.from_array(vec, "vec"),
            numpy_helper.from_array(np.zeros(1, np.float32), "zero"),
            numpy_helper.from_array(np.array([-1, 1], np.int64), "shape2"),
        ],
    )
    meta = {
        "task": "classify",
        "names": repr(dict(enumerate(names))),
        "imgsz": f"[{imgsz}, {imgsz}]",
        "crop_expand": "1.5",
    }
    return _save(graph, path, meta)


def yolo_set(
    root: Path,
    images: dict[str, tuple[int, int, list[tuple[int, float, float, float, float]]]],
    names: Sequence[str],
) -> Path:
    """A YOLO-format set: {file name: (width, height, [(class, cx, cy, w, h) normalised])};
    each labelled box is painted (a colour per class) on grey so a model could learn it."""
    import cv2
    import yaml

    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    colours = [(0, 0, 255), (255, 0, 0), (0, 255, 0), (0, 255, 255)]
    for name, (w, h, boxes) in images.items():
        image = np.full((h, w, 3), 127, np.uint8)
        lines = []
        for cls, cx, cy, bw, bh in boxes:
            x1, y1 = int((cx - bw / 2) * w), int((cy - bh / 2) * h)
            x2, y2 = int((cx + bw / 2) * w), int((cy + bh / 2) * h)
            cv2.rectangle(image, (x1, y1), (x2, y2), colours[cls % len(colours)], -1)
            lines.append(f"{cls} {cx} {cy} {bw} {bh}\n")
        cv2.imwrite(str(root / "images" / "train" / name), image)
        (root / "labels" / "train" / (Path(name).stem + ".txt")).write_text("".join(lines))
    (root / "data.yaml").write_text(
        yaml.safe_dump(
            {
                "path": ".",
                "train": "images/train",
                "val": "images/train",
                "names": dict(enumerate(names)),
            }
        )
    )
    return root


def labelled_video(
    root: Path, frames: Sequence[list[tuple[int, float, float, float, float]]], size: int = 96
) -> tuple[Path, Path]:
    """An MJPG .avi with one painted square per label, and a label file per frame
    (`frame_NNNN.txt`; frames without objects get no file)."""
    import cv2

    video = root / "clip.avi"
    labels = root / "clip_labels"
    labels.mkdir(parents=True)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (size, size))
    for index, boxes in enumerate(frames):
        image = np.full((size, size, 3), 127, np.uint8)
        for _cls, cx, cy, bw, bh in boxes:
            x1, y1 = int((cx - bw / 2) * size), int((cy - bh / 2) * size)
            x2, y2 = int((cx + bw / 2) * size), int((cy + bh / 2) * size)
            cv2.rectangle(image, (x1, y1), (x2, y2), (0, 0, 255), -1)
        writer.write(image)
        if boxes:
            (labels / f"frame_{index:04d}.txt").write_text(
                "".join(f"{c} {x} {y} {w} {h}\n" for c, x, y, w, h in boxes)
            )
    writer.release()
    return video, labels
