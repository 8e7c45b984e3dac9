"""A tiny single-stage detector (CenterNet-style) in plain PyTorch, and its ONNX export in
the YOLOv8 output layout the project's ONNX backend already decodes.

The project trains it from random initialisation (no COCO weights, no ultralytics: their
exports are AGPL), so the weights may be committed. Layout: a five-stage conv backbone
(stride 32), a small top-down path back to stride 8, and one head giving per cell a class
heat-map, a sub-cell centre offset and a log box size. At 320 x 320 that is 40 x 40 = 1600
candidate boxes and about 0.12 G multiply-adds per frame.

Export: `DecodedFlameNet` turns the head into `[1, 4 + nc, 1600]` (cx, cy, w, h in input
pixels, then one score per class) after a 3 x 3 max-pool peak filter, as CenterNet decodes,
so `vision.detector.onnx_backend` runs it unchanged; the metadata carries `names`, `imgsz`,
`stride` and `task` as ultralytics exports do.

Imports: torch (training extra), onnx for the metadata; nothing of the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

STRIDE = 8
LOG_SIZE_RANGE = (-3.0, 6.0)  # log(w / STRIDE): boxes from 0.4 px to 3200 px


def _conv(cin: int, cout: int, stride: int = 1, k: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class FlameNet(nn.Module):
    """Raw head: (heat logits [B, nc, H/8, W/8], offset [B, 2, ...], log size [B, 2, ...])."""

    def __init__(self, nc: int, width: int = 16) -> None:
        super().__init__()
        c = [width * 3 // 4, width * 3 // 2, width * 2, width * 4, width * 6]  # 12 24 32 64 96
        self.nc = nc
        # the high-resolution stages are the costly ones on a CPU: one conv each
        self.s2 = _conv(3, c[0], 2)
        self.s4 = _conv(c[0], c[1], 2)
        self.s8 = nn.Sequential(_conv(c[1], c[2], 2), _conv(c[2], c[2]))
        self.s16 = nn.Sequential(_conv(c[2], c[3], 2), _conv(c[3], c[3]))
        self.s32 = nn.Sequential(_conv(c[3], c[4], 2), _conv(c[4], c[4]))
        neck = c[2]  # 32 for width 16
        self.lat32 = _conv(c[4], neck, k=1)
        self.lat16 = _conv(c[3], neck, k=1)
        self.lat8 = _conv(c[2], neck, k=1)
        self.smooth = _conv(neck, neck)
        self.head = nn.Sequential(_conv(neck, neck), nn.Conv2d(neck, nc + 4, 1))
        # a heat-map starts near 0.01 everywhere (CenterNet's prior), so the focal loss
        # is not swamped by the background cells in the first steps
        last = self.head[-1]
        assert isinstance(last, nn.Conv2d) and last.bias is not None
        bias = last.bias
        with torch.no_grad():
            bias[:nc].fill_(-4.6)
            bias[nc:].zero_()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        f8 = self.s8(self.s4(self.s2(x)))
        f16 = self.s16(f8)
        f32 = self.s32(f16)
        p = self.lat32(f32)
        p = self.lat16(f16) + F.interpolate(p, scale_factor=2.0, mode="nearest")
        p = self.lat8(f8) + F.interpolate(p, scale_factor=2.0, mode="nearest")
        out = self.head(self.smooth(p))
        nc = self.nc
        return out[:, :nc], out[:, nc : nc + 2], out[:, nc + 2 : nc + 4]


class DecodedFlameNet(nn.Module):
    """FlameNet -> [B, 4 + nc, N]: cx, cy, w, h (input pixels), then class scores, where
    a cell keeps its score only when it is the peak of its 3 x 3 neighbourhood."""

    def __init__(self, net: FlameNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        heat, offset, log_size = self.net(x)
        heat = torch.sigmoid(heat)
        peaks = F.max_pool2d(heat, 3, stride=1, padding=1)
        heat = heat * (heat >= peaks).to(heat.dtype)
        b, nc, h, w = heat.shape
        ys = torch.arange(h, dtype=x.dtype, device=x.device).view(1, h, 1).expand(1, h, w)
        xs = torch.arange(w, dtype=x.dtype, device=x.device).view(1, 1, w).expand(1, h, w)
        cx = (xs + torch.sigmoid(offset[:, 0])) * STRIDE
        cy = (ys + torch.sigmoid(offset[:, 1])) * STRIDE
        size = torch.exp(log_size.clamp(*LOG_SIZE_RANGE)) * STRIDE
        boxes = torch.stack([cx, cy, size[:, 0], size[:, 1]], 1)  # B, 4, h, w
        return torch.cat([boxes, heat], 1).flatten(2)


def export_onnx(
    net: FlameNet,
    path: Path,
    names: Sequence[str],
    imgsz: int,
    description: str,
    extra: dict[str, str] | None = None,
) -> Path:
    """Write the decoded network with ultralytics-style metadata; returns `path`."""
    import onnx

    model = DecodedFlameNet(net).eval()
    dummy = torch.zeros(1, 3, imgsz, imgsz)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (dummy,),
        str(path),
        input_names=["images"],
        output_names=["output0"],
        opset_version=17,
        dynamo=False,
    )
    proto = onnx.load(str(path))
    meta = {
        "names": repr(dict(enumerate(names))),
        "imgsz": repr([imgsz, imgsz]),
        "stride": str(STRIDE),
        "task": "detect",
        "end2end": "False",
        "description": description,
        **(extra or {}),
    }
    onnx.helper.set_model_props(proto, meta)
    onnx.save(proto, str(path))
    return path


def load_export(net: FlameNet, path: Path) -> FlameNet:
    """Put the weights of an ONNX export of this network (fp32, or int8 from dynamic
    quantisation, dequantised) back into `net`, to continue training a shipped model whose
    torch checkpoint is gone. The export folded each batch norm into its convolution, so
    the convolutions take the folded weights and biases and every batch norm becomes the
    identity; train such a net with `freeze_norms` (batch statistics would undo the fold)."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(path))
    init = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    produced = {o: n for n in proto.graph.node for o in n.output}
    convs = {f"{name}": m for name, m in net.named_modules() if isinstance(m, nn.Conv2d)}
    loaded: set[str] = set()

    def weight(node: onnx.NodeProto) -> Any:
        if node.op_type == "Conv":
            return init[node.input[1]], (init[node.input[2]] if len(node.input) > 2 else None)
        q, zp = init[node.input[1]], init[node.input[3]]
        scale = init[node.input[1].removesuffix("_quantized") + "_scale"]
        return (q.astype("float32") - zp.astype("float32")) * scale, None

    for node in proto.graph.node:
        if node.op_type not in ("Conv", "ConvInteger"):
            continue
        # "/net/s8/s8.0/s8.0.0/Conv_output_0[...]" -> the module "s8.0.0"
        module = node.output[0].split("/")[-2]
        if module not in convs:
            raise ValueError(f"{path}: convolution {module!r} is not one of this network's")
        w, b = weight(node)
        if b is None:  # int8: the bias is added after the integer convolution
            reshape = produced.get(
                f"{node.output[0].rsplit('/', 1)[0]}/Conv_output_0_bias_reshape_output"
            )
            b = init[reshape.input[0]] if reshape is not None else None
        conv = convs[module]
        if tuple(w.shape) != tuple(conv.weight.shape):
            raise ValueError(
                f"{path}: {module} has shape {w.shape}, not {tuple(conv.weight.shape)}"
            )
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(w.copy()))
            if b is not None:
                if conv.bias is None:
                    conv.bias = nn.Parameter(torch.from_numpy(b.copy()))
                else:
                    conv.bias.copy_(torch.from_numpy(b.copy()))
        loaded.add(module)
    if loaded != set(convs):
        raise ValueError(f"{path}: no weights for {sorted(set(convs) - loaded)}")
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert m.running_mean is not None and m.running_var is not None
            with torch.no_grad():
                m.weight.fill_(1.0)
                m.bias.zero_()
                m.running_mean.zero_()
                m.running_var.fill_(1.0 - m.eps)
    return net


def freeze_norms(net: nn.Module) -> None:
    """Batch norms in inference mode and not trained (after `load_export`)."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
            m.weight.requires_grad_(False)
            m.bias.requires_grad_(False)
