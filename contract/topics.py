"""MQTT topic names of interfaces.md, built and parsed in one place.

The root (`bw` by default) is the setting BW_TOPIC_ROOT and may itself contain levels.

`TOPICS` is the table of every topic of the contract: its pattern below the root, who
publishes it and who reads it. The topic builders below and the broker's ACL
(`brightwatch broker-config`) are both derived from it, so a topic the service publishes
is one the broker lets it publish. Below the root:

| topic | publisher | readers |
|---|---|---|
| `elevators/{elevator_id}/status`, `event`, `stats`, `availability` | the terminal | ingest, rules |
| `kitchens/{site_id}/cameras/{camera_id}/frame`, `detections` | the camera agent | vision |
| `kitchens/{site_id}/cameras/{camera_id}/availability` | the camera agent | ingest, vision |
| `alerts/{kind}/{device_id}` | service (alerts outbox) | integrators, the API (live stream) |
| `tickets/{firm_id}/{ticket_id}` | service (alerts outbox) | integrators |
| `notices/{site_id}` | service (MQTT notification channel) | the kitchen's operator |

`notices/{site_id}` carries rectification notices and alert notifications for a kitchen's
operator (JSON, Alertmanager's notification format); each kitchen has its own read user
(`operator/<site_id>`), so an operator reads its own site's notices only.

Roles scoped to a device or a site (`ROLE_SCOPE`) may publish or read only where the
pattern's placeholders hold their own ids. Parsing device topics on the ingest hot path
stays hand-written (`parse_device_topic`); the table's tests check the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from brightwatch.contract.ids import is_valid_id


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


class Role(StrEnum):
    """Who publishes or reads a topic; each is a broker user (`brightwatch broker-config`)."""

    ELEVATOR = "elevator"  # a terminal, under its own elevator_id only
    CAMERA = "camera"  # a camera agent, under its own site_id and camera_id only
    OPERATOR = "operator"  # a kitchen's operator, its own site_id only
    INGEST = "ingest"  # the service components, one broker user each
    RULES = "rules"
    VISION = "vision"
    ALERTS = "alerts"
    INTEGRATOR = "integrator"  # upstream platforms (96333, provincial) reading alerts, tickets
    API = "api"  # the HTTP app: alert changes wake its live alert stream (api.live)


# the placeholders a scoped role is bound to (its own ids); other roles are unscoped
ROLE_SCOPE: dict[Role, tuple[str, ...]] = {
    Role.ELEVATOR: ("elevator_id",),
    Role.CAMERA: ("site_id", "camera_id"),
    Role.OPERATOR: ("site_id",),
}


class TopicError(ValueError):
    """A topic that is not one of the contract's device topics."""


def _placeholder(level: str) -> str | None:
    """`name` for a level written `{name}`, else None."""
    if len(level) > 2 and level[0] == "{" and level[-1] == "}":
        return level[1:-1]
    return None


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic of the contract: `pattern` below the root, `{placeholders}` one level each."""

    name: str
    pattern: str
    publishers: tuple[Role, ...]
    readers: tuple[Role, ...]

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(self.pattern.split("/"))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for f in map(_placeholder, self.levels) if f is not None)

    def topic(self, root: str, **ids: str | int) -> str:
        """The topic with every placeholder filled (KeyError naming a missing one)."""
        return f"{root}/{self.pattern.format(**ids)}"

    def filter(self, root: str, **bound: str) -> str:
        """A subscription filter: placeholders in `bound` filled, the others `+`."""
        parts = [root]
        for level in self.levels:
            name = _placeholder(level)
            parts.append(level if name is None else bound.get(name, "+"))
        return "/".join(parts)

    def admits(self, levels: Sequence[str]) -> bool:
        """Whether topic levels below the root fall under this topic: literal levels equal,
        a placeholder level holding an id or a template placeholder (`{site_id}`)."""
        own = self.levels
        if len(levels) != len(own):
            return False
        for want, got in zip(own, levels, strict=True):
            if _placeholder(want) is None:
                if got != want:
                    return False
            elif not (is_valid_id(got) or _placeholder(got) is not None):
                return False
        return True


_DEVICE_READERS = {
    # frames and edge detections are the vision worker's; ingest records presence only
    Channel.FRAME: (Role.VISION,),
    Channel.DETECTIONS: (Role.VISION,),
    Channel.AVAILABILITY: (Role.INGEST, Role.VISION),
}

TOPICS: tuple[TopicSpec, ...] = (
    *(
        TopicSpec(
            f"elevator_{c}",
            f"elevators/{{elevator_id}}/{c}",
            (Role.ELEVATOR,),
            (Role.INGEST, Role.RULES),
        )
        for c in ELEVATOR_CHANNELS
    ),
    *(
        TopicSpec(
            f"camera_{c}",
            f"kitchens/{{site_id}}/cameras/{{camera_id}}/{c}",
            (Role.CAMERA,),
            _DEVICE_READERS[c],
        )
        for c in CAMERA_CHANNELS
    ),
    # the outbox relay of the alerts component (alert and ticket lifecycle messages)
    TopicSpec("alert", "alerts/{kind}/{device_id}", (Role.ALERTS,), (Role.INTEGRATOR, Role.API)),
    TopicSpec("ticket", "tickets/{firm_id}/{ticket_id}", (Role.ALERTS,), (Role.INTEGRATOR,)),
    # the alerts component's MQTT notification channel: notices for a kitchen's operator
    TopicSpec("notice", "notices/{site_id}", (Role.ALERTS,), (Role.OPERATOR,)),
)

TOPIC_SPECS: dict[str, TopicSpec] = {s.name: s for s in TOPICS}


def published_by(role: Role) -> list[TopicSpec]:
    return [s for s in TOPICS if role in s.publishers]


def grants(root: str, role: Role, **scope: str) -> list[tuple[str, bool, bool]]:
    """(topic filter, may publish, may read) for `role`, scoped to its own ids."""
    missing = [f for f in ROLE_SCOPE.get(role, ()) if f not in scope]
    if missing:
        raise ValueError(f"role {role} needs {', '.join(missing)}")
    out = []
    for s in TOPICS:
        pub, read = role in s.publishers, role in s.readers
        if pub or read:
            out.append((s.filter(root, **scope), pub, read))
    return out


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


def _spec(kind: str, channel: Channel | str) -> TopicSpec:
    try:
        return TOPIC_SPECS[f"{kind}_{channel}"]
    except KeyError:
        raise TopicError(f"no {kind} channel {str(channel)[:40]!r} in the contract") from None


def elevator_topic(root: str, elevator_id: str, channel: Channel | str) -> str:
    return _spec("elevator", channel).topic(root, elevator_id=elevator_id)


def camera_topic(root: str, site_id: str, camera_id: str, channel: Channel | str) -> str:
    return _spec("camera", channel).topic(root, site_id=site_id, camera_id=camera_id)


def alert_topic(root: str, kind: str, device_id: str) -> str:
    return TOPIC_SPECS["alert"].topic(root, kind=kind, device_id=device_id)


def ticket_topic(root: str, firm_id: str, ticket_id: str | int) -> str:
    return TOPIC_SPECS["ticket"].topic(root, firm_id=firm_id, ticket_id=ticket_id)


def notice_topic(root: str, site_id: str) -> str:
    """A kitchen operator's notices (rectification notices, alert notifications)."""
    return TOPIC_SPECS["notice"].topic(root, site_id=site_id)


def _filters(kind: str, channels: Iterable[Channel], root: str) -> list[str]:
    return [_spec(kind, c).filter(root) for c in channels]


def elevator_filters(root: str, channels: tuple[Channel, ...] = ELEVATOR_CHANNELS) -> list[str]:
    return _filters("elevator", channels, root)


def camera_filters(root: str, channels: tuple[Channel, ...] = CAMERA_CHANNELS) -> list[str]:
    return _filters("camera", channels, root)


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
