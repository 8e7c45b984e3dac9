"""The flame detector: the source split of fire_smoke, the network's export in the layout
the ONNX backend decodes, a short training run, and the committed model's record."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from brightwatch.vision.detector import load_detector
from brightwatch.vision.detector.spec import BUILTIN_MODELS
from brightwatch.vision.settings import VisionSettings
from brightwatch.vision.training import flame_split
from brightwatch.vision.yoloset import DatasetError, open_set
from tests.conftest import shared_path

torch = pytest.importorskip("torch")

from brightwatch.vision.training.flame import (  # noqa: E402
    CLASSES,
    Cached,
    FlameTraining,
    class_map,
    evaluate,
    train_net,
)
from brightwatch.vision.training.flame_net import STRIDE, FlameNet, export_onnx  # noqa: E402

FIRE_MODEL = BUILTIN_MODELS["fire"][0]


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("test1_mp4-12_jpg.rf.ab.jpg", "reserved"),
        ("fire1_mp4-23_jpg.rf.cd.jpg", "held_out"),
        ("fire2_mp4-30_jpg.rf.ef.jpg", "train"),
        ("img_40_jpg.rf.aa.jpg", "train"),  # block 2
        ("img_100_jpg.rf.aa.jpg", "held_out"),  # block 5
        ("img_71--2-_jpg.rf.aa.jpg", "train"),
        ("img_98_jpg.rf.aa.jpg", "guard"),  # 2 below block 5
        ("img_122_jpg.rf.aa.jpg", "guard"),  # 3 above block 5's end (119)
        ("img_123_jpg.rf.aa.jpg", "train"),
    ],
)
def test_part_of_a_name(name: str, part: str) -> None:
    assert flame_split.part_of(name) == part


def test_a_name_of_unknown_source_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot tell its source"):
        flame_split.part_of("pexels_fire.jpg")


def test_the_real_split_shares_no_source_and_no_neighbour() -> None:
    dataset = open_set(shared_path("datasets", "fire_smoke"))
    parts = flame_split.split(dataset.splits["train"], dataset.names.index("default"))
    sources = {k: {flame_split.source_of(i.image.name) for i in v} for k, v in parts.items()}
    train_keys = {s.key for s in sources["train"]}
    assert train_keys.isdisjoint(s.key for s in sources["held_out"])
    assert {s.video for s in sources["reserved"]} == {flame_split.RESERVED_VIDEO}
    held_numbers = [s.number for s in sources["held_out"] if s.video is None]
    for s in sources["train"]:
        if s.video is None:
            assert min(abs(s.number - n) for n in held_numbers) > flame_split.GUARD
    fire = class_map(dataset.names)
    held_fire = sum(int(np.isin(i.labels().classes, [0]).sum()) for i in parts["held_out"])
    assert fire == {0: 0, 2: 1} and held_fire >= 50  # enough held-out flames to measure
    assert len(parts["train"]) > 3 * len(parts["held_out"]) > 0


def test_a_set_without_fire_is_refused() -> None:
    with pytest.raises(DatasetError, match="no `Fire`"):
        class_map(("person", "smoke"))


def _constant_net(score_logit: float, log_size: float) -> FlameNet:
    """A net whose head ignores the picture: every cell the same class-0 score and size."""
    net = FlameNet(len(CLASSES)).eval()
    last = net.head[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([score_logit, -20.0, 0.0, 0.0, log_size, log_size]))
    return net


def test_export_is_the_yolov8_layout_the_backend_decodes(tmp_path: Path) -> None:
    import onnxruntime as ort

    path = export_onnx(_constant_net(2.0, math.log(4)), tmp_path / "f.onnx", CLASSES, 320, "t")
    out = ort.InferenceSession(str(path)).run(None, {"images": np.zeros((1, 3, 320, 320), "f")})
    grid = 320 // STRIDE
    assert out[0].shape == (1, 4 + len(CLASSES), grid * grid)
    cx, cy, w, h, fire, smoke = out[0][0]
    # row-major cells: cell (gy=1, gx=2) is index 1 * grid + 2; centre = (g + 0.5) * stride
    assert (cx[grid + 2], cy[grid + 2]) == pytest.approx(((2 + 0.5) * 8, (1 + 0.5) * 8))
    assert w == pytest.approx(32.0) and h == pytest.approx(32.0)
    assert fire == pytest.approx(1 / (1 + math.exp(-2.0)), abs=1e-5) and smoke.max() < 1e-6
    detector = load_detector(str(path))
    assert tuple(detector.names) == CLASSES
    found = detector.detect(np.zeros((240, 320, 3), np.uint8), conf=0.5)
    assert found and {d.label for d in found} == {"fire"}
    # letterboxed into 320 x 320 (40 px of padding above) and mapped back: 32 px boxes
    # in the 320 x 240 picture, the ones at the border clipped to it
    inner = [d.box for d in found if d.box[0] > 0 and d.box[2] < 320 and d.box[1] > 0]
    assert inner and all(0 < y1 < y2 <= 240 for _, y1, _, y2 in inner)
    assert {round(x2 - x1, 2) for x1, _, x2, _ in inner} == {32.0}
    # the letterbox offset: the cell centres are (g + 0.5) * 8 - 40 px in y
    assert {round((y1 + 16 - 4) % 8, 2) for _, y1, _, y2 in inner if y2 < 240} == {0.0}


def test_peak_filter_keeps_one_score_per_blob() -> None:
    """A blob of heat (a peak and its lower neighbours) keeps only its peak; a second,
    separate peak survives too (two flames)."""
    from brightwatch.vision.training.flame_net import DecodedFlameNet

    heat = torch.full((1, 2, 8, 8), -9.0)
    heat[0, 0, 2:5, 2:5] = 1.0
    heat[0, 0, 3, 3] = 3.0  # the blob's peak
    heat[0, 0, 6, 7] = 2.0  # another flame

    class Fixed(torch.nn.Module):
        def forward(self, x: object) -> tuple:
            return heat, torch.zeros(1, 2, 8, 8), torch.zeros(1, 2, 8, 8)

    out = DecodedFlameNet(Fixed())(torch.zeros(1, 3, 64, 64))  # type: ignore[arg-type]
    kept = (out[0, 4] > 0.5).nonzero().flatten().tolist()
    assert kept == [3 * 8 + 3, 6 * 8 + 7]


def test_a_short_training_lowers_the_loss() -> None:
    rng = np.random.default_rng(0)
    images = np.full((8, 64, 64, 3), 40, np.uint8)
    boxes, classes = [], []
    for k in range(8):  # an orange square on a dark picture: a "flame"
        x, y = rng.integers(4, 36, 2)
        images[k, y : y + 24, x : x + 24] = (0, 140, 255)
        boxes.append(np.array([[x, y, x + 24, y + 24]], np.float32))
        classes.append(np.array([0]))
    data = Cached(images, boxes, classes, [f"{k}" for k in range(8)])
    losses: list[float] = []
    job = FlameTraining(
        Path("."),
        Path("x.onnx"),
        minutes=1.0,  # a bound only: 40 steps take a few seconds
        imgsz=64,
        crop=64,
        batch=4,
        warmup_steps=1,
        max_steps=40,
        threads=1,
    )
    net, steps, seconds = train_net(data, job, lambda s, t, loss: losses.append(loss))
    assert steps == len(losses) == 40, (steps, seconds)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5]), losses


def test_the_model_s_fire_class_means_fire_unattended() -> None:
    rule = VisionSettings().classes["*"]["fire"]
    assert rule.code == "FIRE_UNATTENDED" and rule.zone_kind == "stove" and rule.unattended


def test_the_committed_model_is_small_named_and_reproduces_its_record() -> None:
    """The shipped file: < 5 MB, classes fire/smoke, and its figure on the reserved video
    (never trained on) is what its .json says."""
    assert FIRE_MODEL.is_file(), f"{FIRE_MODEL} missing (brightwatch vision train flame ...)"
    assert FIRE_MODEL.stat().st_size < 5_000_000
    detector = load_detector("fire")
    assert tuple(detector.names) == CLASSES
    record = json.loads(FIRE_MODEL.with_suffix(".json").read_text())
    dataset = open_set(shared_path("datasets", "fire_smoke"))
    reserved = flame_split.split(dataset.splits["train"], 1)["reserved"]
    got = evaluate(FIRE_MODEL, reserved, class_map(dataset.names))
    want = record["variants"][record["shipped"]]["reserved_video"]
    assert got["classes"]["fire"]["AP50"] == pytest.approx(
        want["classes"]["fire"]["AP50"], abs=1e-6
    )


def test_the_cli_refuses_a_set_without_fire(tmp_path: Path) -> None:
    import cv2
    from click.testing import CliRunner

    from brightwatch.cli import main

    (tmp_path / "data.yaml").write_text("path: .\ntrain: images/train\nnames: [person]\n")
    for sub in ("images/train", "labels/train"):
        (tmp_path / sub).mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "images/train/img_1.jpg"), np.zeros((32, 32, 3), np.uint8))
    (tmp_path / "labels/train/img_1.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    args = ["vision", "train", "flame", "--data", str(tmp_path), "--minutes", "0.1"]
    args += ["--output", str(tmp_path / "x.onnx"), "--checkpoint", str(tmp_path / "x.pt")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "no `Fire`" in result.output and not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize("quantised", [False, True])
def test_an_export_loads_back_for_more_training(tmp_path: Path, quantised: bool) -> None:
    """A trained net's ONNX export (batch norms folded; int8 too) put back into a fresh
    net gives the export's own boxes and scores: training can go on from a shipped model."""
    import onnxruntime as ort

    from brightwatch.vision.training.flame_net import DecodedFlameNet, freeze_norms, load_export
    from brightwatch.vision.training.quantize import quantize_dynamic_int8

    torch.manual_seed(0)
    net = FlameNet(2, 8)
    net.train()
    with torch.no_grad():  # batch norms with statistics of their own, as after training
        for _ in range(3):
            net(torch.rand(4, 3, 64, 64))
    net.eval()
    path = export_onnx(net, tmp_path / "fp32.onnx", ["fire", "smoke"], 64, "test")
    if quantised:
        path = quantize_dynamic_int8(path, tmp_path / "int8.onnx")
    back = load_export(FlameNet(2, 8), path).eval()
    x = torch.rand(1, 3, 64, 64)
    want = ort.InferenceSession(str(path)).run(None, {"images": x.numpy()})[0]
    got = DecodedFlameNet(back)(x).detach().numpy()
    tolerance = 0.05 if quantised else 1e-4  # int8 also rounds the activations
    assert np.abs(got[:, 4:] - want[:, 4:]).max() < tolerance
    back.train()
    freeze_norms(back)
    norms = [m for m in back.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(not m.training and not m.weight.requires_grad for m in norms)


def test_an_export_of_another_network_is_refused(tmp_path: Path) -> None:
    from brightwatch.vision.training.flame_net import load_export

    path = export_onnx(FlameNet(2, 8).eval(), tmp_path / "w8.onnx", ["fire", "smoke"], 64, "t")
    with pytest.raises(ValueError, match="shape"):
        load_export(FlameNet(2, 16), path)
