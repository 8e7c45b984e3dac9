"""A small multi-object tracker: objects of one class in consecutive frames are the same
track when their boxes overlap (IoU) or, failing that, when their centres are close
(fast small objects such as a rat at 1-2 fps rarely overlap from frame to frame).

Greedy matching, best pairs first; a track not seen for `max_missed` frames or
`max_gap_ms` ends. Tracks are plain data (saved with the camera's state). The scores of
a track's recent frames give the median score the confirmation uses (kitchens.md), and
its path tells a moving animal from a picture on the wall.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from brightwatch.vision.rules.zones import Box, iou

SCORES_KEPT = 15


class Track(msgspec.Struct, array_like=True):
    id: int
    label: str
    box: Box
    first_centre: tuple[float, float]
    first_ts: int
    last_ts: int
    hits: int = 1
    missed: int = 0
    scores: list[float] = msgspec.field(default_factory=list)
    travel: float = 0.0  # largest distance from the first centre, in pixels

    @property
    def median_score(self) -> float:
        return median(self.scores)


@dataclass(frozen=True)
class TrackerParams:
    iou: float = 0.3  # match by overlap at or above this
    centre_distance: float = 0.15  # else by centre distance below this x picture diagonal
    max_missed: int = 5  # frames a track may miss before it ends
    max_gap_ms: int = 30_000  # and time


def median(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def centre(box: Box) -> tuple[float, float]:
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def update(
    tracks: Sequence[Track],
    objects: Sequence[tuple[str, float, Box]],
    ts: int,
    diagonal: float,
    next_id: int,
    params: TrackerParams = TrackerParams(),
) -> tuple[list[Track], list[int], int]:
    """(tracks after this frame, track id of each object in order, next free id)."""
    live = [
        t
        for t in tracks
        if t.missed < params.max_missed and ts - t.last_ts <= params.max_gap_ms and t.last_ts <= ts
    ]
    pairs: list[tuple[float, int, int]] = []  # (-quality, track index, object index)
    limit = params.centre_distance * diagonal
    for ti, t in enumerate(live):
        tc = centre(t.box)
        for oi, (label, _, box) in enumerate(objects):
            if label != t.label:
                continue
            overlap = iou(t.box, box)
            if overlap >= params.iou:
                pairs.append((-(1.0 + overlap), ti, oi))
                continue
            oc = centre(box)
            dist = math.hypot(oc[0] - tc[0], oc[1] - tc[1])
            if dist < limit:
                pairs.append((-(1.0 - dist / limit) * 0.99, ti, oi))
    pairs.sort()
    assigned: dict[int, int] = {}
    used: set[int] = set()
    for _, ti, oi in pairs:
        if ti in used or oi in assigned:
            continue
        used.add(ti)
        assigned[oi] = ti
    out: list[Track] = []
    ids: list[int] = []
    for oi, (label, score, box) in enumerate(objects):
        match = assigned.get(oi)
        if match is None:
            c = centre(box)
            t = Track(next_id, label, box, c, ts, ts, scores=[score])
            next_id += 1
        else:
            old = live[match]
            c = centre(box)
            moved = math.hypot(c[0] - old.first_centre[0], c[1] - old.first_centre[1])
            t = Track(
                old.id,
                label,
                box,
                old.first_centre,
                old.first_ts,
                ts,
                old.hits + 1,
                0,
                [*old.scores, score][-SCORES_KEPT:],
                max(old.travel, moved),
            )
        out.append(t)
        ids.append(t.id)
    for ti, t in enumerate(live):
        if ti not in used:
            out.append(
                Track(
                    t.id,
                    t.label,
                    t.box,
                    t.first_centre,
                    t.first_ts,
                    t.last_ts,
                    t.hits,
                    t.missed + 1,
                    t.scores,
                    t.travel,
                )
            )
    return out, ids, next_id
