"""Progress of the loops a process runs, and when a loop counts as stuck.

Every loop that works in batches (the MQTT consumers of ingest, the rules and the vision
worker; the alerts component's outbox relay, delivery worker and clocks; the tickers)
registers a progress source in `Runtime.progress`: a callable returning a `Progress`
(when the last good batch went through, what is waiting, how many tries in a row
failed). `Watch` judges them over time:

- failing: batches have failed with no good one in between for `failing_after_s`
  (a batch the database refuses, retried with backoff, never gets through);
- stalled: messages are waiting and no good batch came for `stalled_after_s`
  (a handler hanging on a lock; a loop that stopped taking work).

A loop that is idle with nothing waiting is healthy however old its last batch is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

COUNTERS = ("batches", "failures", "retries", "dead_lettered")


@dataclass(frozen=True, slots=True)
class Progress:
    last_good_at: float | None = None  # time.time() of the last good batch or pass
    backlog: int = 0  # work received and not yet done
    consecutive_failures: int = 0  # since the last good batch
    failing_since: float | None = None  # first failure since the last good batch, if known
    counters: Mapping[str, int] = field(default_factory=dict)


ProgressSource = Callable[[], Progress]


def loop_progress(loop: Any) -> ProgressSource:
    """The progress of an object that keeps the figures of mqttlink's BatchLoop:
    `last_commit_at`, `backlog`, `consecutive_failures`, `failing_since` and the
    counters (every MQTT consumer; alerts.delivery.DeliveryWorker)."""

    def read() -> Progress:
        return Progress(
            last_good_at=getattr(loop, "last_commit_at", None),
            backlog=int(getattr(loop, "backlog", 0) or 0),
            consecutive_failures=int(getattr(loop, "consecutive_failures", 0) or 0),
            failing_since=getattr(loop, "failing_since", None),
            counters={k: int(getattr(loop, k)) for k in COUNTERS if hasattr(loop, k)},
        )

    return read


class Beat:
    """Progress kept by a loop the shell drives itself: `good()` after each pass that
    worked, `failed()` after each that did not. `failures`, when given, counts failures
    the loop handles on its own (a reconnect loop), added to the ones reported here."""

    def __init__(self, failures: Callable[[], int] | None = None) -> None:
        self._lock = threading.Lock()
        self._external = failures or (lambda: 0)
        self._external_at_good = self._external()
        self.last_good_at: float | None = None
        self.passes = 0
        self.own_failures = 0
        self.consecutive = 0
        self.failing_since: float | None = None

    def good(self) -> None:
        with self._lock:
            self.last_good_at = time.time()
            self.passes += 1
            self.consecutive = 0
            self.failing_since = None
            self._external_at_good = self._external()

    def failed(self) -> None:
        with self._lock:
            self.own_failures += 1
            self.consecutive += 1
            if self.failing_since is None:
                self.failing_since = time.time()

    def __call__(self) -> Progress:
        with self._lock:
            external = self._external() - self._external_at_good
            consecutive = self.consecutive + external
            if consecutive and self.failing_since is None:
                self.failing_since = time.time()  # first seen: the loop failed on its own
            return Progress(
                last_good_at=self.last_good_at,
                consecutive_failures=consecutive,
                failing_since=self.failing_since if consecutive else None,
                counters={
                    "batches": self.passes,
                    "failures": self.own_failures + self._external(),
                },
            )


@dataclass(frozen=True, slots=True)
class Verdict:
    name: str
    stuck: bool
    reason: str | None
    progress: Progress


class Watch:
    """Judges progress records as they are read, remembering since when each source has
    had work waiting (or failures) without a good batch. Thread-safe."""

    def __init__(self, failing_after_s: float, stalled_after_s: float) -> None:
        self.failing_after_s = failing_after_s
        self.stalled_after_s = stalled_after_s
        self._lock = threading.Lock()
        self._failing: dict[str, float] = {}  # name -> first seen failing
        self._waiting: dict[str, float] = {}  # name -> first seen with a backlog

    def judge(self, name: str, p: Progress, now: float | None = None) -> Verdict:
        now = time.time() if now is None else now
        good = p.last_good_at if p.last_good_at is not None else float("-inf")
        with self._lock:
            failing = _since(self._failing, name, p.consecutive_failures > 0, good, now)
            waiting = _since(self._waiting, name, p.backlog > 0, good, now)
        if failing is not None:
            if p.failing_since is not None:
                failing = p.failing_since
            if now - failing >= self.failing_after_s:
                return Verdict(
                    name,
                    True,
                    f"failing for {now - failing:.0f} s"
                    f" ({p.consecutive_failures} consecutive failures)",
                    p,
                )
        if waiting is not None and now - waiting >= self.stalled_after_s:
            return Verdict(
                name,
                True,
                f"{p.backlog} waiting, no good batch for {now - waiting:.0f} s",
                p,
            )
        return Verdict(name, False, None, p)


def _since(
    seen: dict[str, float], name: str, condition: bool, last_good: float, now: float
) -> float | None:
    """Since when `condition` has held with no good batch in between (None: it does not)."""
    if not condition:
        seen.pop(name, None)
        return None
    first = seen.get(name)
    if first is None or last_good > first:
        # newly seen, or a good batch came since: count from then
        first = now if first is None else min(now, last_good)
        seen[name] = first
    return first
