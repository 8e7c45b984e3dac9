"""Fixtures of the ingest tests: the ingest component running against the test's
database and broker, and status payloads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

from brightwatch.components.ingest import run as run_ingest
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from tests.support.waiting import wait_until


def status(seq: int, ts_ms: int, **fields: Any) -> bytes:
    return msgspec.json.encode(status_doc(seq, ts_ms, **fields))


def status_doc(seq: int, ts_ms: int, **fields: Any) -> dict[str, Any]:
    """A valid elevator status (interfaces.md), stopped at floor 3, doors closed."""
    doc: dict[str, Any] = {
        "ts": ts_ms,
        "seq": seq,
        "service_mode": "normal",
        "run_state": "stopped",
        "direction": "none",
        "floor": 3,
        "door_zone": True,
        "door_state": "closed",
        "has_person": False,
        "speed": 0.0,
    }
    doc.update(fields)
    return doc


def now_ms() -> int:
    return int(time.time() * 1000)


@contextmanager
def ingest_running(settings: Settings) -> Iterator[dict[str, Any]]:
    """The ingest component in a thread until the block ends; yields the runtime's health."""
    runtime = build_runtime(settings)
    stop = threading.Event()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            run_ingest(runtime, stop)
        except BaseException as exc:  # surfaced by the test
            failure.append(exc)

    t = threading.Thread(target=target, name="test-ingest", daemon=True)
    t.start()
    wait_until(
        lambda: "mqtt-ingest" in runtime.health and runtime.health["mqtt-ingest"](),
        timeout=15,
        what="ingest connected",
    )
    try:
        yield runtime.health  # type: ignore[misc]
    finally:
        stop.set()
        t.join(20)
    assert not failure, f"ingest failed: {failure[0]!r}"
    assert not t.is_alive(), "ingest did not stop"
