"""`brightwatch models install` as a user runs it (a subprocess with BW_ variables): a
face-model folder already in place is left alone and reported ok, missing defaults are
reported with their remedy, a model that does not load fails the command, and
`--train` without its data stops at once with a clear message."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from brightwatch.vision.privacy import BACK_MODEL, FRONT_MODEL, MODEL_DIRS

ROOT = Path(__file__).resolve().parents[2]


def install(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "brightwatch", "models", "install", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def row(stdout: str, model: str) -> list[str]:
    """The table's `model  state  path` cells of one model."""
    for line in stdout.splitlines():
        if line.startswith(model + "  "):
            return [line[: len(model)], *line[len(model) :].split()]
    raise AssertionError(f"no row for {model!r} in:\n{stdout}")


@pytest.fixture
def data_dir_with_face(tmp_path: Path) -> Path:
    installed = MODEL_DIRS[0]
    if not all((installed / f).is_file() for f in (BACK_MODEL, FRONT_MODEL)):
        pytest.skip(f"needs the BlazeFace files in {installed} (make face-model); not present")
    face = tmp_path / "data" / "models" / "face"
    face.mkdir(parents=True)
    for name in (BACK_MODEL, FRONT_MODEL):
        shutil.copy2(installed / name, face / name)
    return tmp_path / "data"


def test_install_with_the_face_model_in_place_is_a_no_op(data_dir_with_face: Path) -> None:
    face = data_dir_with_face / "models" / "face"
    before = {p.name: p.stat().st_mtime_ns for p in face.iterdir()}
    done = install("--data-dir", str(data_dir_with_face))
    assert done.returncode == 0, done.stderr
    assert row(done.stdout, "face (BlazeFace)")[1:] == ["ok", str(face)]
    assert row(done.stdout, "mask classifier")[1] == "ok"
    # nothing fetched, rewritten or added
    assert {p.name: p.stat().st_mtime_ns for p in face.iterdir()} == before


def test_missing_defaults_are_reported_with_their_remedy(
    data_dir_with_face: Path, tmp_path: Path
) -> None:
    config = tmp_path / "bw.toml"
    config.write_text(f'[vision.models.coco]\npath = "{tmp_path / "no-coco.onnx"}"\n')
    done = install("--data-dir", str(data_dir_with_face), env={"BW_CONFIG": str(config)})
    assert done.returncode == 0, done.stderr  # missing by design is not a failure
    assert row(done.stdout, "rat detector")[1:] == [
        "missing",
        str(data_dir_with_face / "models" / "rat.onnx"),
    ]
    assert "brightwatch models install --train rat" in done.stdout
    assert row(done.stdout, "person detector (coco)")[1] == "missing"
    assert "[vision.models.coco]" in done.stdout and "BW_MODEL" in done.stdout


def test_a_model_that_does_not_load_fails_the_install(data_dir_with_face: Path) -> None:
    (data_dir_with_face / "models" / "rat.onnx").write_bytes(b"not an onnx model")
    done = install("--data-dir", str(data_dir_with_face))
    assert done.returncode == 1
    assert row(done.stdout, "rat detector")[1] == "broken"
    assert "does not load" in done.stdout


def test_train_without_its_data_fails_clearly_before_training(tmp_path: Path) -> None:
    missing = tmp_path / "no-rat-set"
    done = install("--train", "rat", "--data", str(missing), "--data-dir", str(tmp_path / "d"))
    assert done.returncode == 2
    assert f"cannot train rat: {missing}" in done.stderr and "../shared" in done.stderr
    assert not (tmp_path / "d" / "models" / "rat.onnx").exists()
    assert not (tmp_path / "d" / "runs").exists()  # stopped before preparing anything


def test_install_compiles_the_default_detector_into_the_data_folder(
    data_dir_with_face: Path,
) -> None:
    from tests.conftest import shared_path

    shared_path("models", "coco", "yolo11n_int8_openvino_model")
    done = install("--data-dir", str(data_dir_with_face))
    assert done.returncode == 0, done.stderr
    cache = data_dir_with_face / "cache" / "openvino"
    assert row(done.stdout, "person detector (coco)")[1] == "ok"
    assert f"compiled into {cache}" in done.stdout
    blobs = sorted(cache.glob("*.blob"))
    assert blobs  # the demo and the worker start from these
    again = install("--data-dir", str(data_dir_with_face))
    assert again.returncode == 0, again.stderr
    assert sorted(cache.glob("*.blob")) == blobs  # compiled once per model and machine


def test_with_frame_shaped_input_install_also_compiles_the_16_9_shape(
    data_dir_with_face: Path,
) -> None:
    """`rect = true`: the 16:9 input a full-HD camera runs at is compiled at install too,
    so the worker's first frame does not wait for it."""
    import json

    from tests.conftest import shared_path

    ir = shared_path("models", "coco", "yolo11n_int8_openvino_model")
    square = install("--data-dir", str(data_dir_with_face))
    assert square.returncode == 0, square.stderr
    cache = data_dir_with_face / "cache" / "openvino"
    before = set(cache.glob("*.blob"))
    models = json.dumps({"coco": {"path": str(ir), "rect": True}})
    done = install("--data-dir", str(data_dir_with_face), env={"BW_VISION__MODELS": models})
    assert done.returncode == 0, done.stderr
    assert row(done.stdout, "person detector (coco)")[1] == "ok"
    added = set(cache.glob("*.blob")) - before
    assert len(added) == 1, (before, added)  # the 640 x 384 model beside the square one
