"""Messages into typed samples or dead letters (pure: no MQTT, no SQL).

Every inbound message becomes exactly one of: a `Sample` (a validated status, event
or stats message of an elevator), an `AvailabilityReport` (an elevator's or camera's
`online` / `offline`), or a `DeadLetter` with the reason it was refused. The contract
(`contract.topics`, `contract.payloads`) decides what is valid; this module only adds
a fast path for the common case and the ingest's own limits (clock lead, retention).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import msgspec

from contract.payloads import (
    MAX_JSON_BYTES,
    Decoded,
    ElevatorEvent,
    ElevatorStats,
    ElevatorStatus,
    PayloadError,
    check_ts,
    decode_availability,
    decode_device_json,
    parse_ts,
)
from contract.topics import Channel, DeviceKind, DeviceTopic, TopicError, parse_device_topic

log = logging.getLogger(__name__)

Message = ElevatorStatus | ElevatorEvent | ElevatorStats

KINDS: dict[Channel, type[Message]] = {
    Channel.STATUS: ElevatorStatus,
    Channel.EVENT: ElevatorEvent,
    Channel.STATS: ElevatorStats,
}

NEVER = datetime.min.replace(tzinfo=UTC)

# Topics are capped in the dead-letter table: a topic is at most 64 KiB in MQTT.
TOPIC_CAP = 512


class InboundLike(Protocol):
    """What classification reads of a received message (mqttlink.Inbound has it)."""

    topic: str
    payload: bytes
    received_at: datetime


@dataclass(slots=True)
class Sample:
    """A validated elevator message: one row of elevator_status / _event / _stats."""

    channel: Channel
    elevator_id: str
    ts: datetime
    seq: int
    received_at: datetime
    message: Message
    extra: dict[str, Any] | None
    topic: str  # as received, for a dead letter written later (quarantine)
    payload: bytes

    @property
    def key(self) -> tuple[str, datetime, int]:
        return (self.elevator_id, self.ts, self.seq)


@dataclass(slots=True)
class AvailabilityReport:
    device: DeviceTopic
    availability: str
    received_at: datetime
    topic: str
    payload: bytes


@dataclass(slots=True)
class DeadLetter:
    topic: str
    payload: bytes  # capped
    size: int  # of the whole payload
    reason: str
    reason_class: str  # bounded vocabulary, the metric's label
    received_at: datetime


@dataclass
class Classified:
    samples: list[Sample] = field(default_factory=list)
    availability: list[AvailabilityReport] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


def reason_class(reason: str) -> str:
    """The metric label of a rejection reason (a handful of values, never free text)."""
    if reason.startswith("topic"):
        return "topic"
    if reason.startswith("unknown device"):
        return "unknown_device"
    if reason.startswith("payload too large"):
        return "too_large"
    if reason.startswith(("invalid JSON", "expected a JSON object", "not UTF-8")):
        return "json"
    if reason.startswith("ts:"):
        return "timestamp"
    if reason.startswith("availability"):
        return "availability"
    if reason.startswith("channel"):
        return "channel"
    if reason.startswith(("internal", "database refused")):
        return "internal"
    return "schema"


def _text(value: str, cap: int) -> str:
    """Storable in a text column: no U+0000, no lone surrogates."""
    value = value[:cap].replace("\x00", "\ufffd")
    return value.encode("utf-8", "replace").decode("utf-8")


def dead_letter(
    topic: str, payload: bytes, reason: str, received_at: datetime, max_bytes: int
) -> DeadLetter:
    return DeadLetter(
        topic=_text(topic, TOPIC_CAP),
        payload=payload[:max_bytes],
        size=len(payload),
        reason=_text(reason, 1000),
        reason_class=reason_class(reason),
        received_at=received_at,
    )


# The fast path: a valid message without extra fields decodes straight into its struct.
# Anything else (extra fields, any error) goes through the contract's decoder, which
# gives the authoritative result and reason; tests check both agree on every input.
# (omit_defaults: the fields a terminal did not send stay out of last_status)
class _StrictStatus(ElevatorStatus, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    pass


class _StrictEvent(ElevatorEvent, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    pass


class _StrictStats(ElevatorStats, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    pass


_FAST_DECODERS: dict[Channel, msgspec.json.Decoder[Any]] = {
    Channel.STATUS: msgspec.json.Decoder(_StrictStatus),
    Channel.EVENT: msgspec.json.Decoder(_StrictEvent),
    Channel.STATS: msgspec.json.Decoder(_StrictStats),
}


def decode_sample(
    channel: Channel, raw: bytes, now: datetime, max_future: timedelta
) -> Decoded[Message]:
    """Decode like `contract.payloads.decode_device_json`, faster when nothing is unusual."""
    if len(raw) <= MAX_JSON_BYTES:
        try:
            message = _FAST_DECODERS[channel].decode(raw)
        except Exception:
            pass  # the contract's decoder below gives the authoritative reason
        else:
            ts = parse_ts(message.ts)
            check_ts(ts, now, max_future)
            return Decoded(message, ts, None)
    return decode_device_json(raw, KINDS[channel], now, max_future)


class TopicCache:
    """parse_device_topic with a bounded memo: a fleet sends on the same topics all day."""

    def __init__(self, root: str, max_entries: int = 300_000) -> None:
        self.root = root
        self.max_entries = max_entries
        self._known: dict[str, DeviceTopic] = {}

    def parse(self, topic: str) -> DeviceTopic:
        hit = self._known.get(topic)
        if hit is not None:
            return hit
        parsed = parse_device_topic(self.root, topic)  # raises TopicError
        if len(self._known) >= self.max_entries:
            self._known.clear()
        self._known[topic] = parsed
        return parsed


@dataclass(frozen=True)
class Limits:
    max_future: timedelta = timedelta(days=1)
    retention: timedelta = timedelta(days=400)
    dead_letter_max_bytes: int = 4096


def classify(messages: Iterable[InboundLike], topics: TopicCache, limits: Limits) -> Classified:
    out = Classified()
    samples, reports, dead = out.samples, out.availability, out.dead
    cap = limits.dead_letter_max_bytes
    received_at: datetime | None = None
    oldest = NEVER
    for m in messages:
        if m.received_at is not received_at:  # one receive time per read of the socket
            received_at = m.received_at
            oldest = received_at - limits.retention
        try:
            device = topics.parse(m.topic)
        except TopicError as exc:
            dead.append(dead_letter(m.topic, m.payload, f"topic: {exc}", m.received_at, cap))
            continue
        channel = device.channel
        try:
            if channel is Channel.AVAILABILITY:
                reports.append(
                    AvailabilityReport(
                        device, decode_availability(m.payload), m.received_at, m.topic, m.payload
                    )
                )
                continue
            if device.kind is not DeviceKind.ELEVATOR or channel not in KINDS:
                # frames and detections belong to the vision worker, not to ingest
                raise PayloadError(f"channel {channel.value} is not consumed by ingest")
            decoded = decode_sample(channel, m.payload, m.received_at, limits.max_future)
            if decoded.extra or channel is Channel.EVENT:
                check_storable(decoded.message, decoded.extra)
            if decoded.ts < oldest:
                raise PayloadError(
                    f"ts: {decoded.ts.isoformat()} is older than the raw retention "
                    f"({limits.retention.days} days)"
                )
        except PayloadError as exc:
            dead.append(dead_letter(m.topic, m.payload, exc.reason, m.received_at, cap))
            continue
        except UnicodeDecodeError:
            # msgspec reports malformed UTF-8 this way rather than as a DecodeError
            dead.append(
                dead_letter(m.topic, m.payload, "invalid JSON: not UTF-8", m.received_at, cap)
            )
            continue
        except Exception as exc:  # never let one message stop the stream
            log.exception("classifying a message on %s failed", m.topic[:TOPIC_CAP])
            reason = f"internal: {type(exc).__name__} while validating"
            dead.append(dead_letter(m.topic, m.payload, reason, m.received_at, cap))
            continue
        message = decoded.message
        samples.append(
            Sample(
                channel,
                device.device_id,
                decoded.ts,
                message.seq,
                m.received_at,
                message,
                decoded.extra,
                m.topic,
                m.payload,
            )
        )
    return out


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def check_storable(message: Message, extra: dict[str, Any] | None) -> None:
    """PostgreSQL text and jsonb cannot hold U+0000, which JSON can carry as \\u0000."""
    if isinstance(message, ElevatorEvent) and (
        "\x00" in message.code or (message.detail is not None and "\x00" in message.detail)
    ):
        raise PayloadError("event text contains U+0000, which cannot be stored")
    if extra and _has_nul(extra):
        raise PayloadError("an extra field contains U+0000, which cannot be stored")
