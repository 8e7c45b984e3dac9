"""One place to choose the consuming client: the lean `stream` session or paho."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from brightwatch.mqttlink.client import BrokerAddress
from brightwatch.mqttlink.consumer import BatchConsumer, Handler, Isolation
from brightwatch.mqttlink.kinds import ConsumerKind
from brightwatch.mqttlink.stream import StreamConsumer


class Consumer(Protocol):
    connected: bool
    received: int
    subscribed: threading.Event

    def run(self, stop: threading.Event) -> None: ...

    @property
    def backlog(self) -> int: ...


def make_consumer(
    kind: ConsumerKind,
    address: BrokerAddress,
    client_id: str,
    topic_filters: Sequence[str],
    handler: Handler,
    *,
    share_group: str | None,
    batch_size: int,
    batch_wait_s: float,
    receive_maximum: int,
    max_backlog_bytes: int = 256 * 1024 * 1024,
    isolation: Isolation | None = None,
    name: str | None = None,
) -> Consumer:
    if kind == "paho":
        return BatchConsumer(
            address,
            client_id,
            topic_filters,
            handler,
            share_group=share_group,
            batch_size=batch_size,
            batch_wait_s=batch_wait_s,
            receive_maximum=receive_maximum,
            isolation=isolation,
            name=name,
        )
    return StreamConsumer(
        address,
        client_id,
        topic_filters,
        handler,
        share_group=share_group,
        batch_size=batch_size,
        batch_wait_s=batch_wait_s,
        receive_maximum=receive_maximum,
        max_backlog_bytes=max_backlog_bytes,
        isolation=isolation,
        name=name,
    )
