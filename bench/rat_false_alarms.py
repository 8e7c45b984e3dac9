"""False rodent alarms of the deployed path on rat-free pictures and video, and RODENT on
the rat video, with and without the RODENT rule's person rejection (issue 12, item 5).

    python -m bench.rat_false_alarms [--rat rat] [--person coco] [--out bench/out/rat_false_alarms.json]

The path is the worker's: the person detector (BW_MODEL, default `coco`) and the rat
detector (`rat`: BW_DATA_DIR/models/rat.onnx) with the fleet's input policy, the classes'
minimum scores (RODENT: `rat` >= 0.3, the rule's default, fixed before measuring) and the
RODENT rule of `vision.settings`. "Without the rejection" is the same with `person`
removed from the rat rule's `rejects` (what the rule did before).

- people photos: the face-mask set's held-out split (20 %, seed 0: never trained on; the rat
  recipe takes its negatives from the other 80 %) and the helmet_workwear set's val folder
  (people on building sites; the recipe takes its train folder), share of photos where the
  frame counts towards RODENT (`vision assess`'s candidates), and share with any rat box
  >= 0.3;
- the 13 kitchen photos (never trained on): the same counts;
- rat-free videos sampled at 1 fps through the rule engine (`vision.rules.engine.step`:
  tracking, the N-of-M confirmation, motion): RODENT alarms raised, per camera-hour, and
  frames that counted towards RODENT; the videos are short (seconds), so say so;
- the rat video at 1 fps through the same path: RODENT must be raised.

Writes the JSON record to --out and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from brightwatch.settings import load_settings
from brightwatch.vision import health
from brightwatch.vision.cameras import build_config
from brightwatch.vision.detector import load_detector
from brightwatch.vision.frame_assess import FrameAssessor
from brightwatch.vision.inference import Inference
from brightwatch.vision.rules.config import CameraConfig, ClassRule
from brightwatch.vision.rules.engine import step
from brightwatch.vision.rules.observations import FrameSeen, Obj
from brightwatch.vision.rules.state import new_state
from brightwatch.vision.settings import VisionSettings
from brightwatch.vision.yoloset import list_images, open_set

SHARED = Path(__file__).resolve().parents[2] / "shared"
PEOPLE_SET = SHARED / "datasets" / "face_mask"
SITE_SET = SHARED / "datasets" / "helmet_workwear"  # its val folder: never a negative
KITCHEN = SHARED / "media" / "kitchen"
VIDEOS = SHARED / "media" / "video"
RAT_FREE_VIDEOS = ("people_helmets_traffic_cctv.mp4", "home_kitchen_short.mp4")
RAT_VIDEO = "rat_cage_phonevideo_2022-11-01_17-51-05_reassembled.mp4"
RODENT = "RODENT"
RAT_LABELS = ("rat", "mouse")


@dataclass
class Variant:
    name: str
    cfg: CameraConfig


def variants(vision: VisionSettings) -> list[Variant]:
    """The configured RODENT rule, and the same without `person` among its rejects."""
    star = vision.classes.get("*", {})
    loose = {
        label: rule.model_copy(update={"rejects": [r for r in rule.rejects if r != "person"]})
        for label, rule in star.items()
        if label in RAT_LABELS
    }
    without = vision.model_copy(update={"classes": {**vision.classes, "*": {**star, **loose}}})
    return [
        Variant("with person rejection", build_config(vision, ("bench", "camera"), None)),
        Variant("without person rejection", build_config(without, ("bench", "camera"), None)),
    ]


def rat_rule(cfg: CameraConfig, model: str) -> ClassRule:
    rule = cfg.class_rule(model, "rat")
    if rule is None or rule.code != RODENT:
        raise SystemExit(f"the configuration maps no `rat` of {model} to RODENT")
    return rule


def photos(
    inference: Inference, vs: list[Variant], images: list[Path], rat_model: str
) -> dict[str, Any]:
    """Per variant: photos counting towards RODENT; and photos with a rat box >= min."""
    counted: dict[str, list[str]] = {v.name: [] for v in vs}
    boxed: list[dict[str, Any]] = []
    min_score = rat_rule(vs[0].cfg, rat_model).min_score
    for path in images:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"cannot read {path}")
        objs = inference.run([image], [vs[0].cfg.input])[0]
        rats = [o for o in objs if o.label in RAT_LABELS and o.score >= min_score]
        if rats:
            boxed.append({"image": path.name, "scores": [round(o.score, 3) for o in rats]})
        for v in vs:
            found = _Preset(objs, v.cfg).assess(image, str(path))
            if RODENT in found["candidates"]:
                counted[v.name].append(path.name)
    n = len(images)
    return {
        "images": n,
        "rat_box_images": len(boxed),
        "rat_box_rate": len(boxed) / n,
        "rat_boxes": boxed,
        **{
            f"rodent_{_slug(v.name)}": {
                "images": len(counted[v.name]),
                "rate": len(counted[v.name]) / n,
                "which": counted[v.name],
            }
            for v in vs
        },
    }


class _Preset(FrameAssessor):
    """`vision assess`'s per-frame judgement of objects already found, so that both
    variants judge the same boxes (the detectors run once per picture)."""

    def __init__(self, objs: list[Obj], cfg: CameraConfig) -> None:
        super().__init__(Inference([]), cfg)
        self.preset = objs

    def objects(self, image: np.ndarray) -> list[Obj]:
        return list(self.preset)


def video(
    inference: Inference, vs: list[Variant], path: Path, fps: float, limit: int = 0
) -> dict[str, Any]:
    """Frames at `fps` through the rule engine, timestamps at capture pace."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise SystemExit(f"cannot open {path}")
    native = capture.get(cv2.CAP_PROP_FPS) or 25.0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    every = max(1, round(native / fps))
    states = {v.name: new_state() for v in vs}
    alarms = {v.name: 0 for v in vs}
    first: dict[str, float | None] = {v.name: None for v in vs}
    towards = {v.name: 0 for v in vs}
    frames = 0
    index = 0
    t0 = 1_700_000_000_000
    try:
        while True:
            ok, image = capture.read()
            if not ok or (limit and frames >= limit):
                break
            if index % every == 0:
                frames += 1
                ts = t0 + int(index / native * 1000)
                objs = inference.run([image], [vs[0].cfg.input])[0]
                h, w = image.shape[:2]
                obs = FrameSeen(ts, w, h, tuple(objs), health.measure(image))
                for v in vs:
                    states[v.name], events = step(states[v.name], obs, v.cfg)
                    raised = sum(1 for e in events if e.code == RODENT and e.active)
                    alarms[v.name] += raised
                    if raised and first[v.name] is None:
                        first[v.name] = round(index / native, 1)
                    held = states[v.name].candidates.values()
                    if any(c.code == RODENT and c.last and c.last.ts == ts for c in held):
                        towards[v.name] += 1  # this frame held the condition
            index += 1
    finally:
        capture.release()
    seconds = (index if limit else total or index) / native
    return {
        "video": path.name,
        "seconds": round(seconds, 2),
        "frames_at_fps": frames,
        "fps": fps,
        **{
            f"rodent_{_slug(v.name)}": {
                "alarms": alarms[v.name],
                "first_alarm_s": first[v.name],
                "alarms_per_camera_hour": alarms[v.name] / (seconds / 3600)
                if seconds
                else math.nan,
                "frames_counting": towards[v.name],
            }
            for v in vs
        },
    }


def _slug(name: str) -> str:
    return name.replace(" ", "_")


def people_photos(root: Path = PEOPLE_SET, holdout: float = 0.2, seed: int = 0) -> list[Path]:
    """The held-out split the rat recipe's negatives leave out (same fraction and seed)."""
    return [i.image for i in open_set(root).split("val", holdout=holdout, seed=seed)]


def markdown(record: dict[str, Any]) -> str:
    w, wo = "rodent_with_person_rejection", "rodent_without_person_rejection"
    lines = [
        "| set | images / video | rat box >= 0.3 | RODENT frames, with rejection | without |",
        "|---|---|---|---|---|",
    ]
    for key, label in (
        ("people", "face-mask held-out people photos"),
        ("site_people", "helmet_workwear val people photos"),
        ("kitchen", "kitchen photos"),
    ):
        r = record[key]
        lines.append(
            f"| {label} | {r['images']} | {r['rat_box_images']} ({r['rat_box_rate']:.1%}) | "
            f"{r[w]['images']} ({r[w]['rate']:.1%}) | {r[wo]['images']} ({r[wo]['rate']:.1%}) |"
        )
    lines += [
        "",
        "| video (1 fps, rule engine) | length | frames | RODENT alarms with rejection (per camera-hour) | without | frames counting towards RODENT, with / without |",
        "|---|---|---|---|---|---|",
    ]
    for r in record["videos"]:
        lines.append(
            f"| {r['video']} | {r['seconds']} s | {r['frames_at_fps']} | "
            f"{_alarms(r[w])} | {_alarms(r[wo])} | "
            f"{r[w]['frames_counting']} / {r[wo]['frames_counting']} |"
        )
    return "\n".join(lines)


def _alarms(r: dict[str, Any]) -> str:
    at = f", first at {r['first_alarm_s']} s" if r["first_alarm_s"] is not None else ""
    return f"{r['alarms']} ({r['alarms_per_camera_hour']:.0f}/h{at})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rat", default="rat", help="rat model: name or file (default: rat)")
    ap.add_argument("--person", default=None, help="person model (default: BW_MODEL / coco)")
    ap.add_argument("--fps", type=float, default=1.0, help="video sampling (default 1)")
    ap.add_argument(
        "--limit", type=int, default=0, help="smoke run: first N photos / frames of each (0: all)"
    )
    ap.add_argument("--out", type=Path, default=Path("bench/out/rat_false_alarms.json"))
    args = ap.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"needs ../shared at {SHARED} (datasets and media); absent")
    settings = load_settings()
    vision = settings.vision
    person = load_detector(
        args.person or settings.model, models=vision.models, data_dir=settings.data_dir
    )
    rat = load_detector(args.rat, models=vision.models, data_dir=settings.data_dir)
    inference = Inference([person, rat], input_policy=vision.input)
    vs = variants(vision)
    started = time.monotonic()
    tag = f"{rat.name}@{rat.version}"
    cut = args.limit or None
    record: dict[str, Any] = {
        "person_model": f"{person.name}@{person.version}",
        "rat_model": f"{rat.name}@{rat.version}",
        "rat_min_score": rat_rule(vs[0].cfg, tag).min_score,
        "rejects": rat_rule(vs[0].cfg, tag).rejects,
        "limit": args.limit,
        "input_policy": vision.input,
        "people": photos(inference, vs, people_photos()[:cut], tag),
        "site_people": photos(inference, vs, people_photos(SITE_SET)[:cut], tag),
        "kitchen": photos(inference, vs, list_images(KITCHEN)[:cut], tag),
        "videos": [
            video(inference, vs, VIDEOS / name, args.fps, args.limit)
            for name in (*RAT_FREE_VIDEOS, RAT_VIDEO)
        ],
    }
    record["seconds"] = round(time.monotonic() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1, default=_plain))
    print(markdown(record))
    print(f"\nrecord: {args.out} ({record['seconds']} s)")


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value)}")


if __name__ == "__main__":
    main()
