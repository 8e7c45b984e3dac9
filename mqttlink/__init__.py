"""The service's MQTT adapter (paho-mqtt 2): connections from settings, a batch consumer
that acknowledges messages only after its handler has committed them, and a publisher.

The names below load on first use (PEP 562), so that the settings, which only name a
consumer kind (`mqttlink.kinds`), do not import paho-mqtt and prometheus-client.

May import: paho-mqtt, prometheus-client, contract (topic helpers), the standard library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brightwatch.mqttlink.client import BrokerAddress, make_client, parse_mqtt_url
    from brightwatch.mqttlink.consumer import BatchConsumer, Inbound, Isolation, Rejected
    from brightwatch.mqttlink.publisher import Publisher

# each exported name -> the module of this package that defines it
_EXPORTS = {
    "BatchConsumer": "consumer",
    "BrokerAddress": "client",
    "Inbound": "consumer",
    "Isolation": "consumer",
    "Publisher": "publisher",
    "Rejected": "consumer",
    "make_client": "client",
    "parse_mqtt_url": "client",
}

__all__ = [
    "BatchConsumer",
    "BrokerAddress",
    "Inbound",
    "Isolation",
    "Publisher",
    "Rejected",
    "make_client",
    "parse_mqtt_url",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
