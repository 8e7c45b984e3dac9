"""The outbox relay on the real broker: a row that cannot be sent (a topic paho refuses,
a publish the broker refuses) is tried a bounded number of times, then set aside as a
dead letter, and the rows behind it go out; nothing is counted against the rows while
the broker is away."""

from __future__ import annotations

import psycopg

from brightwatch.alerts.outbox import OutboxRelay, enqueue
from brightwatch.embedded import EmbeddedBroker
from brightwatch.mqttlink.client import parse_mqtt_url
from brightwatch.mqttlink.publisher import Publisher
from brightwatch.settings import Settings
from tests.support.mqtt import Collector
from tests.support.waiting import wait_until


def test_a_row_that_cannot_be_sent_is_dead_lettered_and_the_rest_goes_out(
    settings: Settings, broker: EmbeddedBroker, db_url: str
) -> None:
    root = settings.topic_root
    with psycopg.connect(db_url, autocommit=True) as conn:
        enqueue(conn, f"{root}/alerts/elevator/E1", b'{"n": 1}')
        enqueue(conn, f"{root}/alerts/elevator/+/bad", b'{"n": 2}')  # a wildcard: unsendable
        enqueue(conn, f"{root}/alerts/elevator/E3", b'{"n": 3}')
    publisher = Publisher(parse_mqtt_url(broker.url, broker.protocol), "outbox-test").start()
    relay = OutboxRelay(db_url, publisher, max_attempts=3)
    try:
        assert publisher.wait_connected(10)
        with (
            Collector(broker.port, [f"{root}/alerts/#"]) as col,
            psycopg.connect(db_url, autocommit=True) as conn,
        ):
            for _ in range(5):  # each pass tries the blocking row once (max_attempts 3)
                relay.relay_once(conn)
            wait_until(lambda: len(col.on(f"{root}/alerts/")) == 2, 10, what="two messages")
            assert [m.payload for m in col.on(f"{root}/alerts/")] == [b'{"n": 1}', b'{"n": 3}']
            state = conn.execute(
                "SELECT topic, published_at IS NOT NULL, dead_at IS NOT NULL, attempts"
                " FROM outbox ORDER BY id"
            ).fetchall()
            dead = conn.execute(
                "SELECT topic, topic_kind, reason_class, worker, payload FROM dead_letter"
            ).fetchall()
    finally:
        publisher.close()
    assert [s[1:] for s in state] == [(True, False, 0), (False, True, 3), (True, False, 0)]
    assert dead == [
        (f"{root}/alerts/elevator/+/bad", "outbox", "refused", "alerts-relay", b'{"n": 2}')
    ]
    assert relay.dead == 1


def test_nothing_is_counted_against_the_rows_while_the_broker_is_away(
    settings: Settings, db_url: str
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        enqueue(conn, f"{settings.topic_root}/alerts/elevator/E1", b"{}")
    # nothing listens on this port: the publisher never connects
    publisher = Publisher(parse_mqtt_url("mqtt://127.0.0.1:9"), "outbox-away").start()
    relay = OutboxRelay(db_url, publisher, max_attempts=1, timeout_s=0.5)
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            for _ in range(2):
                try:
                    relay.relay_once(conn)
                except Exception as exc:  # PublishTimeout: the relay's loop waits and retries
                    assert type(exc).__name__ == "PublishTimeout"
            row = conn.execute("SELECT attempts, dead_at, published_at FROM outbox").fetchone()
    finally:
        publisher.close()
    assert row == (0, None, None)
