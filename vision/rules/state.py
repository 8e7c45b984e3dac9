"""The rule state of one camera: plain data, saved after each batch (MessagePack)."""

from __future__ import annotations

import msgspec

from brightwatch.vision.rules.observations import EvidenceRef
from brightwatch.vision.rules.tracker import Track

STATE_VERSION = 1


class Candidate(msgspec.Struct):
    """One violation condition (a code, in a zone or not) being watched frame by frame."""

    code: str
    key: str
    window: list[int] = msgspec.field(default_factory=list)  # held (1) or not, last M frames
    since: int | None = None  # first frame of the current run
    last_held: int | None = None
    fired: bool = False  # this episode has raised its alert
    moved: float = 0.0  # largest travel of a supporting track, x diagonal
    last_score: float = 0.0
    first: EvidenceRef | None = None  # the run's first frame
    last: EvidenceRef | None = None  # the latest frame in which the condition held


class CameraState(msgspec.Struct):
    version: int = STATE_VERSION
    clock: int = 0  # latest capture time seen
    last_frame: int | None = None  # capture time of the latest frame looked at for objects
    last_health: int | None = None  # capture time of the latest frame measured for health
    last_seen: int | None = None  # latest frame, detections or availability 'online'
    online: bool | None = None  # the retained availability
    offline: str | None = None  # CAMERA_OFFLINE raised: "availability" or "silence"
    frames: int = 0
    next_track: int = 1
    tracks: list[Track] = msgspec.field(default_factory=list)
    candidates: dict[str, Candidate] = msgspec.field(default_factory=dict)


def new_state() -> CameraState:
    return CameraState()


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(CameraState)


def encode_state(state: CameraState) -> bytes:
    return _encoder.encode(state)


def decode_state(raw: bytes) -> CameraState:
    return _decoder.decode(raw)
