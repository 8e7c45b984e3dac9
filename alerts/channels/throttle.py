"""Rate limits of group robots, and batching of a storm instead of dropping it.

WeCom and DingTalk robots take about 20 messages a minute (DingTalk then mutes the robot
for 10 minutes), Feishu 100 a minute and 5 a second. `RobotThrottle` keeps one token
bucket per target sized so that no window of 60 s holds more than `per_minute` messages: a
burst of `burst`, then `per_minute - burst` spread over the minute.

A message that finds no token is *parked* (`Storm.park`) and the channel raises
`DeliveryDeferred`: its delivery row stays pending. The next message that gets a token
carries every parked message of that target (as many as fit) in one combined message;
when the parked deliveries come back from the delivery worker they are found in the
*sent* memory and complete without sending again. Nothing is lost: a delivery is marked
delivered only after a message holding it was accepted; after a restart the memory is
empty and a parked delivery is simply sent again (at least once, never zero times).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def payload_ref(payload: dict[str, Any]) -> str:
    """A delivery's identity: its `ref` (set when rendered), else a digest of the payload."""
    ref = payload.get("ref")
    if isinstance(ref, str) and ref:
        return ref
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(raw).hexdigest()[:24]


@dataclass
class _Bucket:
    tokens: float
    at: float


class RobotThrottle:
    """One token bucket per target; `take` answers 0 (go) or the seconds to wait."""

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = float(max(1, min(burst, per_minute)))
        self.rate_s = max(per_minute - self.capacity, 1.0) / 60.0
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str) -> _Bucket:
        now = self.clock()
        b = self._buckets.setdefault(key, _Bucket(self.capacity, now))
        b.tokens = min(self.capacity, b.tokens + (now - b.at) * self.rate_s)
        b.at = now
        return b

    def take(self, key: str) -> float:
        b = self._bucket(key)
        if b.tokens >= 1.0:
            b.tokens -= 1.0
            return 0.0
        return (1.0 - b.tokens) / self.rate_s

    def exhaust(self, key: str) -> None:
        """The vendor said "too fast": spend what is left (our count was optimistic)."""
        self._bucket(key).tokens = 0.0


@dataclass
class Storm:
    """Parked messages per target and the refs already sent inside a batch."""

    remember: int = 10_000
    parked: dict[str, OrderedDict[str, dict[str, Any]]] = field(default_factory=dict)
    sent: OrderedDict[tuple[str, str], None] = field(default_factory=OrderedDict)

    def was_sent(self, key: str, ref: str) -> bool:
        return (key, ref) in self.sent

    def park(self, key: str, ref: str, payload: dict[str, Any]) -> None:
        self.parked.setdefault(key, OrderedDict())[ref] = payload

    def take(
        self, key: str, own_ref: str, fits: Callable[[list[dict[str, Any]]], bool]
    ) -> list[tuple[str, dict[str, Any]]]:
        """Parked messages (oldest first) to ride with `own_ref`, while `fits` holds."""
        waiting = self.parked.get(key, OrderedDict())
        waiting.pop(own_ref, None)
        chosen: list[tuple[str, dict[str, Any]]] = []
        for ref, payload in list(waiting.items()):
            if not fits([p for _, p in chosen] + [payload]):
                break
            chosen.append((ref, waiting.pop(ref)))
        return chosen

    def put_back(self, key: str, batch: list[tuple[str, dict[str, Any]]]) -> None:
        for ref, payload in batch:
            self.park(key, ref, payload)

    def mark_sent(self, key: str, refs: list[str]) -> None:
        for ref in refs:
            self.sent[(key, ref)] = None
        while len(self.sent) > self.remember:
            self.sent.popitem(last=False)


class RateGate:
    """The throttle and the storm of one channel, behind one lock (threads share them)."""

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic):
        self.throttle = RobotThrottle(per_minute, burst, clock)
        self.storm = Storm()
        self.lock = threading.Lock()
