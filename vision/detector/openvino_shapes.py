"""A YOLO network traced at a square input, run at the frame's own aspect.

A 16:9 camera frame letterboxed into the default detector's 640 x 640 input is 44 %
grey padding, and the network pays for every padded pixel. Ultralytics' own `predict`
letterboxes to the smallest multiple of the stride instead ("rect" inference: 640 x 384
for a 16:9 frame); its static exports (the shared OpenVINO IR) cannot, because tracing
baked the square's grid into a few constants:

- the anchor points and their strides of the box decoding (8,400 of them at 640 x 640);
- the reshapes of the distribution-focal-loss decoding (the anchor count);
- the reshapes of YOLO11's attention block (C2PSA: its 20 x 20 grid and 400 cells).

`reshape` rewrites exactly those constants for the new grid. It refuses a model whose
constants are not what a YOLO trace at the square gives (anchors that differ from the
grid's own, no anchors at all), so the caller keeps the square input for it.

May import: numpy, openvino.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

STRIDES = (8, 16, 32)  # YOLOv8 / YOLO11 detection heads


class ShapeUnsupported(Exception):
    """The model cannot be run at another input shape than its own."""


def frame_input(height: int, width: int, side: int, stride: int = STRIDES[-1]) -> tuple[int, int]:
    """The (height, width) input for a `height` x `width` frame and a `side` x `side`
    network: the frame scaled to fit `side`, each side rounded up to a multiple of
    `stride` (as ultralytics' LetterBox(auto=True) pads)."""
    if height <= 0 or width <= 0:
        raise ValueError(f"empty frame {width} x {height}")
    ratio = side / max(height, width)

    def fit(extent: int) -> int:
        return min(side, math.ceil(max(1, round(extent * ratio)) / stride) * stride)

    return fit(height), fit(width)


def anchor_points(
    height: int, width: int, strides: tuple[int, ...] = STRIDES
) -> tuple[np.ndarray, np.ndarray]:
    """The decoding's anchor points (2 x N: x, y in grid cells, cell centres) and the
    stride of each (N), in the heads' order, row by row: what a YOLOv8/11 trace holds."""
    points, each = [], []
    for s in strides:
        gy, gx = np.meshgrid(
            np.arange(height // s) + 0.5, np.arange(width // s) + 0.5, indexing="ij"
        )
        points.append(np.stack([gx.ravel(), gy.ravel()]))
        each.append(np.full(gx.size, s))
    return np.concatenate(points, axis=1).astype(np.float32), np.concatenate(each).astype(
        np.float32
    )


def reshape(model: Any, traced: tuple[int, int], target: tuple[int, int]) -> Any:
    """`model` (an `openvino.Model` traced at `traced` = (height, width)) rewritten, in
    place, to take a 1 x 3 x `target` input; raises ShapeUnsupported when its constants
    are not a YOLO trace's."""
    import openvino as ov

    if any(v % STRIDES[-1] for v in (*traced, *target)):
        raise ShapeUnsupported(f"inputs must be multiples of {STRIDES[-1]}: {traced} -> {target}")
    old_points, old_strides = anchor_points(*traced)
    new_points, new_strides = anchor_points(*target)
    old_n, new_n = old_points.shape[1], new_points.shape[1]
    grids = {(traced[0] // s, traced[1] // s): (target[0] // s, target[1] // s) for s in STRIDES}
    cells = {
        (traced[0] // s) * (traced[1] // s): (target[0] // s) * (target[1] // s) for s in STRIDES
    }
    cells[old_n] = new_n
    found = {"points": 0, "strides": 0}
    for op in model.get_ordered_ops():
        if op.get_type_name() != "Constant":
            continue
        shape = list(op.get_output_shape(0))
        users = [i.get_node().get_type_name() for i in op.output(0).get_target_inputs()]
        new: np.ndarray | None = None
        if shape == [1, 2, old_n]:
            if not np.array_equal(op.get_data(), old_points[None]):
                raise ShapeUnsupported("its anchor points are not the grid's own")
            new = new_points[None]
            found["points"] += 1
        elif shape in ([1, 1, old_n], [1, old_n]):  # an IR's layout, an ONNX export's
            if not np.array_equal(op.get_data().reshape(-1), old_strides):
                raise ShapeUnsupported("its anchor strides are not the heads' own")
            new = new_strides.reshape([*shape[:-1], new_n])
            found["strides"] += 1
        elif len(shape) == 1 and users and set(users) == {"Reshape"}:
            new = _reshape_target(op.get_data(), grids, cells)
        if new is not None:
            replacement = ov.op.Constant(new)
            replacement.set_friendly_name(op.get_friendly_name())
            op.output(0).replace(replacement.output(0))
    if not all(found.values()):
        raise ShapeUnsupported("no YOLOv8/11 box decoding (anchor points and strides) found")
    try:
        model.get_parameters()[0].set_partial_shape(ov.PartialShape([1, 3, *target]))
        model.validate_nodes_and_infer_types()
    except RuntimeError as exc:  # a reshape this rewrite does not know
        raise ShapeUnsupported(f"its shapes do not follow the input: {exc}") from None
    out = model.outputs[0].get_partial_shape()
    if not out.is_static or out[-1].get_length() != new_n:
        raise ShapeUnsupported(f"output {out} after the rewrite, expected {new_n} anchors")
    return model


def _reshape_target(
    value: np.ndarray, grids: dict[tuple[int, int], tuple[int, int]], cells: dict[int, int]
) -> np.ndarray | None:
    """A Reshape's target shape for the new grid: a trailing (rows, columns) of a head's
    grid, or a trailing cell or anchor count; None when it names neither."""
    shape = value.tolist()
    if len(shape) >= 2 and tuple(shape[-2:]) in grids:
        shape[-2:] = grids[tuple(shape[-2:])]
    elif shape and shape[-1] in cells:
        shape[-1] = cells[shape[-1]]
    else:
        return None
    return np.array(shape, value.dtype)
