"""An alert storm against a rate-limited group robot: throttled per robot, batched into
fewer messages, nothing lost, and the vendor's own "too fast" answer is survived."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from brightwatch.alerts.channels import ChannelContext, DeliveryDeferred
from brightwatch.alerts.channels.settings import ChannelSettings
from brightwatch.alerts.channels.throttle import RateGate, RobotThrottle
from brightwatch.alerts.delivery import Backoff, DeliveryWorker, enqueue
from tests.alerts.notify_support import Clock
from tests.alerts.test_channel_vendors import Receiver, channel, notification


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def robot() -> Iterator[tuple[Receiver, list[str]]]:
    contents: list[str] = []
    calls = {"n": 0}

    def check(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        calls["n"] += 1
        if calls["n"] == 3:  # the vendor counts differently once: "api freq out of limit"
            return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}
        contents.append(json.loads(body)["markdown"]["content"])
        return 200, {"errcode": 0, "errmsg": "ok"}

    r = Receiver(check)
    yield r, contents
    r.close()


def test_token_bucket_never_allows_more_than_the_limit_in_any_minute() -> None:
    clock = FakeClock()
    bucket = RobotThrottle(per_minute=20, burst=5, clock=clock)
    sent: list[float] = []
    for _ in range(600):  # ten minutes in steps of one second, always asking
        while bucket.take("r") == 0:
            sent.append(clock.now)
        clock.now += 1
    assert max(sum(1 for t in sent if s <= t < s + 60) for s in sent) <= 20
    assert len(sent) >= 150  # and the allowance is used: ~15 a minute after the burst
    assert bucket.take("other") == 0  # each robot has its own bucket


def test_a_storm_is_batched_and_nothing_is_lost(robot: tuple[Receiver, list[str]]) -> None:
    receiver, contents = robot
    ch = channel("wecom", base_url=receiver.url, robots={"ops": {"key": "k"}})
    clock = FakeClock()
    ch.gate = RateGate(per_minute=20, burst=5, clock=clock)
    storm = []
    for i in range(60):
        payload = ch.render(notification("en"))
        payload["lines"] = [f"alert number {i:02d}"]
        storm.append(payload)
    pending = list(range(60))
    sent_at: list[float] = []
    rounds = 0
    while pending and rounds < 200:  # the delivery worker's retries, on a fake clock
        rounds += 1
        for i in list(pending):
            before = len(receiver.seen)
            try:
                ch.send("ops", storm[i], None)
            except DeliveryDeferred as exc:
                assert exc.retry_after_s > 0
                continue
            finally:
                sent_at += [clock.now] * (len(receiver.seen) - before)
            pending.remove(i)
        clock.now += 2.0
    assert not pending, f"never delivered: {pending}"
    text = "\n".join(contents)
    assert all(f"alert number {i:02d}" in text for i in range(60))  # nothing lost
    assert len(contents) < 20  # batched: far fewer messages than notifications
    assert "held back by the robot's rate limit" in text
    assert max(sum(1 for t in sent_at if s <= t < s + 60) for s in sent_at) <= 20
    assert any(s["answer"].get("errcode") == 45009 for s in receiver.seen)


def test_the_delivery_worker_delivers_a_whole_storm(db_url: str) -> None:
    """Through the real delivery rows and worker: every delivery ends delivered."""
    contents: list[str] = []

    def check(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        contents.append(json.loads(body)["markdown"]["content"])
        return 200, {"errcode": 0, "errmsg": "ok"}

    receiver = Receiver(check)
    clock = Clock()
    settings = ChannelSettings(wecom={"base_url": receiver.url, "robots": {"ops": {"key": "k"}}})
    worker = DeliveryWorker(
        db_url,
        clock,
        # two attempts only: a delivery held back by the robot's rate limit (deferred) is
        # not a failed attempt, or most of this storm would end `failed`
        Backoff(base_s=3, max_s=30, max_attempts=2),
        context=ChannelContext(settings, None, "test-storm"),
    )
    ch, _ = worker._channel("wecom")
    ch.gate = RateGate(per_minute=20, burst=5, clock=lambda: clock.now.timestamp())  # type: ignore[attr-defined]
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            ids = []
            for i in range(40):
                payload = ch.render(notification("zh-CN"))  # type: ignore[attr-defined]
                payload["lines"] = [f"storm alert {i:02d}"]
                ids.append(enqueue(conn, "wecom", "ops", payload, at=clock.now))
            per_step: list[tuple[float, int]] = []
            for _ in range(120):
                before = len(contents)
                worker.step(conn)
                worker.drain(conn, timeout=10)
                per_step.append((clock.now.timestamp(), len(contents) - before))
                states = conn.execute(
                    "SELECT count(*) FILTER (WHERE state = 'delivered') FROM delivery"
                    " WHERE id = ANY(%s)",
                    (ids,),
                ).fetchone()
                if states is not None and states[0] == len(ids):
                    break
                clock.advance(seconds=3)
            assert states is not None and states[0] == len(ids), "deliveries left pending"
    finally:
        receiver.close()
    text = "\n".join(contents)
    assert all(f"storm alert {i:02d}" in text for i in range(40))
    assert len(contents) < 40
    starts = [t for t, n in per_step if n]
    window = max(sum(n for t, n in per_step if s <= t < s + 60) for s in starts)
    assert window <= 20
