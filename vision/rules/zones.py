"""Zones: polygons per camera in fractions (0..1) of the picture's width and height.

kitchens.md: an object is in a zone when the bottom centre of its box is inside (where a
person stands or a bin sits, not where its head reaches into the picture above).
"""

from __future__ import annotations

from collections.abc import Sequence

Point = tuple[float, float]
Box = tuple[float, float, float, float]


def bottom_centre(box: Box, width: int, height: int) -> Point:
    """The middle of the box's lower edge, in fractions of the picture."""
    x1, _, x2, y2 = box
    return ((x1 + x2) / 2 / max(width, 1), y2 / max(height, 1))


def inside(point: Point, polygon: Sequence[Point]) -> bool:
    """Even-odd ray casting; a point on the lower/right edges counts as inside so that
    a box resting on the picture's bottom edge (y = 1.0) is in a zone reaching it."""
    x, y = point
    n = len(polygon)
    if n < 3:
        return False
    for i in range(n):  # on an edge: inside
        (ax, ay), (bx, by) = polygon[i], polygon[(i + 1) % n]
        cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax)
        if (
            abs(cross) <= 1e-9
            and min(ax, bx) - 1e-9 <= x <= max(ax, bx) + 1e-9
            and min(ay, by) - 1e-9 <= y <= max(ay, by) + 1e-9
        ):
            return True
    found = False
    j = n - 1
    for i in range(n):
        xi, yi = polygon[i]
        xj, yj = polygon[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            found = not found
        j = i
    return found


def in_zone(box: Box, width: int, height: int, polygon: Sequence[Point]) -> bool:
    return inside(bottom_centre(box, width, height), polygon)


def overlap_fraction(inner: Box, outer: Box) -> float:
    """Share of `inner`'s area that lies inside `outer` (0..1)."""
    ix1, iy1 = max(inner[0], outer[0]), max(inner[1], outer[1])
    ix2, iy2 = min(inner[2], outer[2]), min(inner[3], outer[3])
    inter = max(0.0, ix2 - ix1) * max(0.0, iy2 - iy1)
    area = max(0.0, inner[2] - inner[0]) * max(0.0, inner[3] - inner[1])
    return inter / area if area > 0 else 0.0


def iou(a: Box, b: Box) -> float:
    ix1, iy1 = max(a[0], b[0]), max(a[1], b[1])
    ix2, iy2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, ix2 - ix1) * max(0.0, iy2 - iy1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def region(box: Box, part: str) -> Box:
    """A part of a person's box: `upper` body (hands and torso: the top 60 %), `head`
    (the top 25 %, central 70 % of the width), or the whole box."""
    x1, y1, x2, y2 = box
    h, w = y2 - y1, x2 - x1
    if part == "upper":
        return (x1, y1, x2, y1 + 0.6 * h)
    if part == "head":
        return (x1 + 0.15 * w, y1, x2 - 0.15 * w, y1 + 0.25 * h)
    return box
