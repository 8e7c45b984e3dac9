"""A consumer that acknowledges QoS 1 messages only after its handler committed them.

paho delivers messages on its network thread; they are queued and handed to the
handler in batches on the caller's thread. The handler either makes the whole batch
durable (database commit) or raises; on success every message of the batch is
acknowledged (PUBACK) in the order received, on failure the batch is retried with
backoff and nothing is acknowledged. The broker keeps unacknowledged messages in the
persistent session and redelivers them after a crash or reconnect, so nothing is lost;
handlers make redelivery harmless (idempotent writes).

With MQTT 5 the Receive Maximum sent at connect bounds the unacknowledged messages in
flight, hence memory and batch size; with 3.1.1 the broker's max_inflight_messages does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from brightwatch.contract.topics import shared
from brightwatch.mqttlink import metrics
from brightwatch.mqttlink.client import BrokerAddress, make_client

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Inbound:
    topic: str
    payload: bytes
    received_at: datetime
    user_ts: int | None  # MQTT 5 user property `ts` (epoch ms), when sent
    retain: bool
    mid: int
    qos: int
    generation: int
    # MQTT 5 user property `seq`: the camera agent's frame that pairs with edge detections
    user_seq: int | None = None
    # time.monotonic() at receipt: how long the message has waited in this process (the
    # vision worker sheds frames it would infer too late); None: not known
    received_mono: float | None = None


# A message the handler will not take, with the reason (what the dead letter says).
Rejected = tuple[Inbound, str]
# The handler makes a batch durable or raises; it may return the messages it refused
# (invalid for it), which are dead-lettered before the batch is acknowledged.
Handler = Callable[[list[Inbound]], Sequence[Rejected] | None]


@dataclass(frozen=True, slots=True)
class Isolation:
    """How a consumer keeps one bad message from stopping the stream.

    A failure `is_transient` says is not the messages' fault (connection lost, database
    or broker restarting, serialisation failure, deadlock): the batch is retried without
    limit and nothing is acknowledged meanwhile, so an outage dead-letters nothing. Any
    other failure is tried `attempts` times, then the batch is bisected to the messages
    that fail on their own, which go to `dead_letter` with the reason; the rest is
    committed and acknowledged. `dead_letter(rejected, worker)` must make them durable
    or raise (a transient error is retried)."""

    dead_letter: Callable[[Sequence[Rejected], str], None]
    is_transient: Callable[[BaseException], bool]
    attempts: int = 3


def failure_reason(worker: str, exc: BaseException) -> str:
    first = (str(exc).splitlines() or [""])[0][:300]
    return f"refused by {worker}: {type(exc).__name__}: {first}"


def user_int(pairs: Iterable[tuple[str, str]] | None, name: str) -> int | None:
    """The integer MQTT 5 user property `name` (`ts`, `seq`); None when absent or not a number."""
    for key, value in pairs or ():
        if key == name:
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BatchLoop:
    """What every consumer shares: the caller's thread takes batches from the queue the
    network side fills, hands each to the handler, acknowledges it only after the handler
    returned, and retries a failed batch with backoff (nothing acknowledged meanwhile).
    Subclasses own the connection: `start`, `close`, `_take_batch`, `_acknowledge`."""

    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        topic_filters: Sequence[str],
        share_group: str | None,
        handler: Handler,
        batch_size: int,
        batch_wait_s: float,
        max_retry_delay_s: float,
        isolation: Isolation | None = None,
        name: str | None = None,
    ) -> None:
        self.address = address
        self.filters = [shared(f, share_group) for f in topic_filters]
        self.client_id = client_id
        self.handler = handler
        self.batch_size = batch_size
        self.batch_wait_s = batch_wait_s
        self.max_retry_delay_s = max_retry_delay_s
        self.isolation = isolation
        self.name = name or client_id  # the component, for logs and metrics
        self._queue: deque[Inbound] = deque()
        self._wake = threading.Condition()
        self._generation = 0
        self.subscribed = threading.Event()
        self.connected = False
        # figures read by metrics and tests
        self.received = 0
        self.acknowledged = 0
        self.batches = 0
        self.failures = 0  # handler calls that raised
        self.consecutive_failures = 0  # since the last batch that went through
        self.retries = 0
        self.dead_lettered = 0
        self.last_batch_size = 0
        self.last_commit_at: float | None = None
        self.failing_since: float | None = None
        metrics.BACKLOG.labels(self.name).set_function(lambda: len(self._queue))
        metrics.LAST_COMMIT.labels(self.name).set_function(lambda: self.last_commit_at or 0.0)

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _take_batch(self, stop: threading.Event) -> list[Inbound]:
        raise NotImplementedError

    def _acknowledge(self, batch: list[Inbound]) -> None:
        raise NotImplementedError

    def _process(self, batch: list[Inbound], stop: threading.Event) -> None:
        rejected = self._handle(batch, stop, self.isolation.attempts if self.isolation else 0)
        if rejected is None:
            return  # stopped: not acknowledged, the broker redelivers after restart
        if rejected and not self._dead_letter(rejected, stop):
            return
        self._acknowledge(batch)
        self.batches += 1
        self.last_batch_size = len(batch)
        self.last_commit_at = time.time()
        self.consecutive_failures = 0
        self.failing_since = None
        metrics.BATCHES.labels(self.name).inc()

    def _handle(
        self, items: list[Inbound], stop: threading.Event, attempts: int
    ) -> list[Rejected] | None:
        """Run the handler until it succeeds; the messages it refused, or None if stopped.
        Transient failures are retried without limit, others `attempts` times before the
        batch is bisected (see Isolation)."""
        delay = 0.1
        tries = 0
        while True:
            try:
                return list(self.handler(items) or ())
            except Exception as exc:
                self.failures += 1
                self.consecutive_failures += 1
                if self.failing_since is None:
                    self.failing_since = time.time()
                iso = self.isolation
                transient = iso is None or iso.is_transient(exc)
                metrics.FAILURES.labels(self.name, "transient" if transient else "message").inc()
                if not transient:
                    tries += 1
                    if tries >= attempts:
                        return self._isolate(items, stop, exc)
                self.retries += 1
                metrics.RETRIES.labels(self.name).inc()
                log.log(
                    logging.WARNING if transient else logging.ERROR,
                    "%s: batch of %d failed (%s: %s); retrying in %.1f s",
                    self.name,
                    len(items),
                    type(exc).__name__,
                    (str(exc).splitlines() or [""])[0][:200],
                    delay,
                    exc_info=not transient,
                )
                if stop.wait(delay):
                    return None
                delay = min(delay * 2, self.max_retry_delay_s)

    def _isolate(
        self, items: list[Inbound], stop: threading.Event, exc: BaseException
    ) -> list[Rejected] | None:
        if len(items) == 1:
            return [(items[0], failure_reason(self.name, exc))]
        half = len(items) // 2
        rejected: list[Rejected] = []
        for part in (items[:half], items[half:]):
            got = self._handle(part, stop, 1)
            if got is None:
                return None
            rejected += got
        return rejected

    def _dead_letter(self, rejected: list[Rejected], stop: threading.Event) -> bool:
        """Make the rejected messages durable as dead letters; False if stopped first."""
        iso = self.isolation
        if iso is None:  # nowhere to put them: they are only counted
            self.dead_lettered += len(rejected)
            return True
        delay = 0.1
        while True:
            try:
                iso.dead_letter(rejected, self.name)
            except Exception as exc:
                if not iso.is_transient(exc):
                    # a dead letter that cannot be stored must not stop the stream either
                    log.exception(
                        "%s: %d dead letters could not be stored", self.name, len(rejected)
                    )
                    metrics.FAILURES.labels(self.name, "dead_letter").inc()
                    break
                log.warning("%s: storing dead letters: %s; retrying", self.name, exc)
                if stop.wait(delay):
                    return False
                delay = min(delay * 2, self.max_retry_delay_s)
                continue
            break
        self.dead_lettered += len(rejected)
        item, reason = rejected[0]  # one line per batch: a flood must not flood the log too
        log.warning(
            "%s: dead-lettered %d message(s), the first on %s: %s",
            self.name,
            len(rejected),
            item.topic[:200],
            reason,
        )
        return True

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; the batch in hand is finished first."""
        self.start()
        try:
            while not stop.is_set():
                batch = self._take_batch(stop)
                if batch:
                    self._process(batch, stop)
        finally:
            self.close()

    @property
    def backlog(self) -> int:
        return len(self._queue)


class BatchConsumer(BatchLoop):
    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        topic_filters: Sequence[str],
        handler: Handler,
        *,
        share_group: str | None = None,
        batch_size: int = 1000,
        batch_wait_s: float = 0.05,
        receive_maximum: int = 20_000,
        max_retry_delay_s: float = 10.0,
        isolation: Isolation | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            address,
            client_id,
            topic_filters,
            share_group,
            handler,
            batch_size,
            batch_wait_s,
            max_retry_delay_s,
            isolation,
            name,
        )
        self.client, self._connect_kwargs = make_client(
            address, client_id, persistent=True, manual_ack=True, receive_maximum=receive_maximum
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    # -- paho callbacks (network thread)

    def _on_connect(self, client, userdata, flags, reason_code, properties=None):
        if reason_code.is_failure:
            log.warning("%s: connection refused: %s", self.client_id, reason_code)
            return
        with self._wake:
            self._generation += 1
        self.connected = True
        self._connected(client, flags)

    def _connected(self, client: Any, flags: Any) -> None:
        """What a (re)connection does once accepted: subscribe (mqttlink.retire instead
        unsubscribes a session it drains)."""
        client.subscribe([(f, 1) for f in self.filters])

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):
        self.connected = False
        self.subscribed.clear()
        if reason_code != 0:
            log.warning("%s: disconnected (%s); reconnecting", self.client_id, reason_code)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties=None):
        bad = [rc for rc in reason_codes if getattr(rc, "is_failure", False)]
        if bad:
            log.error("%s: subscription refused: %s", self.client_id, bad)
            return
        self.subscribed.set()

    def _on_message(self, client, userdata, msg):
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = msg._topic.decode("utf-8", "replace")
        props = getattr(msg, "properties", None)
        pairs = getattr(props, "UserProperty", None) if props is not None else None
        item = Inbound(
            topic,
            msg.payload,
            datetime.now(UTC),
            user_int(pairs, "ts"),
            bool(msg.retain),
            msg.mid,
            msg.qos,
            self._generation,
            user_int(pairs, "seq"),
            time.monotonic(),
        )
        with self._wake:
            self._queue.append(item)
            self.received += 1
            # wake the consumer at the first message (it then waits batch_wait_s for the
            # batch to fill) and again when a batch is full
            if len(self._queue) == 1 or len(self._queue) >= self.batch_size:
                self._wake.notify()

    # -- consumer thread

    def _take_batch(self, stop: threading.Event) -> list[Inbound]:
        with self._wake:
            if not self._queue:
                self._wake.wait(timeout=0.2)
                if not self._queue:
                    return []
            if len(self._queue) < self.batch_size and not stop.is_set():
                # give a partial batch a moment to fill
                self._wake.wait(timeout=self.batch_wait_s)
            n = min(len(self._queue), self.batch_size)
            return [self._queue.popleft() for _ in range(n)]

    def _acknowledge(self, batch: list[Inbound]) -> None:
        generation = self._generation
        for item in batch:
            # a message from an earlier connection is redelivered by the broker on this
            # one and acknowledged then; its old packet id means nothing any more
            if item.qos > 0 and item.generation == generation:
                self.client.ack(item.mid, item.qos)
                self.acknowledged += 1

    def start(self) -> None:
        self.client.connect_async(self.address.host, self.address.port, **self._connect_kwargs)  # type: ignore[arg-type]
        self.client.loop_start()

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()
