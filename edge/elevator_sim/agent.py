"""The simulated terminals at work: cars in (scaled) real time, spool, MQTT links.

`ElevatorAgent` runs N cars from `model.Car` against a clock (`speed` × wall time, so a
test can live a day in minutes), writes every message to the SQLite spool and lets the
forwarder publish it. Messages are published with QoS 1 on the topics of interfaces.md;
availability `online` is retained at boot and `offline` is each terminal's will (one
connection per terminal) or, for pooled connections, published on a clean stop.

With `--scenario`, car 0 takes the scenario's car and faults; the ground truth (marks,
expected alerts with their times) is logged and, with `truth_path`, written as JSON lines
for tools that check the service against it.
"""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from brightwatch.contract.topics import elevator_topic
from brightwatch.edge.elevator_sim.model import Car, CarSpec, Outgoing, fleet_spec
from brightwatch.edge.elevator_sim.scenarios import Scenario, expected_alerts
from brightwatch.edge.forwarder import Forwarder, Link, client_id
from brightwatch.edge.spool import Spool
from brightwatch.mqttlink.client import BrokerAddress

log = logging.getLogger(__name__)

DEFAULT_ID_PREFIX = "3101090000"  # ids look like 20-character registration codes


@dataclass
class AgentConfig:
    count: int
    topic_root: str = "bw"
    data_dir: Path = Path(".")
    id_prefix: str = DEFAULT_ID_PREFIX
    seed: int = 0
    speed: float = 1.0
    connections: int | None = None  # default: one per terminal up to 64, then 64 pooled
    scenario: Scenario | None = None
    duration_s: float | None = None  # simulated seconds, then stop (None: until stopped)
    spool_capacity: int = 1_000_000
    truth_path: Path | None = None
    start_ms: int | None = None  # device time of the start (default: now)

    def elevator_id(self, i: int) -> str:
        width = max(20 - len(self.id_prefix), len(str(self.count - 1)), 1)
        return f"{self.id_prefix}{i:0{width}d}"


@dataclass
class Fleet:
    """Many cars advanced together; only the cars with something to say are touched."""

    cars: list[Car]
    _heap: list[tuple[float, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._heap = [(car.next_time, i) for i, car in enumerate(self.cars)]
        heapq.heapify(self._heap)

    def advance(self, until: float) -> list[tuple[int, Outgoing]]:
        out: list[tuple[int, Outgoing]] = []
        heap = self._heap
        while heap and heap[0][0] <= until:
            _, i = heapq.heappop(heap)
            car = self.cars[i]
            out += [(i, m) for m in car.advance(until)]
            heapq.heappush(heap, (car.next_time, i))
        return out

    @property
    def next_time(self) -> float:
        return self._heap[0][0] if self._heap else float("inf")


class ElevatorAgent:
    def __init__(
        self,
        config: AgentConfig,
        broker: BrokerAddress,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if config.count < 1:
            raise ValueError("count must be at least 1")
        self.config = config
        self.broker = broker
        self.monotonic = monotonic
        start_ms = config.start_ms if config.start_ms is not None else round(time.time() * 1000)
        self.start_ms = start_ms
        self.ids = [config.elevator_id(i) for i in range(config.count)]
        cars = []
        for i, eid in enumerate(self.ids):
            scn = config.scenario
            if i == 0 and scn is not None:
                spec = CarSpec(elevator_id=eid, **scn.car)
                cars.append(Car(spec, scn.seed + config.seed, start_ms, scn.make_faults()))
            else:
                cars.append(Car(fleet_spec(eid, i, config.seed), config.seed * 7919 + i, start_ms))
        self.fleet = Fleet(cars)
        n_links = config.connections or (config.count if config.count <= 64 else 64)
        n_links = max(1, min(n_links, config.count))
        self.lane_of = [i % n_links for i in range(config.count)]
        spool_path = Path(config.data_dir) / "spool" / f"elevator-sim-{config.id_prefix}.sqlite"
        self.spool = Spool(spool_path, config.spool_capacity)
        prefix = f"sim-{config.id_prefix}"
        self.links = []
        for lane in range(n_links):
            alone = n_links == config.count
            will = (self._topic(lane, "availability"), b"offline") if alone else None
            self.links.append(Link(broker, client_id(prefix, lane), lane, will))
        self.forwarder = Forwarder(self.spool, self.links)
        self.messages = 0
        self._marks_seen: set[str] = set()
        self._expect_seen: set[int] = set()

    def _topic(self, car: int, channel: str) -> str:
        return elevator_topic(self.config.topic_root, self.ids[car], channel)

    @property
    def pooled(self) -> bool:
        return len(self.links) < self.config.count

    # -- the loop

    def sim_time(self, t0: float) -> float:
        return (self.monotonic() - t0) * self.config.speed

    def step(self, until: float) -> int:
        """Advance the cars to simulated time `until` and spool what they said."""
        out = self.fleet.advance(until)
        rows = []
        for i, m in out:
            body = (
                m.payload.encode() if isinstance(m.payload, str) else msgspec.json.encode(m.payload)
            )
            rows.append((self.lane_of[i], self._topic(i, m.channel), body, 1, m.retain))
        self.spool.append(rows)
        self.messages += len(rows)
        if rows:
            self.forwarder.notify()
        self._ground_truth()
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        cfg = self.config
        log.info(
            "%d simulated elevator(s) %s..%s at %gx real time on %d connection(s)%s",
            cfg.count,
            self.ids[0],
            self.ids[-1],
            cfg.speed,
            len(self.links),
            f", scenario {cfg.scenario.name} on {self.ids[0]}" if cfg.scenario else "",
        )
        for link in self.links:
            link.start()
        pump = threading.Thread(target=self.forwarder.run, args=(stop,), name="sim-forwarder")
        pump.start()
        t0 = self.monotonic()
        try:
            while not stop.is_set():
                now = self.sim_time(t0)
                if cfg.duration_s is not None and now >= cfg.duration_s:
                    self.step(cfg.duration_s)
                    break
                self.step(now)
                wait = (self.fleet.next_time - self.sim_time(t0)) / cfg.speed
                stop.wait(min(max(wait, 0.005), 0.2))
        finally:
            self.shutdown(stop, pump)

    def shutdown(self, stop: threading.Event, pump: threading.Thread) -> None:
        # terminals that stop cleanly say so (a clean disconnect does not fire the will)
        now_ms = round(time.time() * 1000)
        self.spool.append(
            (self.lane_of[i], self._topic(i, "availability"), b"offline", 1, True)
            for i in range(self.config.count)
        )
        stop.set()
        pump.join()
        drained = self.forwarder.drain(timeout=10.0)
        for link in self.links:
            link.close()
        left = len(self.spool)
        self.spool.close()
        log.info(
            "stopped after %d messages at %s; %s",
            self.messages,
            datetime.fromtimestamp(now_ms / 1000, UTC).isoformat(timespec="seconds"),
            "spool empty" if drained else f"{left} message(s) kept in the spool for next time",
        )

    # -- ground truth of a scenario

    def _ground_truth(self) -> None:
        scn = self.config.scenario
        if scn is None:
            return
        car = self.fleet.cars[0]
        for name, t in car.marks.items():
            if name not in self._marks_seen:
                self._marks_seen.add(name)
                self._truth({"elevator": self.ids[0], "mark": name, "ts": self._ms(t)})
                log.info("ground truth: %s %s at +%.1f s", self.ids[0], name, t)
        for k, spec in enumerate(scn.expect):
            needed = [m for m in (spec.mark, spec.started_mark) if m]
            if k in self._expect_seen or not all(m in car.marks for m in needed):
                continue
            self._expect_seen.add(k)
            if spec.clear_mark not in car.marks:
                spec = replace(spec, clear_mark=None)  # announced before it clears
            (e,) = expected_alerts(replace(scn, expect=[spec]), car.marks)
            entry: dict[str, Any] = {
                "elevator": self.ids[0],
                "expect": e.code,
                "severity": e.severity,
                "raise_ts": self._ms(e.raise_at),
                "started_ts": self._ms(e.started) if e.started is not None else None,
                "within_s": e.within,
            }
            if e.clear is not None:
                entry["clear_ts"] = self._ms(e.clear)
            self._truth(entry)
            log.info("expected: %s %s (%s) at +%.1f s", self.ids[0], e.code, e.severity, e.raise_at)

    def _ms(self, t: float) -> int:
        return self.start_ms + round(t * 1000)

    def _truth(self, entry: dict[str, Any]) -> None:
        if self.config.truth_path is None:
            return
        with self.config.truth_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
