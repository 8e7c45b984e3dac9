"""A simulated elevator car and its monitoring terminal: pure, seeded, event-driven.

The car serves passenger calls that arrive by a day/night profile (morning and evening
peaks in a residential building), with real trip dynamics (acceleration, rated speed,
floor crossings, door-zone entry), door cycles (with the odd re-opening when someone
blocks the door), a person sensor and a load cell, idle periods and cumulative counters.
The terminal reports what interfaces.md asks: a status sample on every change of state,
every 5 s while running and every 60 s while idle; controller events; stats counters;
`online` availability (retained) at boot. `seq` grows by one per JSON message and
restarts at 0 when the terminal reboots.

Nothing here reads a clock or does I/O: `advance(until)` returns the messages stamped up
to `until` (seconds since the car's start), so the same car runs faster than real time
in tests and at wall-clock pace in `brightwatch edge elevator-sim`. Faults from
`edge.elevator_sim.faults` take over the car at the moment they need (a run with a
passenger, doors open at a landing, an idle car) and record ground-truth marks.

May import: the standard library only.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

from brightwatch.edge.elevator_sim.motion import Motion

# The car's life is a generator that yields the time (s since start) to resume at.
Process = Generator[float, None, None]

# residential building: calls per hour per car by local hour (morning and evening peaks)
HOURLY_CALLS = (
    3, 2, 1, 1, 1, 3, 12, 40, 45, 22, 18, 20, 28, 24, 18, 18, 22, 38, 44, 34, 26, 20, 12, 6,
)  # fmt: skip


@dataclass(frozen=True)
class CarSpec:
    elevator_id: str
    floor_min: int = -1
    floor_max: int = 17
    lobby: int = 1
    rated_speed: float = 1.75  # m/s
    acceleration: float = 0.8  # m/s²
    floor_height: float = 3.0  # m
    zone_half_m: float = 0.1  # half height of the unlocking zone
    door_open_s: float = 2.5
    door_close_s: float = 3.0
    rated_load_kg: float = 1000.0
    traffic: float = 1.0  # scales the call rate
    utc_offset_h: float = 8.0  # local time of the building (China Standard Time)
    running_report_s: float = 5.0
    idle_report_s: float = 60.0
    stats_report_s: float = 600.0

    def thresholds(self) -> dict[str, Any]:
        """What the rules must know about this car (the registry row)."""
        return {
            "floor_min": self.floor_min,
            "floor_max": self.floor_max,
            "rated_speed_m_s": self.rated_speed,
            "floor_height_m": self.floor_height,
            "acceleration_m_s2": self.acceleration,
        }


@dataclass(frozen=True)
class Outgoing:
    """One message of the terminal."""

    ts: int  # epoch ms
    channel: str  # status | event | stats | availability
    payload: dict[str, Any] | str
    retain: bool = False
    # the broker's will on an unclean disconnect (a pooled publisher sends it itself)
    will: bool = False


@dataclass
class Call:
    origin: int
    dest: int
    persons: int


@dataclass
class Fault:
    """A fault to inject: `kind` (a key of faults.FAULTS), earliest time, parameters."""

    kind: str
    at_s: float
    params: dict[str, Any] = field(default_factory=dict)
    started: bool = False


FaultRun = Callable[["Car", Fault, dict[str, Any]], Process]


class Car:
    def __init__(
        self,
        spec: CarSpec,
        seed: int,
        start_ms: int,
        faults: Iterable[Fault] = (),
        fault_table: dict[str, tuple[str, Callable[..., bool], FaultRun]] | None = None,
    ) -> None:
        self.spec = spec
        self.rng = random.Random(seed)
        self.start_ms = start_ms
        self.t = 0.0
        self.seq = 0
        self.out: list[Outgoing] = []
        self.marks: dict[str, float] = {}
        self.faults = list(faults)
        if fault_table is None:
            from brightwatch.edge.elevator_sim.faults import FAULTS

            fault_table = FAULTS
        self.fault_table = fault_table
        # the car
        self.x = self.landing_x(spec.lobby)
        self.motion: Motion | None = None
        self.speed = 0.0
        self.run_state = "stopped"
        self.direction = "none"
        self.door = "closed"
        self.mode = "normal"
        self.persons = 0
        self.power = "mains"
        self.battery = 100.0
        self.safety = "closed"
        self.alarm = False
        self.up_limit = False
        self.down_limit = False
        # sensor readings a fault may falsify
        self.floor_override: int | None = None
        self.speed_override: float | None = None
        # the terminal
        self.silent = False  # a hung or unplugged terminal sends nothing
        self.last_emit_t = 0.0
        self.arrived_at = -math.inf  # end of the last run
        self.door_left_closed_at = 0.0
        self.calls: list[Call] = []
        self.run_count = self.rng.randrange(50_000, 900_000)
        self.run_hours = round(self.run_count * 0.011, 1)
        self.door_cycles = self.run_count * 2 + self.rng.randrange(0, 10_000)
        self.distance_km = round(self.run_count * 0.02, 1)
        self._last_snapshot: tuple[Any, ...] | None = None
        self._last_status_t = 0.0
        self._next_stats = math.inf  # the boot sends the first counters
        self._next_arrival = self._draw_arrival(0.0)
        self._process = self._life()
        self._wake = 0.0

    # ------------------------------------------------------------ running the car

    def advance(self, until: float) -> list[Outgoing]:
        """Run the car up to `until` (s since start); the messages stamped meanwhile."""
        while True:
            next_report = self._last_status_t + (
                self.spec.running_report_s
                if self.run_state == "running"
                else self.spec.idle_report_s
            )
            t = min(self._wake, next_report, self._next_stats)
            if t > until:
                break
            self.t = max(self.t, t)
            if t == self._wake:
                self._wake = max(next(self._process), self.t)
            elif t == self._next_stats:
                self._emit_stats()
            else:
                self.report(force=True)
        self.t = max(self.t, until)
        out, self.out = self.out, []
        return out

    @property
    def next_time(self) -> float:
        """When the car next has something to say (for a scheduler of many cars)."""
        next_report = self._last_status_t + (
            self.spec.running_report_s if self.run_state == "running" else self.spec.idle_report_s
        )
        return min(self._wake, next_report, self._next_stats)

    def mark(self, name: str, t: float | None = None) -> None:
        """Ground truth: when something a rule must see happened."""
        self.marks.setdefault(name, self.t if t is None else t)

    # ------------------------------------------------------------ geometry

    def landing_x(self, floor: int) -> float:
        return (floor - self.spec.floor_min) * self.spec.floor_height

    def floor_of(self, x: float) -> int:
        return self.spec.floor_min + round(x / self.spec.floor_height)

    def in_zone(self, x: float) -> bool:
        return abs(x - self.landing_x(self.floor_of(x))) <= self.spec.zone_half_m

    @property
    def floor(self) -> int:
        return self.floor_of(self.x)

    def sync(self) -> None:
        if self.motion is not None:
            self.x, self.speed = self.motion.at(self.t)

    # ------------------------------------------------------------ messages

    def _emit(self, channel: str, payload: dict[str, Any] | str, retain: bool = False) -> None:
        if self.silent:
            return
        ts = self.start_ms + round(self.t * 1000)
        if isinstance(payload, dict):
            payload = {"ts": ts, "seq": self.seq, **payload}
            self.seq += 1
        self.last_emit_t = self.t
        self.out.append(Outgoing(ts, channel, payload, retain))

    def _snapshot(self) -> tuple[Any, ...]:
        zone = self.in_zone(self.x) if self.run_state == "stopped" else None
        return (
            self.mode,
            self.run_state,
            self.direction,
            self.floor_override if self.floor_override is not None else self.floor,
            zone,
            self.door,
            self.persons > 0,
            self.power,
            self.safety,
            self.alarm,
            self.up_limit,
            self.down_limit,
            self.speed_override,
        )

    def status(self) -> dict[str, Any]:
        self.sync()
        speed = self.speed if self.speed_override is None else self.speed_override
        running = self.run_state == "running" or speed > 0.05
        load = self.persons * 75.0 / self.spec.rated_load_kg * 100
        return {
            "service_mode": self.mode,
            "run_state": self.run_state,
            "direction": self.direction,
            "floor": self.floor_override if self.floor_override is not None else self.floor,
            "door_zone": self.in_zone(self.x),
            "door_state": self.door,
            "has_person": self.persons > 0,
            "speed": round(speed, 3),
            "load_pct": round(min(load, 150.0), 1),
            "power_source": self.power,
            "battery_pct": round(self.battery, 1),
            "safety_circuit": self.safety,
            "alarm_button": self.alarm,
            "up_limit": self.up_limit,
            "down_limit": self.down_limit,
            "car_door_locked": self.door == "closed",
            "landing_door_locked": self.door == "closed",
            "vibration_rms": round(
                (0.12 + 0.04 * self.rng.random()) if running else 0.01 + 0.01 * self.rng.random(),
                3,
            ),
        }

    def report(self, force: bool = False) -> None:
        """A status sample if anything the terminal watches changed (or when forced)."""
        self.sync()
        snap = self._snapshot()
        if not force and snap == self._last_snapshot:
            return
        self._last_snapshot = snap
        self._last_status_t = self.t
        self._emit("status", self.status())

    def event(self, code: str, state: str, detail: str | None = None) -> None:
        payload: dict[str, Any] = {"code": code, "state": state}
        if detail:
            payload["detail"] = detail
        self._emit("event", payload)

    def _emit_stats(self) -> None:
        self._next_stats = self.t + self.spec.stats_report_s
        self._emit(
            "stats",
            {
                "run_count": self.run_count,
                "run_hours": round(self.run_hours, 3),
                "door_cycles": self.door_cycles,
                "distance_km": round(self.distance_km, 3),
            },
        )

    def availability(self, online: bool, will: bool = False) -> None:
        if self.silent and not will:
            return
        ts = self.start_ms + round(self.t * 1000)
        self.out.append(Outgoing(ts, "availability", "online" if online else "offline", True, will))

    def boot(self) -> None:
        """The terminal starts (or restarts): online, a full status, the counters."""
        self.silent = False
        self.seq = 0
        self.availability(True)
        self._last_snapshot = None
        self.report(force=True)
        self._emit_stats()

    # ------------------------------------------------------------ passengers

    def _rate_per_s(self, t: float) -> float:
        local_h = (self.start_ms / 3_600_000 + t / 3600 + self.spec.utc_offset_h) % 24
        return HOURLY_CALLS[int(local_h)] * self.spec.traffic / 3600

    def _draw_arrival(self, after: float) -> float:
        # non-homogeneous Poisson process by thinning against the peak rate
        peak = max(HOURLY_CALLS) * self.spec.traffic / 3600
        if peak <= 0:
            return math.inf
        t = after
        for _ in range(10_000):
            t += self.rng.expovariate(peak)
            if self.rng.random() * peak <= self._rate_per_s(t):
                return t
        return math.inf

    def _new_call(self) -> Call:
        s, r = self.spec, self.rng.random()
        floors = [f for f in range(s.floor_min, s.floor_max + 1) if f != s.lobby]
        if r < 0.45:
            origin, dest = s.lobby, self.rng.choice(floors)
        elif r < 0.9:
            origin, dest = self.rng.choice(floors), s.lobby
        else:
            origin, dest = self.rng.sample(floors, 2)
        persons = self.rng.choices((1, 2, 3, 4), (70, 18, 8, 4))[0]
        return Call(origin, dest, persons)

    def _collect_calls(self) -> None:
        while self._next_arrival <= self.t:
            self.calls.append(self._new_call())
            self._next_arrival = self._draw_arrival(self._next_arrival)

    # ------------------------------------------------------------ faults

    def fault_for(self, hook: str, **ctx: Any) -> Process | None:
        """A due fault that wants to take over at this hook, as a process."""
        for fault in self.faults:
            if fault.started or fault.at_s > self.t:
                continue
            want_hook, accepts, run = self.fault_table[fault.kind]
            if want_hook == hook and accepts(self, fault, ctx):
                fault.started = True
                return run(self, fault, ctx)
        return None

    def _next_fault_time(self) -> float:
        pending = [f.at_s for f in self.faults if not f.started and f.at_s > self.t]
        return min(pending, default=math.inf)

    # ------------------------------------------------------------ behaviour

    def _life(self) -> Process:
        self.boot()
        yield self.t
        while True:
            self._collect_calls()
            fault = self.fault_for("idle")
            if fault is not None:
                yield from fault
                continue
            if not self.calls:
                wake = min(self._next_arrival, self._next_fault_time(), self.t + 3600)
                # overdue faults waiting for another hook: look again soon
                yield max(wake, self.t + 0.001)
                continue
            yield from self.serve(self.calls.pop(0))

    def serve(self, call: Call) -> Process:
        # collective control: everyone waiting at the same landing boards together
        group = [call] + [c for c in self.calls if c.origin == call.origin]
        for c in group[1:]:
            self.calls.remove(c)
        if self.floor != call.origin or not self.in_zone(self.x):
            yield from self.trip(call.origin, purpose="pickup")
        yield from self.door_cycle(board=sum(c.persons for c in group))
        yield from self.wait_closed(call)
        for dest in sorted({c.dest for c in group}, key=lambda d: abs(d - call.origin)):
            yield from self.trip(dest, purpose="delivery")
            alight = sum(c.persons for c in group if c.dest == dest)
            yield from self.door_cycle(alight=min(alight, self.persons))

    def wait_closed(self, call: Call) -> Process:
        fault = self.fault_for("boarded", persons=self.persons, call=call)
        if fault is not None:
            yield from fault
        else:
            yield self.t + self.rng.uniform(0.3, 1.5)  # the passenger presses a floor button

    def trip(self, dest: int, purpose: str) -> Process:
        fault = self.fault_for("run", purpose=purpose, persons=self.persons, dest=dest)
        if fault is not None:
            yield from fault
            return
        yield from self.drive(dest)

    def drive(
        self,
        dest: int,
        speed: float | None = None,
        stop_after: float | None = None,
        actions: Iterable[tuple[float, Callable[[], None]]] = (),
        overshoot_m: float = 0.0,
    ) -> Process:
        """Run to the landing of `dest`; `stop_after` (s) makes it an emergency stop.

        `actions` are (seconds after the start, function) pairs applied on the way,
        each followed by a status sample (a fault opening the door mid-run, say).
        """
        x1 = self.landing_x(dest)
        if overshoot_m:
            x1 += overshoot_m if x1 >= self.x else -overshoot_m
        if abs(x1 - self.x) < 1e-6:
            return
        s = self.spec
        m = Motion(self.t, self.x, x1, speed or s.rated_speed, s.acceleration)
        self.motion = m
        self.run_state = "running"
        self.direction = "up" if x1 > self.x else "down"
        self.run_count += 1
        started = self.t
        self.report()
        points: list[tuple[float, Callable[[], None] | None]] = []
        h = s.floor_height
        # leaving the zone (the first sample under way), each mid-point between landings
        # (the floor reading changes), entering the zone at the end
        points.append((m.time_at(s.zone_half_m + 0.01), self._zone_change))
        # mid-points lie at (k + 0.5) h: the first one beyond the car in its direction
        if m.sign > 0:
            mid = (math.floor(self.x / h - 0.5) + 1.5) * h
        else:
            mid = (math.ceil(self.x / h - 0.5) - 0.5) * h
        while (mid - self.x) * m.sign < m.distance and (mid - self.x) * m.sign > 0:
            points.append((m.time_at(abs(mid - self.x)) + 0.001, None))
            mid += m.sign * h
        points.append((m.time_at(m.distance - s.zone_half_m + 0.01), self._zone_change))
        points += [(m.t_start + dt, fn) for dt, fn in actions]
        points.sort(key=lambda p: p[0])
        stop_at = m.t_start + stop_after if stop_after is not None else None
        for when, fn in points:
            if stop_at is not None and when >= stop_at:
                break
            yield when
            if fn is not None:
                fn()
                self.report(force=True)
            else:
                self.report()
        if stop_at is not None:
            yield stop_at
            self.sync()
            self.report(force=True)
            v = self.speed
            self.motion = None
            self.speed = v
            yield self.t + 0.5  # emergency stop: about 2 m/s² of deceleration
            self.x += m.sign * v * 0.25
            self.speed = 0.0
        else:
            yield m.t_end
            self.x = x1
            self.motion = None
            self.speed = 0.0
        self.run_state = "stopped"
        self.direction = "none"
        self.arrived_at = self.t
        self.run_hours += (self.t - started) / 3600
        self.distance_km += abs(self.x - m.x0) / 1000
        self.report()

    def _zone_change(self) -> None:
        """Entering or leaving a door zone is a change the terminal reports."""

    def creep(self, dest: int, speed: float = 0.3) -> Process:
        """A slow move (inspection, rescue device) to a landing."""
        yield from self.drive(dest, speed=speed)

    def open_doors(self) -> Process:
        self.door = "opening"
        self.door_left_closed_at = self.t
        self.report()
        yield self.t + self.spec.door_open_s
        self.door = "open"
        self.door_cycles += 1
        self.report()

    def close_doors(self, reopen_chance: float = 0.06) -> Process:
        for attempt in range(2):
            self.door = "closing"
            self.report()
            if attempt == 0 and self.rng.random() < reopen_chance:
                # someone steps into the door: it opens again
                yield self.t + self.rng.uniform(0.5, 1.5)
                self.door = "opening"
                self.report()
                yield self.t + 1.0
                self.door = "open"
                self.door_cycles += 1
                self.report()
                yield self.t + self.rng.uniform(1.5, 3.0)
                continue
            yield self.t + self.spec.door_close_s
            break
        self.door = "closed"
        self.report()

    def exchange(self, board: int = 0, alight: int = 0) -> Process:
        """Passengers step out and in, one every second or so."""
        for _ in range(alight):
            yield self.t + self.rng.uniform(0.6, 1.4)
            self.persons = max(0, self.persons - 1)
            self.report()
        for _ in range(board):
            yield self.t + self.rng.uniform(0.6, 1.4)
            self.persons += 1
            self.report()

    def door_cycle(self, board: int = 0, alight: int = 0) -> Process:
        fault = self.fault_for("arrival", persons=self.persons, board=board, alight=alight)
        if fault is not None:
            yield from fault
            return
        yield from self.open_doors()
        yield from self.exchange(board, alight)
        yield from self.finish_door_cycle(alight=alight)

    def finish_door_cycle(self, alight: int = 0) -> Process:
        fault = self.fault_for("open", persons=self.persons, alight=alight)
        if fault is not None:
            yield from fault
            return
        yield self.t + self.rng.uniform(2.0, 5.0)
        yield from self.close_doors()


def fleet_spec(elevator_id: str, index: int, seed: int = 0) -> CarSpec:
    """A plausible car for the index-th elevator of a simulated fleet.

    Buildings from 6 to 33 floors, one to two basements; the rated speed grows with the
    height as it does in practice (a 30-floor building does not have a 1 m/s lift, and
    its run-time limiter would trip on every long trip if it had).
    """
    rng = random.Random(seed * 1_000_003 + index)
    floors = rng.randint(6, 33)
    basements = rng.choice((0, 1, 1, 2))
    speed = 1.0 if floors <= 7 else 1.5 if floors <= 12 else 1.75 if floors <= 18 else 2.5
    if floors > 25:
        speed = 3.0
    return CarSpec(
        elevator_id=elevator_id,
        floor_min=-basements,
        floor_max=floors,
        lobby=1,
        rated_speed=speed,
        traffic=round(rng.uniform(0.5, 1.5), 2),
    )
