"""The service's MQTT adapter (paho-mqtt 2): connections from settings, a batch consumer
that acknowledges messages only after its handler has committed them, and a publisher.

May import: paho-mqtt, prometheus-client, contract (topic helpers), the standard library.
"""

from brightwatch.mqttlink.client import BrokerAddress, make_client, parse_mqtt_url
from brightwatch.mqttlink.consumer import BatchConsumer, Inbound, Isolation, Rejected
from brightwatch.mqttlink.publisher import Publisher

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
