"""Dead letters: what the contract says of a message no consumer could take.

Every refused message is kept with its topic, its payload (capped), the reason and the
worker that refused it; `reason_class`, `topic_kind` and `device_key` are the bounded
labels that metrics, the per-device flood cap and the dashboards group by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Topics are capped in the dead-letter table: a topic is at most 64 KiB in MQTT.
TOPIC_CAP = 512
DEVICE_KEY_CAP = 200


@dataclass(slots=True)
class DeadLetter:
    topic: str
    payload: bytes  # capped
    size: int  # of the whole payload
    reason: str
    reason_class: str  # bounded vocabulary, the metric's label
    received_at: datetime
    topic_kind: str = "other"  # elevator_status, camera_frame, ..., outbox, other
    device_key: str = ""  # elevator_id, site_id/camera_id, or "" when the topic names none


_REASON_PREFIXES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("topic",), "topic"),
    (("unknown device",), "unknown_device"),
    (("payload too large", "frame too large"), "too_large"),
    (("invalid JSON", "expected a JSON object", "not UTF-8"), "json"),
    (("ts:",), "timestamp"),
    (("availability",), "availability"),
    (("channel",), "channel"),
    (("frame",), "frame"),
    (("limits:",), "limits"),
    (("refused by",), "refused"),
    (("internal", "database refused"), "internal"),
)


def reason_class(reason: str) -> str:
    """The metric label of a rejection reason (a handful of values, never free text)."""
    for prefixes, label in _REASON_PREFIXES:
        if reason.startswith(prefixes):
            return label
    return "schema"


_ELEVATOR_CHANNELS = ("status", "event", "stats", "availability")
_CAMERA_CHANNELS = ("frame", "detections", "availability")


def topic_kind_and_device(topic: str) -> tuple[str, str]:
    """(`elevator_status` ..., the device key) of a device topic under any root; `other`
    and "" for anything else. Reads the topic's shape only: the topic may be invalid."""
    parts = topic.split("/")
    if len(parts) >= 4 and parts[-3] == "elevators" and parts[-1] in _ELEVATOR_CHANNELS:
        return f"elevator_{parts[-1]}", text(parts[-2], DEVICE_KEY_CAP)
    if (
        len(parts) >= 6
        and parts[-5] == "kitchens"
        and parts[-3] == "cameras"
        and parts[-1] in _CAMERA_CHANNELS
    ):
        return f"camera_{parts[-1]}", text(f"{parts[-4]}/{parts[-2]}", DEVICE_KEY_CAP)
    return "other", ""


def text(value: str, cap: int) -> str:
    """Storable in a text column: no U+0000, no lone surrogates."""
    value = value[:cap].replace("\x00", "\ufffd")
    return value.encode("utf-8", "replace").decode("utf-8")


def dead_letter(
    topic: str,
    payload: bytes,
    reason: str,
    received_at: datetime,
    max_bytes: int,
    topic_kind: str | None = None,
) -> DeadLetter:
    kind, device = topic_kind_and_device(topic)
    return DeadLetter(
        topic=text(topic, TOPIC_CAP),
        payload=payload[:max_bytes],
        size=len(payload),
        reason=text(reason, 1000),
        reason_class=reason_class(reason),
        received_at=received_at,
        topic_kind=topic_kind or kind,
        device_key=device,
    )
