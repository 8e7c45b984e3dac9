"""`brightwatch vision export-reviews`: review decisions as a YOLO dataset. The format
is checked strictly (every line, every file, the split); the set is then trained for one
epoch. [`brightwatch vision train` is not on main yet: until it lands the training run
uses ultralytics directly on the exported data.yaml.]"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime, review_desk_of
from tests.alerts.notify_support import Clock
from tests.review.support import add_evidence, raise_violation

ROOT = Path(__file__).resolve().parents[2]


def box(label: str, x1: float, y1: float, x2: float, y2: float) -> dict[str, Any]:
    return {"label": label, "score": 0.8, "box": [x1, y1, x2, y2]}


@dataclass
class Decided:
    evidence: dict[str, list[int]]  # what -> evidence ids
    settings: Settings


@pytest.fixture
def decided(settings: Settings, db_url: str) -> Iterator[Decided]:
    clock = Clock()
    runtime = build_runtime(settings, clock)
    desk = review_desk_of(runtime)
    store, data = runtime.alert_store, Path(settings.data_dir)
    ev: dict[str, list[int]] = {}
    with psycopg.connect(db_url, autocommit=True) as conn:

        def violation(
            what: str,
            code: str,
            cam: str,
            tier: str,
            boxes: list[list[dict[str, Any]]],
            decision: str | None,
            **kw: Any,
        ) -> None:
            change = raise_violation(conn, store, code, "K1", cam, tier, clock.now)
            assert change is not None
            ev[what] = [
                add_evidence(
                    conn,
                    data,
                    change.alert.id,
                    "K1",
                    cam,
                    code,
                    clock.now,
                    b,
                    seed=len(ev) * 10 + i,
                )
                for i, b in enumerate(boxes)
            ]
            if decision:
                (review_id,) = conn.execute(
                    "SELECT id FROM review WHERE alert_id = %s", (change.alert.id,)
                ).fetchone()
                corrected = kw.get("corrected")
                with conn.transaction():
                    desk.decide(
                        conn,
                        review_id,
                        decision,
                        "supervisor:1",
                        corrected_boxes={str(ev[what][0]): corrected}
                        if corrected is not None
                        else None,
                    )
            clock.advance(minutes=1)

        violation(
            "rat",
            "RODENT",
            "cam1",
            "T1",
            [[box("rat", 40, 150, 120, 210)], [box("rat", 60, 140, 150, 200)]],
            "confirm",
        )
        violation(
            "mask", "NO_MASK", "cam2", "T3", [[box("without_mask", 10, 10, 60, 70)]], "confirm"
        )
        violation(
            "phone", "PHONE", "cam3", "T3", [[box("cell phone", 100, 100, 140, 180)]], "dismiss"
        )
        violation(
            "corrected",
            "NO_MASK",
            "cam4",
            "T3",
            [[box("without_mask", 200, 20, 260, 90)]],
            "dismiss",
            corrected=[box("with_mask", 198, 18, 262, 95)],
        )
        violation("pending", "SMOKING", "cam5", "T2", [[box("cigarette", 5, 5, 15, 15)]], None)
        violation("tampered", "RODENT", "cam6", "T1", [[box("rat", 0, 0, 400, 300)]], "confirm")
        (rel,) = conn.execute(
            "SELECT path FROM evidence WHERE id = %s", (ev["tampered"][0],)
        ).fetchone()
        (data / rel).write_bytes(b"not the picture that was reviewed")
    yield Decided(ev, settings)


def run_export(d: Decided, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BW_DATABASE_URL": d.settings.database_url.get_secret_value(),
        "BW_DATA_DIR": str(d.settings.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "brightwatch", "vision", "export-reviews", "--out", str(out), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_labels(path: Path) -> list[tuple[int, float, float, float, float]]:
    rows = []
    for line in path.read_text().splitlines():
        parts = line.split()
        assert len(parts) == 5, line
        cls, *xywh = parts
        assert cls.isdigit(), line
        values = [float(v) for v in xywh]
        assert all(0.0 <= v <= 1.0 for v in values) and values[2] > 0 and values[3] > 0, line
        rows.append((int(cls), *values))  # type: ignore[arg-type]
    return rows


def test_exported_dataset_is_strict_yolo(decided: Decided, tmp_path: Path) -> None:
    out = tmp_path / "reviews"
    r = run_export(decided, out)
    assert r.returncode == 0, r.stderr
    assert "5 skipped" not in r.stdout and "1 skipped" in r.stdout
    assert (
        f"evidence {decided.evidence['tampered'][0]}: content does not match its hash" in r.stderr
    )

    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["train"] == "images/train" and data["val"] == "images/val"
    assert Path(data["path"]) == out.resolve()
    names = data["names"]
    # classes of the confirmed boxes and the reviewer's correction; the dismissed phone's is not one
    assert names == {0: "rat", 1: "with_mask", 2: "without_mask"} and data["nc"] == 3

    images = {p.stem: p for p in (out / "images").glob("*/*")}
    labels = {p.stem: p for p in (out / "labels").glob("*/*.txt")}
    assert set(images) == set(labels)  # every image has its label file, and nothing else
    for stem, img in images.items():
        assert labels[stem].parent.name == img.parent.name  # the same split
    by_evidence = {int(stem.rsplit("_", 1)[1]): stem for stem in images}
    expected_ids = {
        i
        for what, ids in decided.evidence.items()
        if what not in ("pending", "tampered")
        for i in ids
    }
    assert set(by_evidence) == expected_ids

    def labels_of(what: str, k: int = 0) -> list[tuple[int, float, float, float, float]]:
        return read_labels(labels[by_evidence[decided.evidence[what][k]]])

    # confirmed: the detector's boxes, normalised by the 320 x 240 picture
    assert labels_of("rat") == [
        (
            0,
            pytest.approx(80 / 320),
            pytest.approx(180 / 240),
            pytest.approx(80 / 320),
            pytest.approx(60 / 240),
        )
    ]
    assert [row[0] for row in labels_of("rat", 1)] == [0]
    assert [row[0] for row in labels_of("mask")] == [2]
    # dismissed: a negative; dismissed with a correction: the corrected label
    assert (
        labels_of("phone") == []
        and labels[by_evidence[decided.evidence["phone"][0]]].read_text() == ""
    )
    assert [row[0] for row in labels_of("corrected")] == [1]

    # the images are the reviewed evidence, byte for byte
    manifest = json.loads((out / "reviews.json").read_text())
    for entry in manifest:
        assert hashlib.sha256((out / entry["image"]).read_bytes()).hexdigest() == entry["sha256"]
    # frames of one alert stay in one split, and both splits hold something
    splits: dict[int, set[str]] = {}
    for entry in manifest:
        splits.setdefault(entry["alert_id"], set()).add(entry["image"].split("/")[1])
    assert all(len(s) == 1 for s in splits.values())
    assert {s for v in splits.values() for s in v} == {"train", "val"}
    assert {e["decision"] for e in manifest} == {"confirm", "dismiss"}


def test_export_refuses_what_it_cannot_do(decided: Decided, tmp_path: Path) -> None:
    out = tmp_path / "used"
    out.mkdir()
    (out / "x").write_text("keep me")
    r = run_export(decided, out)
    assert r.returncode == 1 and "not empty" in r.stderr
    r = run_export(decided, tmp_path / "later", "--since", "2099-01-01")
    assert r.returncode == 1 and "fewer than two decided reviews" in r.stderr
    # an explicit class list (a model's ids): boxes of other classes are reported, not guessed
    r = run_export(decided, tmp_path / "classes", "--classes", "person,rat")
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load((tmp_path / "classes" / "data.yaml").read_text())["names"] == {
        0: "person",
        1: "rat",
    }
    assert "class 'without_mask' is not in the class list" in r.stderr


@pytest.mark.slow
def test_exported_dataset_trains_with_brightwatch_vision_train(
    decided: Decided, tmp_path: Path
) -> None:
    """Issue 5: the exported set is ready for `brightwatch vision train` (one short epoch)."""
    pytest.importorskip("ultralytics", reason="training needs the ultralytics extra")
    out = tmp_path / "reviews"
    assert run_export(decided, out).returncode == 0
    model = tmp_path / "models" / "from_reviews.onnx"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "brightwatch",
            "vision",
            "train",
            "detector",
            "--data",
            str(out / "data.yaml"),
            "--output",
            str(model),
            "--model",
            "yolov8n.yaml",
            "--epochs",
            "1",
            "--imgsz",
            "64",
            "--batch",
            "2",
            "--work-dir",
            str(tmp_path / "runs"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "YOLO_OFFLINE": "1", "BW_DATA_DIR": str(tmp_path / "data")},
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert model.exists() and model.stat().st_size > 100_000
