"""The labelled kitchen dev set: hand labels committed in `models/devset/labels.json`,
images rebuilt from `../shared` by a fixed recipe (`build`).

The labels name each base frame's source (a photo, or a video and a frame index), its
split (`dev` or `holdout`, by source group) and, for every visible person, the person,
head and face boxes and the mask / hat truth ("unknown" when a labeller could not tell).
`build` extracts the frames, writes each with its CCTV-like variants (`variants`) and
moves the labels with the picture. The data card is `models/devset/README.md`.

May import: pydantic, numpy, cv2, brightwatch.vision.evaluation.variants.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from brightwatch.vision.evaluation.variants import VARIANTS, Variant, move_box, variant

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LABELS = REPO_ROOT / "models" / "devset" / "labels.json"
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov")

# A person cut by the frame to less than this share of its box no longer counts (it
# becomes `ignore`); a head or face cut that far is gone and its attribute unknown.
MIN_VISIBLE_SHARE = 0.3
# Persons smaller than this (px, after the variant) are too small to ask anything of.
MIN_PERSON_HEIGHT = 20

Mask = Literal["with_mask", "without_mask", "unknown"]
Hat = Literal["hat", "no_hat", "unknown"]
Split = Literal["dev", "holdout"]


class DevSetUnavailable(RuntimeError):
    """The shared media the dev set is rebuilt from are not here (tests skip on it)."""


class DevSetError(ValueError):
    """The labels file is malformed."""


def _check_box(value: list[float] | None) -> list[float] | None:
    if value is None:
        return None
    if len(value) != 4:
        raise ValueError(f"a box is [x1, y1, x2, y2], got {value}")
    x1, y1, x2, y2 = value
    if min(value) < 0 or x2 <= x1 or y2 <= y1:
        raise ValueError(f"a box needs 0 <= x1 < x2 and 0 <= y1 < y2, got {value}")
    return value


BoxField = Annotated[list[float], Field(description="[x1, y1, x2, y2] in pixels")]


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    box: BoxField
    head: list[float] | None = Field(description="Head with any headwear; null if not seen.")
    face: list[float] | None = Field(description="Eyes to chin; null if not seen.")
    mask: Mask
    hat: Hat
    staff: bool = Field(description="A kitchen worker (not a customer or passer-by).")
    ignore: bool = Field(False, description="Too small, cut or hidden to count either way.")
    note: str | None = None

    _boxes = field_validator("box", "head", "face")(_check_box)


class LabelledObject(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1)
    box: BoxField
    note: str | None = None

    _boxes = field_validator("box")(_check_box)


class LabelledFrame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    source: str = Field(description="Path relative to ../shared.")
    frame: int | None = Field(None, ge=0, description="Frame index, for a video source.")
    group: str = Field(description="Frames of one group (a video, one scene) share a split.")
    split: Split
    persons: list[Person]
    objects: list[LabelledObject]
    ignore_regions: list[list[float]] = Field(
        default_factory=list, description="Where a person detection is neither hit nor miss."
    )
    note: str | None = None

    @field_validator("ignore_regions")
    @classmethod
    def _regions(cls, value: list[list[float]]) -> list[list[float]]:
        for box in value:
            _check_box(box)
        return value

    @model_validator(mode="after")
    def _video_needs_frame(self) -> LabelledFrame:
        is_video = Path(self.source).suffix.lower() in VIDEO_SUFFIXES
        if is_video != (self.frame is not None):
            raise ValueError(f"{self.id}: a video source needs `frame`, a picture must not have it")
        return self


class DevSetLabels(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    how_labelled: str = Field(min_length=40)
    frozen_at: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    splits_rule: str
    frames: list[LabelledFrame] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> DevSetLabels:
        ids = [f.id for f in self.frames]
        if len(ids) != len(set(ids)):
            raise ValueError("frame ids must be unique")
        split_of: dict[str, set[str]] = defaultdict(set)
        for f in self.frames:
            split_of[f"group {f.group}"].add(f.split)
            split_of[f"source {f.source}"].add(f.split)
        mixed = sorted(k for k, v in split_of.items() if len(v) > 1)
        if mixed:
            raise ValueError(f"in both dev and holdout: {', '.join(mixed)}")
        return self


def load_labels(path: Path = DEFAULT_LABELS) -> DevSetLabels:
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DevSetError(f"{path}: no dev set labels there") from None
    except json.JSONDecodeError as exc:
        raise DevSetError(f"{path}: not JSON ({exc})") from None
    try:
        return DevSetLabels.model_validate(raw)
    except ValidationError as exc:
        raise DevSetError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class DevFrame:
    """One image of the built dev set (a base frame or a variant) with its labels in the
    image's own pixel coordinates."""

    id: str
    base_id: str
    split: str
    variant: str
    image: Path
    width: int
    height: int
    persons: tuple[Person, ...]
    objects: tuple[LabelledObject, ...]
    ignore_regions: tuple[tuple[float, float, float, float], ...]
    source: str

    def to_json(self) -> dict[str, object]:
        out = asdict(self)
        out["image"] = str(self.image)
        out["persons"] = [p.model_dump() for p in self.persons]
        out["objects"] = [o.model_dump() for o in self.objects]
        return out


def _move_person(person: Person, matrix: np.ndarray, w: int, h: int) -> Person:
    box, kept = move_box(person.box, matrix, w, h)
    if box is None:
        gone = {"head": None, "face": None, "mask": "unknown", "hat": "unknown", "ignore": True}
        return person.model_copy(update={"box": [0.0, 0.0, 1.0, 1.0], **gone})
    update: dict[str, object] = {"box": list(box)}
    if kept < MIN_VISIBLE_SHARE or box[3] - box[1] < MIN_PERSON_HEIGHT:
        update["ignore"] = True
    for part, attribute in (("head", "hat"), ("face", "mask")):
        old = getattr(person, part)
        if old is None:
            continue
        moved, part_kept = move_box(old, matrix, w, h)
        if moved is None or part_kept < MIN_VISIBLE_SHARE:
            update[part] = None
            update[attribute] = "unknown"  # cut out of the picture: nobody can tell
        else:
            update[part] = list(moved)
    return person.model_copy(update=update)


def transform_labels(
    frame: LabelledFrame, matrix: np.ndarray, width: int, height: int
) -> tuple[tuple[Person, ...], tuple[LabelledObject, ...], tuple[tuple[float, ...], ...]]:
    """The frame's labels after a variant (`matrix`: old to new pixel coordinates)."""
    persons = tuple(_move_person(p, matrix, width, height) for p in frame.persons)
    objects = []
    for obj in frame.objects:
        box, kept = move_box(obj.box, matrix, width, height)
        if box is not None and kept >= MIN_VISIBLE_SHARE:
            objects.append(obj.model_copy(update={"box": list(box)}))
    regions = []
    for region in frame.ignore_regions:
        box, _ = move_box(region, matrix, width, height)
        if box is not None:
            regions.append(box)
    return persons, tuple(objects), tuple(regions)


def _video_frames(path: Path, wanted: Collection[int]) -> dict[int, np.ndarray]:
    """Decode the video from the start and keep the wanted indices (sequential reading:
    seeking lands on different frames with different decoders)."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DevSetUnavailable(f"{path}: cannot open the video")
    got: dict[int, np.ndarray] = {}
    last = max(wanted)
    try:
        index = 0
        while index <= last:
            ok, image = capture.read()
            if not ok:
                break
            if index in wanted:
                got[index] = image
            index += 1
    finally:
        capture.release()
    missing = sorted(set(wanted) - set(got))
    if missing:
        raise DevSetUnavailable(f"{path}: the video has no frame {missing[0]}")
    return got


def base_images(
    shared: Path, frames: Sequence[LabelledFrame]
) -> Iterator[tuple[LabelledFrame, np.ndarray]]:
    """Each labelled frame's pixels, read from `shared` (videos decoded once each)."""
    if not shared.is_dir():
        raise DevSetUnavailable(
            f"{shared} not found: the dev set is rebuilt from the shared media (../shared)"
        )
    wanted: dict[str, set[int]] = defaultdict(set)
    for f in frames:
        if f.frame is not None:
            wanted[f.source].add(f.frame)
    decoded: dict[str, dict[int, np.ndarray]] = {}
    for f in frames:
        path = shared / f.source
        if not path.is_file():
            raise DevSetUnavailable(f"{path} not found (source of dev set frame {f.id})")
        if f.frame is not None:
            if f.source not in decoded:
                decoded[f.source] = _video_frames(path, wanted[f.source])
            yield f, decoded[f.source][f.frame]
        else:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise DevSetUnavailable(f"{path}: not a readable image")
            yield f, image


def build(
    shared: Path,
    out: Path,
    labels: Path = DEFAULT_LABELS,
    *,
    only: Collection[str] | None = None,
    variants: Sequence[str] | None = None,
) -> list[DevFrame]:
    """Write every labelled frame and its variants under `out/frames` as JPEG (quality 95,
    the variant's own quality for `jpeg25`), and `out/manifest.json` listing them with
    their labels. `only` keeps the named base frames, `variants` the named variants."""
    doc = load_labels(labels)
    chosen = [f for f in doc.frames if only is None or f.id in only]
    if only is not None and len(chosen) != len(set(only)):
        unknown = sorted(set(only) - {f.id for f in doc.frames})
        raise DevSetError(f"no such dev set frame: {', '.join(unknown)}")
    recipe: list[Variant] = [variant(n) for n in variants] if variants else list(VARIANTS)
    folder = out / "frames"
    folder.mkdir(parents=True, exist_ok=True)
    built: list[DevFrame] = []
    for frame, image in base_images(shared, chosen):
        h0, w0 = image.shape[:2]
        for v in recipe:
            if not v.applies(w0, h0):
                continue
            picture, matrix = v.make(image)
            h, w = picture.shape[:2]
            path = folder / f"{frame.id}__{v.name}.jpg"
            ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, v.jpeg_quality])
            if not ok:
                raise RuntimeError(f"cannot encode {path.name}")
            path.write_bytes(data.tobytes())
            persons, objects, regions = transform_labels(frame, matrix, w, h)
            built.append(
                DevFrame(
                    id=f"{frame.id}__{v.name}",
                    base_id=frame.id,
                    split=frame.split,
                    variant=v.name,
                    image=path,
                    width=w,
                    height=h,
                    persons=persons,
                    objects=objects,
                    ignore_regions=tuple((r[0], r[1], r[2], r[3]) for r in regions),
                    source=frame.source + (f"#{frame.frame}" if frame.frame is not None else ""),
                )
            )
    manifest = {"labels": str(labels), "frames": [f.to_json() for f in built]}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return built
