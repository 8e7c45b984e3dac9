"""Which MQTT consumer a component runs (`ConsumerKind`), named in the components' settings.

Kept apart from `mqttlink.factory` so that loading the settings does not import paho-mqtt.

May import: the standard library.
"""

from __future__ import annotations

from typing import Literal

ConsumerKind = Literal["stream", "paho"]

CONSUMER_KIND_DESCRIPTION = (
    "stream: the lean receive-only session of mqttlink.stream (about 3 µs of CPU per "
    "message); paho: mqttlink.BatchConsumer on paho-mqtt (about 60-80 µs per message), "
    "the reference implementation. Both acknowledge only after the handler committed."
)
