"""Device payloads of interfaces.md: decoding, validation and the reasons for rejection.

Decoding is strict (wrong types, unknown enum values, NaN, out-of-range numbers and
malformed UTF-8 are rejected with a reason) except that unknown extra fields of a JSON
object are kept and returned beside the validated message, as the contract requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec

# Largest JSON document accepted from a device; larger ones are dead-lettered unread.
MAX_JSON_BYTES = 64 * 1024
# Largest frame accepted (one JPEG).
MAX_FRAME_BYTES = 8 * 1024 * 1024
# Largest picture a frame may claim in its header (8K UHD): a few hundred bytes can claim
# 32767 x 32767 pixels, which would be decoded into gigabytes.
MAX_FRAME_PIXELS = 7680 * 4320
# Earliest capture time accepted: anything before is a terminal with an unset clock.
MIN_TS = datetime(2000, 1, 1, tzinfo=UTC)
_MIN_TS_MS = int(MIN_TS.timestamp() * 1000)
_MAX_TS_MS = 4102444800000  # 2100-01-01

ServiceMode = Literal[
    "normal",
    "inspection",
    "fire_return",
    "firefighter",
    "emergency_power",
    "earthquake",
    "out_of_service",
    "unknown",
]
RunState = Literal["stopped", "running"]
Direction = Literal["none", "up", "down"]
DoorState = Literal["closed", "open", "closing", "opening"]
PowerSource = Literal["mains", "battery"]
CircuitState = Literal["closed", "open"]
EventState = Literal["raise", "clear"]
Availability = Literal["online", "offline"]

Seq = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
Timestamp = Annotated[int, msgspec.Meta(ge=_MIN_TS_MS, le=_MAX_TS_MS)] | str
Floor = Annotated[int, msgspec.Meta(ge=-1000, le=1000)]
Speed = Annotated[float, msgspec.Meta(ge=0, le=30)]  # fastest passenger lifts run ~21 m/s
Percent150 = Annotated[float, msgspec.Meta(ge=0, le=150)]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
Rms = Annotated[float, msgspec.Meta(ge=0, le=1000)]
Counter = Annotated[float, msgspec.Meta(ge=0, le=1e15)]
IntCounter = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
Pixels = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Score = Annotated[float, msgspec.Meta(ge=0, le=1)]
Coord = Annotated[float, msgspec.Meta(ge=-100_000, le=100_000)]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]
Detail = Annotated[str, msgspec.Meta(max_length=2000)]


class ElevatorStatus(msgspec.Struct, kw_only=True):
    ts: Timestamp
    seq: Seq
    service_mode: ServiceMode
    run_state: RunState
    floor: Floor
    door_zone: bool
    door_state: DoorState
    has_person: bool
    speed: Speed
    direction: Direction | None = None
    load_pct: Percent150 | None = None
    power_source: PowerSource | None = None
    battery_pct: Percent | None = None
    safety_circuit: CircuitState | None = None
    alarm_button: bool | None = None
    up_limit: bool | None = None
    down_limit: bool | None = None
    car_door_locked: bool | None = None
    landing_door_locked: bool | None = None
    vibration_rms: Rms | None = None


class ElevatorEvent(msgspec.Struct, kw_only=True):
    ts: Timestamp
    seq: Seq
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    state: EventState
    detail: Detail | None = None


class ElevatorStats(msgspec.Struct, kw_only=True):
    ts: Timestamp
    seq: Seq
    run_count: IntCounter | None = None
    run_hours: Counter | None = None
    door_cycles: IntCounter | None = None
    distance_km: Counter | None = None


class DetectedObject(msgspec.Struct, kw_only=True):
    label: ShortText
    score: Score
    box: Annotated[list[Coord], msgspec.Meta(min_length=4, max_length=4)]


class Detections(msgspec.Struct, kw_only=True):
    ts: Timestamp
    seq: Seq
    model: ShortText
    width: Pixels
    height: Pixels
    objects: Annotated[list[DetectedObject], msgspec.Meta(max_length=1000)]


M = TypeVar("M", bound=msgspec.Struct)


class PayloadError(ValueError):
    """A payload that cannot be parsed or validated; `reason` is what the dead letter says."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Decoded(Generic[M]):
    message: M
    ts: datetime  # capture time at the device, UTC
    extra: dict[str, Any] | None  # unknown fields, kept


_FIELDS: dict[type, frozenset[str]] = {}


def _known_fields(kind: type[msgspec.Struct]) -> frozenset[str]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = frozenset(kind.__struct_fields__)
    return names


def decode_json_object(raw: bytes, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    if len(raw) > max_bytes:
        raise PayloadError(f"payload too large: {len(raw)} bytes > {max_bytes}")
    try:
        obj = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # Bad UTF-8 inside a string: msgspec < 0.23 raised UnicodeDecodeError, 0.23 raises
        # DecodeError("Invalid UTF-8 encoded string"); the reason is the same with either.
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise PayloadError("invalid JSON: not UTF-8") from None
        raise PayloadError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise PayloadError("invalid JSON: nested too deeply") from None
    if not isinstance(obj, dict):
        raise PayloadError(f"expected a JSON object, got {type(obj).__name__}")
    return obj


def parse_ts(value: int | str) -> datetime:
    """Epoch milliseconds or an RFC 3339 string with an offset, as UTC."""
    if isinstance(value, int):
        return datetime.fromtimestamp(value / 1000, UTC)
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise PayloadError(f"ts: not epoch ms nor RFC 3339: {value[:40]!r}") from None
    if ts.tzinfo is None:
        raise PayloadError("ts: RFC 3339 time without a UTC offset")
    ts = ts.astimezone(UTC)
    if not MIN_TS <= ts < datetime(2100, 1, 1, tzinfo=UTC):
        raise PayloadError(f"ts: {value[:40]!r} outside 2000-2100")
    return ts


def check_epoch_ms(ts_ms: int, now: datetime, max_future: timedelta) -> None:
    """A capture time given as epoch ms outside a JSON payload (a frame's MQTT 5 `ts`
    property): the same bounds as `Timestamp` and `check_ts`."""
    if not _MIN_TS_MS <= ts_ms <= _MAX_TS_MS:
        raise PayloadError(f"ts: {ts_ms} outside 2000-2100")
    check_ts(datetime.fromtimestamp(ts_ms / 1000, UTC), now, max_future)


def check_ts(ts: datetime, now: datetime, max_future: timedelta) -> None:
    if ts > now + max_future:
        raise PayloadError(
            f"ts: {ts.isoformat()} is more than {max_future} ahead of the server clock"
        )


def convert(obj: Mapping[str, Any], kind: type[M]) -> M:
    try:
        return msgspec.convert(obj, kind)
    except msgspec.ValidationError as exc:
        raise PayloadError(str(exc)) from None


def decode_device_json(
    raw: bytes,
    kind: type[M],
    now: datetime,
    max_future: timedelta = timedelta(days=1),
) -> Decoded[M]:
    """Decode one JSON device message (status, event, stats or detections)."""
    obj = decode_json_object(raw)
    message = convert(obj, kind)
    ts = parse_ts(message.ts)  # type: ignore[attr-defined]
    check_ts(ts, now, max_future)
    known = _known_fields(kind)
    extra = {k: v for k, v in obj.items() if k not in known}
    return Decoded(message, ts, extra or None)


def decode_availability(raw: bytes) -> Availability:
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise PayloadError("availability: not UTF-8") from None
    if text not in ("online", "offline"):
        raise PayloadError(f"availability: expected online/offline, got {text[:40]!r}")
    return text  # type: ignore[return-value]


def check_frame_size(size: tuple[int, int] | None) -> None:
    """The width and height a frame's header claims (None: not found) within bounds."""
    if size is None:
        raise PayloadError("frame: no picture size in the JPEG header")
    w, h = size
    if w < 1 or h < 1 or w * h > MAX_FRAME_PIXELS:
        raise PayloadError(f"frame: {w} x {h} pixels is more than {MAX_FRAME_PIXELS} in all")


def check_frame(raw: bytes) -> None:
    """A frame must be one JPEG image of bounded size (SOI marker at the start)."""
    if len(raw) > MAX_FRAME_BYTES:
        raise PayloadError(f"frame too large: {len(raw)} bytes > {MAX_FRAME_BYTES}")
    if len(raw) < 4 or raw[:2] != b"\xff\xd8":
        raise PayloadError("frame is not a JPEG image")
