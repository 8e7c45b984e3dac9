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

from brightwatch.contract.deadletter import TOPIC_CAP, DeadLetter, dead_letter
from brightwatch.contract.decode import (
    ELEVATOR_KINDS,
    ElevatorMessage,
    check_age,
    decode_elevator_json,
    storable,
)
from brightwatch.contract.payloads import PayloadError, decode_availability
from brightwatch.contract.topics import (
    Channel,
    DeviceKind,
    DeviceTopic,
    TopicError,
    parse_device_topic,
)

log = logging.getLogger(__name__)

Message = ElevatorMessage
KINDS = ELEVATOR_KINDS

NEVER = datetime.min.replace(tzinfo=UTC)


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


@dataclass
class Classified:
    samples: list[Sample] = field(default_factory=list)
    availability: list[AvailabilityReport] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


# The contract's decoder (fast path included) without the storability check, which
# `classify` applies with the other ingest limits; tests compare it with the contract.
decode_sample = decode_elevator_json


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
                storable(decoded)
            if decoded.ts < oldest:
                check_age(decoded.ts, m.received_at, limits.retention)
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
