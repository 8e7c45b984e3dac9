"""The consumers' poison-message isolation (mqttlink.consumer.Isolation) on the real
broker, for both clients: a message the handler fails on is tried a bounded number of
times, then dead-lettered alone while the rest of its batch is committed and everything is
acknowledged; a transient failure (the database away) is retried without limit and
dead-letters nothing."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence

import psycopg
import pytest

from brightwatch.db.errors import is_transient
from brightwatch.embedded import EmbeddedBroker
from brightwatch.mqttlink.client import parse_mqtt_url
from brightwatch.mqttlink.consumer import Inbound, Isolation, Rejected
from brightwatch.mqttlink.factory import make_consumer
from tests.support.mqtt import publish
from tests.support.waiting import wait_until


class Recorder:
    """A handler that commits every message but fails on the poisoned ones."""

    def __init__(self, transient_failures: int = 0) -> None:
        self.committed: list[bytes] = []
        self.calls = 0
        self.transient_failures = transient_failures
        self.dead: list[tuple[bytes, str, str]] = []

    def handle(self, batch: list[Inbound]) -> None:
        self.calls += 1
        if self.transient_failures > 0:
            self.transient_failures -= 1
            raise psycopg.OperationalError("connection to server lost")
        if any(m.payload.startswith(b"poison") for m in batch):
            raise psycopg.errors.CharacterNotInRepertoire("invalid byte sequence")
        self.committed += [m.payload for m in batch]

    def dead_letter(self, rejected: Sequence[Rejected], worker: str) -> None:
        self.dead += [(m.payload, reason, worker) for m, reason in rejected]


def consume(
    broker: EmbeddedBroker, kind: str, client_id: str, root: str, recorder: Recorder
) -> tuple[threading.Event, threading.Thread, object]:
    consumer = make_consumer(
        kind,  # type: ignore[arg-type]
        parse_mqtt_url(broker.url, broker.protocol),
        client_id,
        [f"{root}/#"],
        recorder.handle,
        share_group=None,
        batch_size=100,
        batch_wait_s=0.2,
        receive_maximum=1000,
        isolation=Isolation(recorder.dead_letter, is_transient, attempts=3),
        name="test",
    )
    stop = threading.Event()
    t = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    t.start()
    wait_until(lambda: consumer.subscribed.is_set(), 10, what="subscribed")
    return stop, t, consumer


@pytest.mark.parametrize("kind", ["stream", "paho"])
def test_a_poison_message_is_dead_lettered_and_the_rest_goes_on(
    broker: EmbeddedBroker, kind: str
) -> None:
    root, client_id = f"iso{uuid.uuid4().hex[:8]}", f"iso-{uuid.uuid4().hex[:8]}"
    recorder = Recorder()
    stop, t, consumer = consume(broker, kind, client_id, root, recorder)
    messages = [(f"{root}/d/{i}", b"ok %d" % i) for i in range(60)]
    messages[17] = (f"{root}/d/17", b"poison 17")
    messages[42] = (f"{root}/d/42", b"poison 42")
    try:
        publish(broker.port, messages)
        wait_until(lambda: len(recorder.committed) == 58, 30, what="the good messages committed")
        # the handler commits before the consumer files the dead letters and acknowledges
        wait_until(
            lambda: consumer.dead_lettered == 2 and consumer.consecutive_failures == 0,  # type: ignore[attr-defined]
            10,
            what="the batch acknowledged after its dead letters",
        )
        assert sorted(p for p, _, _ in recorder.dead) == [b"poison 17", b"poison 42"]
        assert all(
            r.startswith("refused by test: CharacterNotInRepertoire") and w == "test"
            for _, r, w in recorder.dead
        ), recorder.dead
        assert recorder.committed == [p for _, p in messages if not p.startswith(b"poison")]
        assert consumer.dead_lettered == 2  # type: ignore[attr-defined]
        assert consumer.consecutive_failures == 0  # type: ignore[attr-defined]
        calls = recorder.calls
    finally:
        stop.set()
        t.join(10)
    # everything was acknowledged: the same session gets nothing again
    again = Recorder()
    stop, t, _ = consume(broker, kind, client_id, root, again)
    try:
        publish(broker.port, [(f"{root}/d/end", b"ok end")])
        wait_until(lambda: again.committed, 10, what="the session's next message")
        assert again.committed == [b"ok end"] and not again.dead
    finally:
        stop.set()
        t.join(10)
    # bounded: 3 tries of the whole batch, then a bisection (a few calls per poison)
    assert calls <= 3 + 4 * 2 * 7, calls


def test_a_transient_failure_is_retried_and_dead_letters_nothing(broker: EmbeddedBroker) -> None:
    root, client_id = f"iso{uuid.uuid4().hex[:8]}", f"iso-{uuid.uuid4().hex[:8]}"
    recorder = Recorder(transient_failures=6)  # more than Isolation.attempts
    stop, t, consumer = consume(broker, "stream", client_id, root, recorder)
    try:
        publish(broker.port, [(f"{root}/d/{i}", b"ok %d" % i) for i in range(20)])
        wait_until(lambda: len(recorder.committed) == 20, 30, what="all committed after retries")
        assert recorder.dead == []
        assert consumer.retries >= 6  # type: ignore[attr-defined]
    finally:
        stop.set()
        t.join(10)


def test_transient_and_data_errors_are_told_apart() -> None:
    assert is_transient(psycopg.OperationalError("server closed the connection unexpectedly"))
    assert is_transient(psycopg.errors.SerializationFailure("could not serialize"))
    assert is_transient(psycopg.errors.DeadlockDetected("deadlock detected"))
    assert is_transient(psycopg.errors.AdminShutdown("terminating connection"))
    assert is_transient(ConnectionRefusedError())
    assert not is_transient(psycopg.errors.CharacterNotInRepertoire("NUL"))
    assert not is_transient(psycopg.errors.NumericValueOutOfRange("out of range"))
    assert not is_transient(psycopg.errors.ProgramLimitExceeded("index row too large"))
    assert not is_transient(ValueError("a bug that fails on one message"))
