"""How the components consume the broker: one consumer per worker, its poison-message
isolation (bounded retries, bisection, then a dead letter) and its lag metric."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from brightwatch.db.deadletters import DeadLetterSink
from brightwatch.db.errors import is_transient
from brightwatch.health import observe_lag
from brightwatch.mqttlink.consumer import Handler, Isolation
from brightwatch.mqttlink.factory import Consumer, make_consumer
from brightwatch.mqttlink.kinds import ConsumerKind
from brightwatch.runtime import Runtime
from brightwatch.settings import Settings


def isolation(settings: Settings, component: str, worker: str) -> Isolation:
    """Dead letters of `component`'s consumer go to the table, capped per device."""
    letters = settings.ingest  # the dead-letter settings every consumer shares
    return Isolation(
        DeadLetterSink(
            settings.database_url.get_secret_value(),
            component,
            worker,
            letters.dead_letter_max_bytes,
            letters.dead_letters_per_device_hour,
        ),
        is_transient,
    )


class WorkerSettings(Protocol):
    """The consuming part of `[elevators]` and `[vision]`."""

    @property
    def mqtt_client(self) -> ConsumerKind: ...

    @property
    def batch_size(self) -> int: ...

    @property
    def batch_wait_ms(self) -> int: ...

    @property
    def receive_maximum(self) -> int: ...


def worker_consumer(
    runtime: Runtime,
    component: str,
    session: str,
    filters: Sequence[str],
    handler: Handler,
    section: WorkerSettings,
    shared: bool = True,
) -> Consumer:
    """The consumer of a rules or vision worker: its own persistent session (`session`),
    through `$share/<group>-<session>/...` when BW_SHARE_GROUP is set and `shared` (a
    partitioned worker sees every device and handles its own partitions: not shared)."""
    settings = runtime.settings
    client = runtime.client_id(session)
    group = f"{settings.share_group}-{session}" if settings.share_group and shared else None
    return make_consumer(
        section.mqtt_client,
        runtime.broker,
        client,
        filters,
        observe_lag(component, handler),
        share_group=group,
        batch_size=section.batch_size,
        batch_wait_s=section.batch_wait_ms / 1000,
        receive_maximum=section.receive_maximum,
        isolation=isolation(settings, component, client),
        name=component,
    )
