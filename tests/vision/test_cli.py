"""`brightwatch vision detect|eval|export` as a user runs them (subprocess, real files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_path
from tests.vision.synthetic import constant_detector, labelled_video, yolo_set

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


def bw(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    env["BW_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "-m", "brightwatch", "vision", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_eval_prints_figures_and_writes_json_and_plots(tmp_path: Path) -> None:
    root = yolo_set(
        tmp_path / "set",
        {
            "hit.jpg": (320, 320, [(0, 0.5, 0.5, 0.25, 0.25)]),
            "miss.jpg": (320, 320, [(0, 0.1, 0.1, 0.1, 0.1)]),
        },
        ["box"],
    )
    model = constant_detector(tmp_path / "m.onnx", [[160, 160, 80, 80, 0.8]], ["box"])
    out = tmp_path / "eval"
    done = bw(
        "eval",
        "--data",
        str(root),
        "--split",
        "all",
        "--model",
        str(model),
        "--out",
        str(out),
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "AP50" in done.stdout and "mAP" not in done.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["images"] == 2 and metrics["split"] == "all"
    assert metrics["classes"]["box"]["precision"] == pytest.approx(0.5)
    assert metrics["mAP50"] == pytest.approx(0.5, abs=0.01)
    for plot in ("pr_curves.png", "confusion_matrix.png"):
        assert (out / plot).read_bytes()[:8] == PNG


def test_eval_on_a_labelled_video_with_the_labels_backend(tmp_path: Path) -> None:
    video, labels = labelled_video(tmp_path, [[(0, 0.5, 0.5, 0.2, 0.2)]] * 5 + [[]] * 3)
    out = tmp_path / "eval"
    done = bw(
        "eval", "--video", str(video), "--labels", str(labels), "--names", "rat",
        "--model", str(labels), "--backend", "labels", "--out", str(out), tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["images"] == 8 and metrics["mAP50-95"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give either --data"),
        (["--video", "{video}"], "--video needs --labels"),
        (["--data", "{set}", "--class-map", "nonsense"], "--class-map takes model=set"),
        (["--data", "{set}", "--model", "no-such-model"], "no model 'no-such-model'"),
        (["--data", "{set}", "--model", "{model}"], "share no class"),
    ],
)
def test_eval_refuses_bad_input_clearly(tmp_path: Path, args: list[str], message: str) -> None:
    root = yolo_set(tmp_path / "set", {"a.jpg": (64, 64, [(0, 0.5, 0.5, 0.2, 0.2)])}, ["rat"])
    video, _ = labelled_video(tmp_path / "v", [[]])
    model = constant_detector(tmp_path / "m.onnx", [[1, 1, 1, 1, 0.5]], ["person"])
    filled = [a.format(set=root, video=video, model=model) for a in args]
    done = bw("eval", *filled, tmp_path=tmp_path)
    assert done.returncode == 2 and message in done.stderr
    assert "Traceback" not in done.stderr


def test_detect_writes_json_lines_and_annotated_copies(tmp_path: Path) -> None:
    bus = shared_path("media", "bus.jpg")
    video = shared_path("media", "video", "home_kitchen_short.mp4")
    out = tmp_path / "annotated"
    done = bw(
        "detect", str(bus), str(video), "--max-frames", "2", "--save", str(out),
        "--json", str(tmp_path / "d.jsonl"), "--conf", "0.4", tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert len(records) == 3
    assert records[0]["model"].startswith("coco@") and (
        records[0]["width"],
        records[0]["height"],
    ) == (810, 1080)
    assert sum(o["label"] == "person" for o in records[0]["objects"]) >= 3
    assert all(o["score"] >= 0.4 for r in records for o in r["objects"])
    assert sorted(p.name for p in out.iterdir()) == [
        "bus.jpg",
        "home_kitchen_short_0.jpg",
        "home_kitchen_short_1.jpg",
    ]


def test_detect_rejects_what_is_not_a_picture(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("a,b\n")
    done = bw("detect", str(tmp_path / "notes.csv"), "--model", "coco", tmp_path=tmp_path)
    assert done.returncode != 0 and "not an image" in done.stderr


def test_export_quantises_an_onnx_model(tmp_path: Path) -> None:
    model = constant_detector(tmp_path / "m.onnx", [[160, 160, 80, 80, 0.8]], ["box"])
    done = bw("export", str(model), "--int8", "dynamic", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m_int8.onnx").exists() and "classes box" in done.stdout
    refused = bw("export", str(model), tmp_path=tmp_path)
    assert refused.returncode == 2 and "already ONNX" in refused.stderr
