"""The upstream outbox against a local receiver (http.server on 127.0.0.1): delivered once
with its idempotency key and authentication, retried on 5xx, dead-lettered on a refusal or
after the attempts, and never sent twice by two concurrent pushers."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr

from brightwatch.alerts.upstream.push import Pusher, enqueue, pending
from brightwatch.alerts.upstream.settings import UpstreamSettings
from brightwatch.settings import Settings
from tests.alerts.test_upstream import _fire
from tests.brightwatch.test_cli import bw
from tests.support.http import JsonServer

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
SECRET = "s3cret"


@dataclass
class Receiver:
    """Answers with `statuses` in turn (the last one repeats) and records every request."""

    statuses: list[int]
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.requests.append({"headers": headers, "body": body})
            n = len(self.requests)
        time.sleep(self.delay_s)
        return self.statuses[min(n, len(self.statuses)) - 1]

    def keys(self) -> list[str]:
        return [r["headers"]["Idempotency-Key"] for r in self.requests]


def serve(receiver: Receiver) -> Iterator[str]:
    server = JsonServer(lambda path, headers, body: (receiver.answer(dict(headers), body), {}))
    try:
        yield f"{server.url}/ingest"
    finally:
        server.close()


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Receiver:
    """A fresh receiver; `indirect` parameters give its statuses (and delay)."""
    statuses, delay = getattr(request, "param", ([200], 0.0))
    return Receiver(list(statuses), delay)


@pytest.fixture
def url(receiver: Receiver) -> Iterator[str]:
    yield from serve(receiver)


def envelope(n: int) -> dict[str, Any]:
    since = T0 - timedelta(days=1)
    return {
        "format": "brightwatch.kitchens/1",
        "generated_at": T0.isoformat(),
        "window": {"since": since.isoformat(), "until": T0.isoformat()},
        "items": [{"record": "violation", "alert_id": n, "name_zh": "未戴口罩"}],
    }


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def settings(url: str, **more: Any) -> UpstreamSettings:
    return UpstreamSettings(url=url, timeout_s=5, backoff_base_s=30, max_attempts=4, **more)


def row(conn: psycopg.Connection[Any], row_id: int) -> dict[str, Any]:
    cur = conn.execute(
        "SELECT attempts, delivered_at, dead_at, dead_reason, last_status FROM upstream_outbox"
        " WHERE id = %s",
        (row_id,),
    )
    names = [d.name for d in cur.description or []]
    values = cur.fetchone()
    assert values is not None
    return dict(zip(names, values, strict=True))


def test_a_row_is_delivered_once_with_its_key_token_and_signature(
    db_url: str, url: str, receiver: Receiver
) -> None:
    clock = Clock()
    with psycopg.connect(db_url, autocommit=True) as conn:
        row_id = enqueue(conn, "kitchens", envelope(1), T0)
        pusher = Pusher(settings(url, token=SecretStr("tok"), hmac_secret=SecretStr(SECRET)), clock)
        assert pusher.step(conn) == 1
        assert pusher.step(conn) == 0  # delivered: never due again
        pusher.close()
        assert row(conn, row_id)["delivered_at"] == T0
        assert pending(conn) == {"waiting": 0, "delivered": 1, "dead": 0}
    assert receiver.keys() == [str(row_id)]
    got = receiver.requests[0]
    assert got["headers"]["Authorization"] == "Bearer tok"
    ts = got["headers"]["X-Brightwatch-Timestamp"]
    want = hmac.new(SECRET.encode(), ts.encode() + b"." + got["body"], hashlib.sha256)
    assert got["headers"]["X-Brightwatch-Signature"] == "sha256=" + want.hexdigest()
    assert json.loads(got["body"]) == envelope(1)


@pytest.mark.parametrize("receiver", [([500, 500, 200], 0.0)], indirect=True)
def test_two_server_errors_then_delivered_on_the_third_try(
    db_url: str, url: str, receiver: Receiver
) -> None:
    clock = Clock()
    with psycopg.connect(db_url, autocommit=True) as conn:
        row_id = enqueue(conn, "kitchens", envelope(1), T0)
        pusher = Pusher(settings(url), clock)
        assert pusher.step(conn) == 0
        assert row(conn, row_id)["attempts"] == 1
        assert pusher.step(conn) == 0  # backing off: not due yet, not sent
        assert len(receiver.requests) == 1
        clock.now += timedelta(seconds=30)
        assert pusher.step(conn) == 0
        clock.now += timedelta(seconds=59)  # the second delay is 60 s
        assert pusher.step(conn) == 0
        assert len(receiver.requests) == 2
        clock.now += timedelta(seconds=1)
        assert pusher.step(conn) == 1
        pusher.close()
        got = row(conn, row_id)
    assert got["attempts"] == 3 and got["delivered_at"] == clock.now and got["dead_at"] is None
    assert receiver.keys() == [str(row_id)] * 3


@pytest.mark.parametrize(
    ("receiver", "sent", "reason"),
    [
        (([400], 0.0), 1, "HTTP 400"),  # a refusal: retrying cannot change it
        (([503], 0.0), 4, "gave up after 4 attempts"),
    ],
    indirect=["receiver"],
)
def test_dead_letter_on_refusal_or_after_the_attempts(
    db_url: str, url: str, receiver: Receiver, sent: int, reason: str
) -> None:
    clock = Clock()
    with psycopg.connect(db_url, autocommit=True) as conn:
        row_id = enqueue(conn, "elevators", {**envelope(1), "format": "x/1"}, T0)
        pusher = Pusher(settings(url), clock)
        for _ in range(10):
            pusher.step(conn)
            clock.now += timedelta(hours=1)
        pusher.close()
        got = row(conn, row_id)
        assert pending(conn)["dead"] == 1
    assert len(receiver.requests) == sent
    assert got["attempts"] == sent and got["delivered_at"] is None
    assert got["dead_at"] is not None and reason in got["dead_reason"]


@pytest.mark.parametrize("receiver", [([200], 0.02)], indirect=True)
def test_two_concurrent_pushers_never_send_a_row_twice(
    db_url: str, url: str, receiver: Receiver
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        ids = [enqueue(conn, "kitchens", envelope(i), T0) for i in range(30)]
    delivered: list[int] = []
    start = threading.Barrier(2, timeout=10)

    def replica() -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            pusher = Pusher(settings(url, batch=100), Clock())
            start.wait()
            delivered.append(pusher.step(conn))
            pusher.close()

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert sorted(receiver.keys(), key=int) == [str(i) for i in ids]  # each exactly once
    assert sum(delivered) == 30 and min(delivered) > 0  # both replicas took part


def test_enqueue_and_push_commands_with_a_supplied_code_table(
    settings: Settings, url: str, receiver: Receiver, tmp_path: Path
) -> None:
    """The real table replaces the guessed one by a file (here: UCM is 'X05' upstream)."""
    _fire(settings, "E1", "UCM", "P1", T0)
    table = tmp_path / "gb2017-real.toml"
    table.write_text('name = "gb2017"\n[codes]\nUCM = "X05"\n')
    env = {
        "BW_DATABASE_URL": settings.database_url.get_secret_value(),
        "BW_ALERTS__UPSTREAM__URL": url,
        "BW_ALERTS__UPSTREAM__MAPPING_FILE": str(table),
    }
    window = ("--since", "2026-11-20", "--until", "2026-11-21")
    r = bw("upstream", "enqueue", *window, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("queued") == 2
    r = bw("upstream", "push", "--once", env=env)
    assert r.returncode == 0, r.stderr
    assert "waiting 0, delivered 2, dead 0" in r.stdout
    bodies = {json.loads(x["body"])["format"]: json.loads(x["body"]) for x in receiver.requests}
    assert sorted(bodies) == ["brightwatch.elevators/1", "brightwatch.kitchens/1"]
    elevators = bodies["brightwatch.elevators/1"]
    assert [(i["code"], i["upstream_code"]) for i in elevators["items"]] == [("UCM", "X05")]
    assert elevators["window"]["since"] == "2026-11-20T00:00:00+00:00"
    assert sorted(receiver.keys()) == ["1", "2"]
    r = bw("upstream", "push", "--once", env=env)  # nothing left: nothing sent again
    assert r.returncode == 0 and len(receiver.requests) == 2
