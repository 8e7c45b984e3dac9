"""`brightwatch vision export-reviews`: review decisions as a YOLO dataset and a crop
set. The format is checked strictly (every line, every file, the split); what a decision
says about each box (alerts.review.labels) on records with the frame's objects and on
older ones; the sets are then trained for one epoch (slow)."""

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
from psycopg.types.json import Jsonb

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


class Violations:
    """Raises kitchen violations with evidence and decides their reviews, the way the
    vision worker and the review desk do; `ev` maps a name to its evidence ids."""

    def __init__(self, settings: Settings, conn: psycopg.Connection[Any]) -> None:
        self.clock = Clock()
        runtime = build_runtime(settings, self.clock)
        self.desk = review_desk_of(runtime)
        self.store, self.data = runtime.alert_store, Path(settings.data_dir)
        self.conn = conn
        self.ev: dict[str, list[int]] = {}

    def add(
        self,
        what: str,
        code: str,
        cam: str,
        tier: str,
        boxes: list[list[dict[str, Any]]],
        decision: str | None,
        *,
        corrected: list[dict[str, Any]] | None = None,
        context: list[list[dict[str, Any]]] | None = None,
    ) -> None:
        """`context`: per picture, every object of the frame (None: an older record)."""
        conn, clock = self.conn, self.clock
        change = raise_violation(conn, self.store, code, "K1", cam, tier, clock.now)
        assert change is not None
        ids = self.ev[what] = [
            add_evidence(
                conn,
                self.data,
                change.alert.id,
                "K1",
                cam,
                code,
                clock.now,
                b,
                seed=len(self.ev) * 10 + i,
            )
            for i, b in enumerate(boxes)
        ]
        for eid, objects in zip(ids, context or [], strict=False):
            conn.execute("UPDATE evidence SET context = %s WHERE id = %s", (Jsonb(objects), eid))
        if decision:
            (review_id,) = conn.execute(
                "SELECT id FROM review WHERE alert_id = %s", (change.alert.id,)
            ).fetchone()
            with conn.transaction():
                self.desk.decide(
                    conn,
                    review_id,
                    decision,
                    "supervisor:1",
                    corrected_boxes={str(ids[0]): corrected} if corrected is not None else None,
                )
        clock.advance(minutes=1)


@pytest.fixture
def decided(settings: Settings, db_url: str) -> Iterator[Decided]:
    """Older records (no frame objects): labelled as before migration 0109."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        v = Violations(settings, conn)
        v.add(
            "rat",
            "RODENT",
            "cam1",
            "T1",
            [[box("rat", 40, 150, 120, 210)], [box("rat", 60, 140, 150, 200)]],
            "confirm",
        )
        v.add("mask", "NO_MASK", "cam2", "T3", [[box("without_mask", 10, 10, 60, 70)]], "confirm")
        v.add("phone", "PHONE", "cam3", "T3", [[box("cell phone", 100, 100, 140, 180)]], "dismiss")
        v.add(
            "corrected",
            "NO_MASK",
            "cam4",
            "T3",
            [[box("without_mask", 200, 20, 260, 90)]],
            "dismiss",
            corrected=[box("with_mask", 198, 18, 262, 95)],
        )
        v.add("pending", "SMOKING", "cam5", "T2", [[box("cigarette", 5, 5, 15, 15)]], None)
        v.add("tampered", "RODENT", "cam6", "T1", [[box("rat", 0, 0, 400, 300)]], "confirm")
        (rel,) = conn.execute(
            "SELECT path FROM evidence WHERE id = %s", (v.ev["tampered"][0],)
        ).fetchone()
        (v.data / rel).write_bytes(b"not the picture that was reviewed")
    yield Decided(v.ev, settings)


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


# the frame of the context cases (320 x 240): two staff, a phone in one's hand, a rat
STAFF_A, STAFF_B = box("person", 20, 30, 120, 235), box("person", 180, 20, 300, 238)
PHONE = box("cell phone", 60, 120, 90, 160)
RAT = box("rat", 200, 200, 260, 235)
FACE_A, FACE_B = [40.0, 34.0, 104.0, 98.0], [205.0, 24.0, 269.0, 88.0]  # the crops judged


def verdict(person: dict[str, Any], label: str, crop: list[float]) -> dict[str, Any]:
    """A crop classifier's verdict on a person, as the vision worker records it."""
    return {**person, "label": label, "score": 0.93, "classifier": "mask", "crop": crop}


@pytest.fixture
def framed(settings: Settings, db_url: str) -> Iterator[Decided]:
    """Records that keep every object of their frame (migration 0109), and one older one."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        v = Violations(settings, conn)
        frame = [STAFF_A, PHONE, STAFF_B]
        v.add("phone", "PHONE", "cam1", "T3", [[PHONE]], "dismiss", context=[frame])
        v.add(
            "no_mask",
            "NO_MASK",
            "cam2",
            "T3",
            [[verdict(STAFF_A, "without_mask", FACE_A)]],
            "confirm",
            context=[[STAFF_A, STAFF_B]],
        )
        v.add(
            "mask_dismissed",
            "NO_MASK",
            "cam3",
            "T3",
            [[verdict(STAFF_B, "without_mask", FACE_B)]],
            "dismiss",
            context=[[STAFF_A, STAFF_B]],
        )
        v.add("rat", "RODENT", "cam4", "T1", [[RAT]], "confirm", context=[[RAT, STAFF_A]])
        v.add("old_phone", "PHONE", "cam5", "T3", [[PHONE]], "dismiss")  # no context
    yield Decided(v.ev, settings)


def exported(out: Path) -> dict[int, tuple[str, list[tuple[int, float, float, float, float]]]]:
    """evidence id -> (split, label rows), checking every image has its label file."""
    images = {p.stem: p for p in (out / "images").glob("*/*")}
    labels = {p.stem: p for p in (out / "labels").glob("*/*.txt")}
    assert set(images) == set(labels)
    return {
        int(stem.rsplit("_", 1)[1]): (images[stem].parent.name, read_labels(labels[stem]))
        for stem in images
    }


def yolo(class_id: int, b: dict[str, Any]) -> tuple[int, float, float, float, float]:
    """The label row a box of the 320 x 240 frame must give (rounded as `rows` rounds)."""
    x1, y1, x2, y2 = b["box"]
    cx, cy, w, h = (x1 + x2) / 2 / 320, (y1 + y2) / 2 / 240, (x2 - x1) / 320, (y2 - y1) / 240
    return (class_id, round(cx, 4), round(cy, 4), round(w, 4), round(h, 4))


def test_dismissed_frames_keep_their_persons_and_verdicts_become_crops(
    framed: Decided, tmp_path: Path
) -> None:
    """[bounded: one export of 5 pictures, about 5 s]"""
    import cv2
    import numpy as np

    out = tmp_path / "reviews"
    r = run_export(framed, out)
    assert r.returncode == 0, r.stderr
    # the dismissed phone and the mask verdicts are no detector class
    names = yaml.safe_load((out / "data.yaml").read_text())["names"]
    assert names == {0: "person", 1: "rat"}
    person, rat = 0, 1
    got = exported(out)
    ev = framed.evidence

    def rows(what: str) -> list[tuple[int, float, float, float, float]]:
        return sorted((int(c), *(round(v, 4) for v in xywh)) for c, *xywh in got[ev[what][0]][1])  # type: ignore[misc]

    # a dismissed phone: "no phone here", not "nobody here": both staff stay labelled
    assert rows("phone") == sorted([yolo(person, STAFF_A), yolo(person, STAFF_B)])
    # NO_MASK, confirmed or dismissed: the persons are labelled, the verdict is not
    assert rows("no_mask") == sorted([yolo(person, STAFF_A), yolo(person, STAFF_B)])
    assert rows("mask_dismissed") == sorted([yolo(person, STAFF_A), yolo(person, STAFF_B)])
    # a confirmed rat keeps the person beside it
    assert rows("rat") == sorted([yolo(rat, RAT), yolo(person, STAFF_A)])
    # an older record without the frame's objects: as before (a negative), and flagged
    assert rows("old_phone") == []
    manifest = {e["evidence_id"]: e for e in json.loads((out / "reviews.json").read_text())}
    assert [i for i, e in manifest.items() if not e["context"]] == ev["old_phone"]
    assert manifest[ev["phone"][0]]["disputed"] == 1
    assert manifest[ev["phone"][0]]["context_boxes"] == 2
    assert "8 boxes (8 from the frames' other objects), 1 negatives" in r.stdout, r.stdout
    assert "1 records without the frame's objects (labelled as before)" in r.stdout
    assert "2 classifier crops (1 not_without_mask, 1 without_mask)" in r.stdout
    assert "0 skipped" in r.stdout

    # the verdicts: crops cut with the region the classifier judged, in the alert's split
    crops = sorted((out / "classify").glob("*/*/*.jpg"))
    assert len(crops) == 2
    for what, label, face in (
        ("no_mask", "without_mask", FACE_A),
        ("mask_dismissed", "not_without_mask", FACE_B),
    ):
        eid = ev[what][0]
        split = got[eid][0]
        (entry,) = manifest[eid]["verdicts"]
        crop_path = out / entry["crop"]
        assert crop_path.parent == out / "classify" / split / label
        assert entry["said"] == "without_mask" and entry["label"] == label
        picture = cv2.imread(str(out / manifest[eid]["image"]))
        crop = cv2.imread(str(crop_path))
        x1, y1, x2, y2 = (int(v) for v in face)
        assert crop.shape == (y2 - y1, x2 - x1, 3)
        right = np.abs(crop.astype(int) - picture[y1:y2, x1:x2].astype(int)).mean()
        shifted = np.abs(crop.astype(int) - picture[y1 + 8 : y2 + 8, x1:x2].astype(int)).mean()
        assert right < 12 < shifted, (right, shifted)  # the JPEG round trip only


def test_classifier_trainer_reads_the_exported_crops(framed: Decided, tmp_path: Path) -> None:
    """`brightwatch vision train classifier --data <out>/classify` reads the folder
    layout: its labels are the folders, its splits the export's. [about 3 s]"""
    from brightwatch.vision.training.classifier import ClassifierTraining, read_crops
    from brightwatch.vision.yoloset import DatasetError

    out = tmp_path / "reviews"
    assert run_export(framed, out).returncode == 0
    job = ClassifierTraining(data=out / "classify", output=tmp_path / "m.onnx", holdout=0.5)
    names, train, val, n_train, n_val = read_crops(job)
    assert names == ("not_without_mask", "without_mask")
    assert n_train + n_val == 2 and n_val >= 1
    assert sorted(train.classes.tolist() + val.classes.tolist()) == [0, 1]
    for crops in (train, val):
        for k in range(len(crops.classes)):
            h, w = crops.images[crops.index[k]].shape[:2]
            assert crops.boxes[k].tolist() == [0.0, 0.0, w, h]  # each crop taken whole
    # one label only: nothing to learn, said so
    lone = tmp_path / "lone" / "train" / "without_mask"
    lone.mkdir(parents=True)
    for f in (out / "classify").glob("*/*/*.jpg"):
        (lone / f.name).write_bytes(f.read_bytes())
    with pytest.raises(DatasetError, match="one label only"):
        read_crops(ClassifierTraining(data=tmp_path / "lone", output=tmp_path / "x.onnx"))


@pytest.mark.slow
def test_exported_crops_train_with_brightwatch_vision_train_classifier(
    framed: Decided, tmp_path: Path
) -> None:
    """The verdict crops train a classifier end to end (one short epoch)."""
    pytest.importorskip("torch", reason="training a classifier needs torch")
    out = tmp_path / "reviews"
    assert run_export(framed, out).returncode == 0
    model = tmp_path / "models" / "mask_from_reviews.onnx"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "brightwatch",
            "vision",
            "train",
            "classifier",
            "--data",
            str(out / "classify"),
            "--output",
            str(model),
            "--epochs",
            "1",
            "--imgsz",
            "32",
            "--batch",
            "2",
            "--threads",
            "1",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BW_DATA_DIR": str(tmp_path / "data")},
    )
    assert r.returncode == 0, r.stderr[-3000:]
    record = json.loads(model.with_suffix(".json").read_text())
    assert record["classes"] == ["not_without_mask", "without_mask"]
    assert record["train_crops"] + record["heldout"]["crops"] == 2
