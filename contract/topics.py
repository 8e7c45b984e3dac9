"""MQTT topic names of interfaces.md, built and parsed in one place.

The root (`bw` by default) is the setting BW_TOPIC_ROOT and may itself contain levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contract.ids import is_valid_id


class Channel(StrEnum):
    STATUS = "status"
    EVENT = "event"
    STATS = "stats"
    AVAILABILITY = "availability"
    FRAME = "frame"
    DETECTIONS = "detections"


ELEVATOR_CHANNELS = (Channel.STATUS, Channel.EVENT, Channel.STATS, Channel.AVAILABILITY)
CAMERA_CHANNELS = (Channel.FRAME, Channel.DETECTIONS, Channel.AVAILABILITY)


class DeviceKind(StrEnum):
    ELEVATOR = "elevator"
    CAMERA = "camera"


class TopicError(ValueError):
    """A topic that is not one of the contract's device topics."""


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    kind: DeviceKind
    channel: Channel
    device_id: str  # elevator_id, or camera_id for cameras
    site_id: str | None = None  # kitchens only

    @property
    def device_key(self) -> str:
        """Unique key of the device across kinds: cameras are only unique within a site."""
        return self.device_id if self.site_id is None else f"{self.site_id}/{self.device_id}"


def elevator_topic(root: str, elevator_id: str, channel: Channel | str) -> str:
    return f"{root}/elevators/{elevator_id}/{channel}"


def camera_topic(root: str, site_id: str, camera_id: str, channel: Channel | str) -> str:
    return f"{root}/kitchens/{site_id}/cameras/{camera_id}/{channel}"


def alert_topic(root: str, kind: str, device_id: str) -> str:
    return f"{root}/alerts/{kind}/{device_id}"


def ticket_topic(root: str, firm_id: str, ticket_id: str | int) -> str:
    return f"{root}/tickets/{firm_id}/{ticket_id}"


def elevator_filters(root: str, channels: tuple[Channel, ...] = ELEVATOR_CHANNELS) -> list[str]:
    return [f"{root}/elevators/+/{c}" for c in channels]


def camera_filters(root: str, channels: tuple[Channel, ...] = CAMERA_CHANNELS) -> list[str]:
    return [f"{root}/kitchens/+/cameras/+/{c}" for c in channels]


def shared(topic_filter: str, group: str | None) -> str:
    """MQTT 5 shared subscription: several workers in one group split the messages."""
    return f"$share/{group}/{topic_filter}" if group else topic_filter


def parse_device_topic(root: str, topic: str) -> DeviceTopic:
    prefix = root + "/"
    if not topic.startswith(prefix):
        raise TopicError(f"topic outside root {root!r}")
    parts = topic[len(prefix) :].split("/")
    if len(parts) == 3 and parts[0] == "elevators":
        _, device_id, channel = parts
        if channel not in ELEVATOR_CHANNELS:
            raise TopicError(f"unknown elevator channel {channel[:40]!r}")
        if not is_valid_id(device_id):
            raise TopicError("invalid elevator_id in topic")
        return DeviceTopic(DeviceKind.ELEVATOR, Channel(channel), device_id)
    if len(parts) == 5 and parts[0] == "kitchens" and parts[2] == "cameras":
        _, site_id, _, camera_id, channel = parts
        if channel not in CAMERA_CHANNELS:
            raise TopicError(f"unknown camera channel {channel[:40]!r}")
        if not (is_valid_id(site_id) and is_valid_id(camera_id)):
            raise TopicError("invalid site_id or camera_id in topic")
        return DeviceTopic(DeviceKind.CAMERA, Channel(channel), camera_id, site_id)
    raise TopicError("not a device topic of the contract")
