"""One decoder per device topic, used by every consumer (ingest, the rules worker, the
vision worker): what one accepts, all accept, and nothing accepted can break a later
step (a database write, a serialiser) for being unstorable.

`decode_elevator` and `decode_detections` return the validated message, its capture
time and the unknown fields (kept); they raise `PayloadError` with the dead letter's
reason otherwise. The common case (a valid message without extra fields) decodes straight
into its struct; anything else goes through `decode_device_json`, which gives the
authoritative reason (tests check both paths agree on every input).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from brightwatch.contract.limits import LIMITS, LimitError, check_json, check_text
from brightwatch.contract.payloads import (
    Decoded,
    Detections,
    ElevatorEvent,
    ElevatorStats,
    ElevatorStatus,
    PayloadError,
    check_ts,
    decode_device_json,
    parse_ts,
)
from brightwatch.contract.topics import Channel

ElevatorMessage = ElevatorStatus | ElevatorEvent | ElevatorStats

ELEVATOR_KINDS: dict[Channel, type[ElevatorMessage]] = {
    Channel.STATUS: ElevatorStatus,
    Channel.EVENT: ElevatorEvent,
    Channel.STATS: ElevatorStats,
}

DEFAULT_MAX_FUTURE = timedelta(days=1)


# (omit_defaults: the fields a terminal did not send stay out of what is stored)
class _StrictStatus(ElevatorStatus, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    pass


class _StrictEvent(ElevatorEvent, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    pass


class _StrictStats(ElevatorStats, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    pass


class _StrictDetections(Detections, forbid_unknown_fields=True, kw_only=True):
    pass


_FAST: dict[Channel, msgspec.json.Decoder[Any]] = {
    Channel.STATUS: msgspec.json.Decoder(_StrictStatus),
    Channel.EVENT: msgspec.json.Decoder(_StrictEvent),
    Channel.STATS: msgspec.json.Decoder(_StrictStats),
    Channel.DETECTIONS: msgspec.json.Decoder(_StrictDetections),
}


def _fast(
    channel: Channel, raw: bytes, now: datetime, max_future: timedelta
) -> Decoded[Any] | None:
    if len(raw) > LIMITS.max_bytes:
        return None
    try:
        message = _FAST[channel].decode(raw)
    except Exception:
        return None  # the contract's decoder gives the authoritative reason
    ts = parse_ts(message.ts)
    check_ts(ts, now, max_future)
    return Decoded(message, ts, None)


def storable(decoded: Decoded[Any]) -> Decoded[Any]:
    """Text fields and kept extras within the contract's limits (see contract.limits)."""
    message = decoded.message
    try:
        if isinstance(message, ElevatorEvent):
            check_text(message.code, "code")
            if message.detail is not None:
                check_text(message.detail, "detail")
        elif isinstance(message, Detections):
            check_text(message.model, "model")
            for o in message.objects:
                check_text(o.label, "label")
        if decoded.extra:
            check_json(decoded.extra, "an extra field")
    except LimitError as exc:
        raise PayloadError(exc.reason) from None
    return decoded


def decode_elevator_json(
    channel: Channel, raw: bytes, now: datetime, max_future: timedelta = DEFAULT_MAX_FUTURE
) -> Decoded[ElevatorMessage]:
    """`decode_device_json` for an elevator channel, with the fast path; no storability
    check (`decode_elevator` adds it)."""
    kind = ELEVATOR_KINDS.get(channel)
    if kind is None:
        raise PayloadError(f"channel {channel.value} is not an elevator message")
    decoded = _fast(channel, raw, now, max_future)
    return decoded if decoded is not None else decode_device_json(raw, kind, now, max_future)


def check_age(ts: datetime, now: datetime, max_age: timedelta) -> None:
    """Older than the raw retention: it could not be stored (ingest) and must not raise
    anything either (the rules)."""
    if ts < now - max_age:
        raise PayloadError(
            f"ts: {ts.isoformat()} is older than the raw retention ({max_age.days} days)"
        )


def decode_elevator(
    channel: Channel,
    raw: bytes,
    now: datetime,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
    max_age: timedelta | None = None,
) -> Decoded[ElevatorMessage]:
    """A status, event or stats message of an elevator terminal, storable."""
    decoded = storable(decode_elevator_json(channel, raw, now, max_future))
    if max_age is not None:
        check_age(decoded.ts, now, max_age)
    return decoded


def decode_detections(
    raw: bytes, now: datetime, max_future: timedelta = DEFAULT_MAX_FUTURE
) -> Decoded[Detections]:
    """A camera agent's edge detections."""
    decoded = _fast(Channel.DETECTIONS, raw, now, max_future)
    if decoded is None:
        decoded = decode_device_json(raw, Detections, now, max_future)
    return storable(decoded)
