"""The channel interface and its registry: what the delivery worker hands a delivery to.

A channel plugin registers its factory by key with `@register_channel`; the factory is
called with the worker's `ChannelContext` (channel settings, broker address). A channel
may offer `render(notification) -> payload`: how an alert notification is written into
the delivery row (the row stores exactly what is sent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from brightwatch.mqttlink.client import BrokerAddress


class DeliveryError(RuntimeError):
    """The receiver could not be reached or refused the message; retry later."""


class DeliveryDeferred(DeliveryError):
    """Not sent yet on purpose (a robot's rate limit): retry after `retry_after_s`.

    The message is held for the next batch to that target, so nothing is lost; a delivery
    worker that knows this class may reschedule without counting an attempt."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Channel(Protocol):
    key: str

    def send(self, target: str, payload: dict[str, Any], subject: str | None) -> None:
        """Deliver or raise DeliveryError."""
        ...


class KeyedChannel(Channel, Protocol):
    """A channel that can hand the receiver an idempotency key (optional extension).

    The delivery worker calls `send_keyed` instead of `send` where a channel has it, with
    `idempotency_key(delivery id)`: the same key on every attempt of one delivery, on any
    replica. A worker that dies after sending and before recording the outcome leaves
    the delivery to be sent again once its lease runs out (at-least-once); a receiver
    that remembers the keys it has seen drops that repeat."""

    def send_keyed(
        self, target: str, payload: dict[str, Any], subject: str | None, key: str
    ) -> None: ...


def idempotency_key(delivery_id: int) -> str:
    """The key of one delivery row: stable across attempts, replicas and restarts."""
    return f"bw-delivery-{delivery_id}"


@dataclass
class ChannelContext:
    """What channel plugins are built with: their settings and the broker address."""

    settings: Any = None  # alerts.channels.settings.ChannelSettings
    broker: BrokerAddress | None = None
    client_id: str = "bw-delivery"

    def channel_settings(self, key: str) -> Any:
        if self.settings is None:
            from brightwatch.alerts.channels.settings import ChannelSettings

            self.settings = ChannelSettings()
        return getattr(self.settings, key)


ChannelFactory = Callable[[ChannelContext], Channel]
CHANNELS: dict[str, ChannelFactory] = {}


def register_channel(key: str) -> Callable[[ChannelFactory], ChannelFactory]:
    def register(factory: ChannelFactory) -> ChannelFactory:
        CHANNELS[key] = factory
        return factory

    return register
