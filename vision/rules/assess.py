"""What one frame shows: which violation conditions hold in it, with their boxes.

Pure: objects (already tracked) and the camera's configuration in, `Hit`s out, keyed
`CODE` or `CODE|zone`. The confirmation over time is `confirm`'s job.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from brightwatch.contract.codes import CAMERA_OBSTRUCTED
from brightwatch.vision.rules import schedule
from brightwatch.vision.rules.config import CameraConfig, ClassRule, ZoneDef
from brightwatch.vision.rules.observations import Attribute, BoxRecord, FrameSeen, Obj
from brightwatch.vision.rules.tracker import Track
from brightwatch.vision.rules.zones import in_zone, iou, overlap_fraction, region

# an object "overlaps" another when this share of its area lies inside the other's box
HOLD_OVERLAP = 0.3


@dataclass
class Hit:
    code: str
    key: str
    score: float  # the supporting track's median score (or the classifier's score)
    zone: str = ""
    travel: float = 0.0  # largest travel of a supporting track, x diagonal
    boxes: list[BoxRecord] = field(default_factory=list)
    reason: str = ""


@dataclass(frozen=True)
class Seen:
    """An object of the frame with its track and its class's meaning."""

    obj: Obj
    track: Track | None
    rule: ClassRule | None

    @property
    def is_person(self) -> bool:
        return self.rule.person if self.rule is not None else self.obj.label == "person"

    @property
    def score(self) -> float:
        return self.track.median_score if self.track is not None else self.obj.score

    def record(self, verdict: Attribute | None = None) -> BoxRecord:
        """The object as evidence: its detector class, or a classifier's `verdict` on it."""
        if verdict is None:
            return BoxRecord(
                self.obj.label,
                self.obj.score,
                self.obj.box,
                self.track.id if self.track else -1,
                self.obj.model,
            )
        return BoxRecord(
            verdict.label,
            verdict.score,
            self.obj.box,
            self.track.id if self.track else -1,
            self.obj.model,
            verdict.classifier,
            verdict.crop,
        )


def hit_key(code: str, zone: str = "") -> str:
    return f"{code}|{zone}" if zone else code


def code_of_key(key: str) -> str:
    """The code of a `hit_key`."""
    return key.split("|")[0]


def zone_of_key(key: str) -> str:
    """The zone of a `hit_key` ("" for a camera-wide hit)."""
    return key.split("|", 1)[1] if "|" in key else ""


def zones_of(obj: Obj, frame: FrameSeen, zones: Sequence[ZoneDef]) -> list[ZoneDef]:
    return [z for z in zones if in_zone(obj.box, frame.width, frame.height, z.polygon)]


def _add(hits: dict[str, Hit], hit: Hit) -> None:
    known = hits.get(hit.key)
    if known is None:
        hits[hit.key] = hit
        return
    known.boxes += hit.boxes
    known.travel = max(known.travel, hit.travel)
    if hit.score > known.score:
        known.score = hit.score


def assess(frame: FrameSeen, seen: Sequence[Seen], cfg: CameraConfig) -> dict[str, Hit]:
    hits: dict[str, Hit] = {}
    diagonal = math.hypot(frame.width, frame.height) or 1.0
    persons = [s for s in seen if s.is_person]
    by_label: dict[str, list[Seen]] = {}
    for s in seen:
        by_label.setdefault(s.obj.label, []).append(s)

    def people_in(zone: ZoneDef) -> list[Seen]:
        return [p for p in persons if in_zone(p.obj.box, frame.width, frame.height, zone.polygon)]

    for s in seen:
        rule = s.rule
        if rule is None or rule.code is None or cfg.rule(rule.code) is None:
            continue
        box = s.obj.box
        if any(
            iou(box, o.obj.box) >= HOLD_OVERLAP or overlap_fraction(box, o.obj.box) >= 0.5
            for name in rule.rejects
            for o in by_label.get(name, ())
        ):
            continue  # e.g. a "rat" on a cat: the cat wins
        if rule.near is not None:
            targets = persons if rule.near == "person" else by_label.get(rule.near, [])
            if not any(
                overlap_fraction(box, region(t.obj.box, rule.region)) >= HOLD_OVERLAP
                for t in targets
                if t is not s
            ):
                continue
        if rule.unless is not None and any(
            overlap_fraction(box, o.obj.box) >= HOLD_OVERLAP
            or overlap_fraction(o.obj.box, box) >= HOLD_OVERLAP
            for o in by_label.get(rule.unless, ())
        ):
            continue
        zones = zones_of(s.obj, frame, cfg.zones)
        key_zone = ""
        if rule.zone_kind is not None:
            zones = [z for z in zones if z.kind == rule.zone_kind]
            if not zones:
                continue
            key_zone = zones[0].name
        if rule.unattended:
            if zones:
                if people_in(zones[0]):
                    continue
                key_zone = zones[0].name
            elif persons:
                continue
        travel = (s.track.travel / diagonal) if s.track is not None else 0.0
        _add(
            hits,
            Hit(
                rule.code,
                hit_key(rule.code, key_zone),
                s.score,
                zones[0].name if zones else "",
                travel,
                [s.record()],
            ),
        )

    # two-stage: crop classifiers' verdicts on objects (mask / hat / uniform)
    for s in seen:
        for attr in s.obj.attributes:
            arule = cfg.attributes.get(attr.classifier)
            code = arule.labels.get(attr.label) if arule is not None else None
            if (
                arule is None
                or code is None
                or attr.score < arule.min_score
                or cfg.rule(code) is None
            ):
                continue
            zones = zones_of(s.obj, frame, cfg.zones)
            _add(
                hits,
                Hit(
                    code,
                    hit_key(code),
                    attr.score,
                    zones[0].name if zones else "",
                    0.0,
                    [s.record(attr)],
                ),
            )

    # zones and schedules
    for zone in cfg.zones:
        if zone.kind == "restricted" and cfg.rule("STRANGER") is not None:
            inside_now = people_in(zone)
            allowed = bool(zone.hours) and schedule.in_hours(zone.hours, cfg.timezone, frame.ts)
            if inside_now and not allowed:
                _add(
                    hits,
                    Hit(
                        "STRANGER",
                        hit_key("STRANGER", zone.name),
                        max(p.score for p in inside_now),
                        zone.name,
                        0.0,
                        [p.record() for p in inside_now],
                    ),
                )
        elif zone.kind == "station" and cfg.rule("LEAVE_POST") is not None:
            hours = zone.hours or cfg.working_hours or cfg.operating_hours
            if hours and schedule.in_hours(hours, cfg.timezone, frame.ts) and not people_in(zone):
                _add(hits, Hit("LEAVE_POST", hit_key("LEAVE_POST", zone.name), 1.0, zone.name))

    # frame health
    h = frame.health
    if h is not None and cfg.rule(CAMERA_OBSTRUCTED) is not None:
        lim = cfg.health
        reason = (
            "very dark"
            if h.mean < lim.dark_mean
            else "almost uniform"
            if h.std < lim.uniform_std
            else "blurred"
            if lim.blur_laplacian and h.sharpness < lim.blur_laplacian
            else ""
        )
        if reason:
            _add(hits, Hit(CAMERA_OBSTRUCTED, CAMERA_OBSTRUCTED, 1.0, reason=reason))
    return hits
