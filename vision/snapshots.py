"""The latest frame of each camera, for the public page, and the persons seen in it.

`BW_DATA_DIR/snapshots/<site>/<camera>.jpg` is the frame; `<camera>.json` beside it (the
sidecar) holds that frame's capture time, its size, the person boxes the vision pipeline
found in it (central inference, or the camera's own edge detections of the same `ts`)
and the SHA-256 of the JPEG it describes. Each file is written atomically (temporary file
and rename), the JPEG first. A reader takes the sidecar only when its hash is that of
the JPEG it read: a sidecar left by an older frame (a crash between the two writes, an
edge frame whose detections have not come yet) is ignored, and the picture is filtered
on faces alone. The privacy filter (vision.privacy) blurs the head region of each person.

May import: the standard library, msgspec, alerts.evidence.files (atomic writes).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import msgspec

from brightwatch.alerts.evidence.files import write_atomic

log = logging.getLogger(__name__)

PersonBox = tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels of the frame


class FrameSidecar(msgspec.Struct, frozen=True):
    """What the vision pipeline saw in the snapshot whose JPEG hashes to `jpeg_sha256`."""

    ts: int  # capture time, ms since the epoch (the frame's MQTT 5 `ts`)
    width: Annotated[int, msgspec.Meta(gt=0)]  # the frame the boxes are pixels of
    height: Annotated[int, msgspec.Meta(gt=0)]
    jpeg_sha256: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
    persons: list[PersonBox]

    def persons_in(self, width: int, height: int) -> list[PersonBox]:
        """The person boxes in pixels of a `width` x `height` copy of the frame."""
        sx, sy = width / self.width, height / self.height
        return [(x1 * sx, y1 * sy, x2 * sx, y2 * sy) for x1, y1, x2, y2 in self.persons]


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(FrameSidecar).decode


@dataclass(frozen=True)
class Snapshot:
    jpeg: bytes
    frame: FrameSidecar | None  # None: no sidecar of this JPEG (filter on faces alone)


def snapshot_path(data_dir: Path, site_id: str, camera_id: str) -> Path:
    return data_dir / "snapshots" / site_id / f"{camera_id}.jpg"


def sidecar_path(data_dir: Path, site_id: str, camera_id: str) -> Path:
    return data_dir / "snapshots" / site_id / f"{camera_id}.json"


def digest(jpeg: bytes) -> str:
    return hashlib.sha256(jpeg).hexdigest()


def sidecar(
    jpeg: bytes, ts: int, width: int, height: int, persons: list[PersonBox]
) -> FrameSidecar:
    """The sidecar of `jpeg`; ValueError for a size or a box that cannot be right."""
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size {width} x {height}")
    boxes = []
    for box in persons:
        if len(box) != 4 or not all(math.isfinite(v) for v in box):
            raise ValueError(f"person box {box!r}")
        boxes.append((float(box[0]), float(box[1]), float(box[2]), float(box[3])))
    return FrameSidecar(ts, width, height, digest(jpeg), boxes)


def write_frame(data_dir: Path, site_id: str, camera_id: str, jpeg: bytes) -> None:
    write_atomic(snapshot_path(data_dir, site_id, camera_id), jpeg)


def write_sidecar(data_dir: Path, site_id: str, camera_id: str, frame: FrameSidecar) -> None:
    """Written after its JPEG (or later, when a camera's edge detections of it come)."""
    write_atomic(sidecar_path(data_dir, site_id, camera_id), _encode(frame))


def stamp(data_dir: Path, site_id: str, camera_id: str) -> tuple[float, float | None] | None:
    """(JPEG mtime, sidecar mtime or None): what changes when either file is replaced;
    None when the camera has no snapshot."""
    try:
        jpeg = snapshot_path(data_dir, site_id, camera_id).stat().st_mtime
    except OSError:
        return None
    try:
        side: float | None = sidecar_path(data_dir, site_id, camera_id).stat().st_mtime
    except OSError:
        side = None
    return jpeg, side


def read_snapshot(
    data_dir: Path, site_id: str, camera_id: str, attempts: int = 3, wait_s: float = 0.02
) -> Snapshot | None:
    """The JPEG and its sidecar when the sidecar is this JPEG's; None without a JPEG.
    A sidecar of another JPEG is read again `attempts` times: the writer may be between
    the two files."""
    jpeg_at, side_at = (
        snapshot_path(data_dir, site_id, camera_id),
        sidecar_path(data_dir, site_id, camera_id),
    )
    for attempt in range(max(1, attempts)):
        try:
            jpeg = jpeg_at.read_bytes()
        except OSError:
            return None
        try:
            frame = _decode(side_at.read_bytes())
        except FileNotFoundError:
            return Snapshot(jpeg, None)
        except (OSError, msgspec.ValidationError, msgspec.DecodeError) as exc:
            log.warning("snapshot sidecar %s unreadable (%s): faces alone", side_at, exc)
            return Snapshot(jpeg, None)
        if frame.jpeg_sha256 == digest(jpeg):
            return Snapshot(jpeg, frame)
        if attempt + 1 < attempts:
            time.sleep(wait_s)
    return Snapshot(jpeg, None)  # the sidecar of an older frame
