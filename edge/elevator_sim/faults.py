"""Faults and harmless look-alikes the simulator can inject, with their ground truth.

Each fault is registered under a key with the moment it needs (`hook`):

- `idle`: the car stands empty at a landing, doors closed;
- `run`: a trip is about to start (`purpose` pickup or delivery, `persons`, `dest`);
- `boarded`: passengers are in, doors closed, before the trip;
- `arrival`: the car has just stopped at a landing, doors still closed;
- `open`: doors open at a landing after passengers stepped out or in.

It takes the car over from that moment, records `marks` (when the condition a rule must
see began, when it ended) and hands the car back in a normal state. Scenario files
(`scenarios/*.toml`) name a fault, its parameters and the alerts expected relative to
the marks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from brightwatch.edge.elevator_sim.model import Car, Fault, FaultRun, Process
from brightwatch.edge.elevator_sim.motion import Motion

Accepts = Callable[[Car, Fault, dict[str, Any]], bool]
FAULTS: dict[str, tuple[str, Accepts, FaultRun]] = {}


def _always(car: Car, fault: Fault, ctx: dict[str, Any]) -> bool:
    return True


def fault(kind: str, hook: str, accepts: Accepts = _always) -> Callable[[FaultRun], FaultRun]:
    def register(run: FaultRun) -> FaultRun:
        FAULTS[kind] = (hook, accepts, run)
        return run

    return register


# ------------------------------------------------------------ helpers


def far_floor(car: Car, minimum: int = 4) -> int:
    """The end floor farther from the car (trips long enough to reach rated speed)."""
    s = car.spec
    here = car.floor
    return s.floor_max if s.floor_max - here >= here - s.floor_min else s.floor_min


def plan(car: Car, dest: int, speed: float | None = None, overshoot_m: float = 0.0) -> Motion:
    """The motion `car.drive` will follow (to place actions along it)."""
    x1 = car.landing_x(dest)
    if overshoot_m:
        x1 += overshoot_m if x1 >= car.x else -overshoot_m
    return Motion(car.t, car.x, x1, speed or car.spec.rated_speed, car.spec.acceleration)


def mid_shaft(car: Car, m: Motion) -> float:
    """Seconds after the start at which the car is half-way between two landings,
    around the middle of the trip."""
    h = car.spec.floor_height
    k = max(0, int(m.distance / 2 // h))
    s = (k + 0.5) * h
    if s >= m.distance:
        s = m.distance / 2
    return m.time_at(s) - m.t_start


def rescue(car: Car, how: str, dest: int) -> Process:
    """Bring a car stopped between floors back to a landing and let the passengers out."""
    if how == "technician":
        car.mode = "inspection"
        car.mark("inspection")
        car.report()
        yield car.t + 20.0
        yield from car.creep(car.floor, speed=0.3)
        car.mark("at_landing")
        yield from car.open_doors()
        car.mark("doors_open", car.door_left_closed_at)
        car.alarm = False
        car.report()
        yield from car.exchange(alight=car.persons)
        car.mark("released")
        yield car.t + 3.0
        yield from car.close_doors(reopen_chance=0)
        car.mode = "normal"
        car.mark("normal")
        car.report()
    else:  # the controller restarts by itself and completes the trip
        car.alarm = False
        car.mark("restart")
        yield from car.drive(dest)
        yield from car.open_doors()
        car.mark("doors_open", car.door_left_closed_at)
        yield from car.exchange(alight=car.persons)
        car.mark("released")
        yield from car.finish_door_cycle()


# ------------------------------------------------------------ trapped and stopped


def _stall_accepts(car: Car, f: Fault, ctx: dict[str, Any]) -> bool:
    with_person = bool(f.params.get("with_person", True))
    if with_person:
        return (
            ctx["purpose"] == "delivery"
            and ctx["persons"] > 0
            and abs(ctx["dest"] - car.floor) >= 2
        )
    return False


@fault("stall", "run", _stall_accepts)
def stall(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The car stops between floors with passengers inside (brake, drive or controller)."""
    dest = ctx["dest"]
    m = plan(car, dest)
    yield from car.drive(dest, stop_after=mid_shaft(car, m))
    car.mark("stall")
    stopped = car.t
    alarm_after = f.params.get("alarm_after_s")
    if alarm_after is not None:
        yield stopped + float(alarm_after)
        car.alarm = True
        car.mark("alarm")
        car.report()
    yield stopped + float(f.params.get("hold_s", 90))
    yield from rescue(car, str(f.params.get("rescue", "technician")), dest)


@fault("stall_empty", "idle")
def stall_empty(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """An empty car stops between floors on its way (nobody trapped: a repair fault)."""
    dest = far_floor(car)
    m = plan(car, dest)
    yield from car.drive(dest, stop_after=mid_shaft(car, m))
    car.mark("stall")
    yield car.t + float(f.params.get("hold_s", 60))
    yield from rescue(car, str(f.params.get("rescue", "restart")), dest)
    car.mark("recovered")


def _delivery_with(min_floors: int) -> Accepts:
    def accepts(car: Car, f: Fault, ctx: dict[str, Any]) -> bool:
        return (
            ctx["purpose"] == "delivery"
            and ctx["persons"] > 0
            and abs(ctx["dest"] - car.floor) >= min_floors
        )

    return accepts


@fault("doors_stay_closed", "arrival", lambda car, f, ctx: ctx["alight"] > 0)
def doors_stay_closed(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The car arrives at a landing but its doors never open: passengers shut in."""
    car.mark("arrived")
    arrived = car.t
    alarm_after = f.params.get("alarm_after_s")
    if alarm_after is not None:
        yield arrived + float(alarm_after)
        car.alarm = True
        car.mark("alarm")
        car.report()
        yield car.t + 3.0  # a press, not a latch
        car.alarm = False
        car.report()
    yield arrived + float(f.params.get("hold_s", 150))
    yield from car.open_doors()
    car.mark("doors_open", car.door_left_closed_at)
    yield from car.exchange(alight=ctx["alight"])
    yield from car.finish_door_cycle()


@fault("power_fail_mid_run", "run", _delivery_with(2))
def power_fail_mid_run(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """Mains lost during a trip: emergency stop between floors, the rescue device (ARD)
    brings the car to a landing on battery and opens the doors."""
    dest = ctx["dest"]
    m = plan(car, dest)
    tau = mid_shaft(car, m)

    def lose_mains() -> None:
        car.power = "battery"
        car.mark("battery")

    yield from car.drive(dest, stop_after=tau, actions=[(tau - 0.05, lose_mains)])
    car.mark("stall")
    stopped = car.t
    yield stopped + float(f.params.get("ard_after_s", 40))
    yield from car.creep(car.floor, speed=0.3)
    yield from car.open_doors()
    car.mark("doors_open", car.door_left_closed_at)
    yield from car.exchange(alight=car.persons)
    yield stopped + float(f.params.get("mains_after_s", 120))
    car.power = "mains"
    car.battery = 100.0
    car.mark("mains")
    car.report()
    yield from car.close_doors(reopen_chance=0)


# ------------------------------------------------------------ movement


@fault("ucm_drift", "open", lambda car, f, ctx: ctx["persons"] == 0)
def ucm_drift(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """Brake failure at a landing: the car drifts away with its doors open until the
    unintended-movement protection stops it."""
    car.direction = "down"
    car.speed_override = 0.12
    car.mark("drift")
    car.report()
    yield car.t + 0.9
    car.x -= 0.11
    car.speed_override = 0.2
    car.mark("left_zone")
    car.report()
    yield car.t + 0.5
    car.x -= 0.15
    car.speed_override = 0.45
    car.mark("ucm_confirm")
    car.report()
    yield car.t + 0.6
    car.x -= 0.1
    car.speed_override = None
    car.direction = "none"
    car.report()
    yield car.t + float(f.params.get("hold_s", 15))
    car.door = "closing"
    car.report()
    yield car.t + car.spec.door_close_s
    car.door = "closed"
    car.mark("doors_closed")
    car.report()
    yield car.t + 5.0
    yield from car.creep(car.floor, speed=0.1)


@fault("door_open_while_running", "idle")
def door_open_while_running(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """A bridged door lock: the car door opens in the middle of a fast run and the
    controller does not stop."""
    dest = far_floor(car)
    m = plan(car, dest)
    tau = mid_shaft(car, m)

    def set_door(state: str, name: str | None = None) -> Callable[[], None]:
        def apply() -> None:
            car.door = state
            if name:
                car.mark(name)

        return apply

    yield from car.drive(
        dest,
        actions=[
            (tau, set_door("opening", "door_open_run")),
            (tau + 1.0, set_door("open")),
            (tau + 2.5, set_door("closing")),
            (tau + 4.0, set_door("closed", "door_closed")),
        ],
    )


def _overtravel(car: Car, f: Fault, top: bool) -> Process:
    s = car.spec
    end = s.floor_max if top else s.floor_min
    start = end - 4 if top else end + 4
    if car.floor != start:
        yield from car.drive(start)
        yield car.t + 5.0
    overshoot = 0.6
    m = plan(car, end, overshoot_m=overshoot)
    hit = m.time_at(m.distance - overshoot + 0.3) - m.t_start

    def limit() -> None:
        if top:
            car.up_limit = True
        else:
            car.down_limit = True
        car.mark("limit")

    yield from car.drive(end, overshoot_m=overshoot, actions=[(hit, limit)])
    yield car.t + float(f.params.get("hold_s", 60))
    car.mode = "inspection"
    car.mark("inspection")
    car.report()
    yield car.t + 10.0

    def release() -> None:
        car.up_limit = car.down_limit = False
        car.mark("released")

    yield from car.drive(end, speed=0.3, actions=[(0.5, release)])
    yield car.t + 5.0
    car.mode = "normal"
    car.mark("normal")
    car.report()


@fault("overtravel_top", "idle")
def overtravel_top(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The car does not stop at the top landing and runs onto the final limit (冲顶)."""
    yield from _overtravel(car, f, top=True)


@fault("overtravel_bottom", "idle")
def overtravel_bottom(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The car does not stop at the bottom landing and sinks onto the buffer (蹲底)."""
    yield from _overtravel(car, f, top=False)


@fault("overspeed", "idle")
def overspeed(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The drive loses control during a long run: speed above 110 % (and 115 %) of rated."""
    dest = far_floor(car)
    m = plan(car, dest)
    rated = car.spec.rated_speed
    start = m.t_acc + 0.5
    actions = []

    def set_speed(v: float | None, name: str) -> Callable[[], None]:
        def apply() -> None:
            car.speed_override = v
            car.mark(name)

        return apply

    actions.append((start, set_speed(rated * float(f.params.get("ratio", 1.12)), "overspeed")))
    end = start + 3.0
    if f.params.get("ratio_p1"):
        actions.append(
            (start + 2.0, set_speed(rated * float(f.params["ratio_p1"]), "overspeed_p1"))
        )
        end = start + 4.0
    actions.append((end, set_speed(None, "normal_speed")))
    yield from car.drive(dest, actions=actions)


@fault("long_run", "idle")
def long_run(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """Traction slipping: a run crawls on far beyond the full travel time until the
    controller's run-time limiter stops it between floors."""
    dest = far_floor(car)
    speed = float(f.params.get("speed", 0.4))

    def moving() -> None:
        car.mark("run_start")

    limiter_s = float(f.params.get("limiter_s", 55))
    yield from car.drive(dest, speed=speed, stop_after=limiter_s, actions=[(0.1, moving)])
    car.event("RUNTIME_LIMITER", "raise", "motor run-time limiter tripped")
    car.mark("limiter")
    yield car.t + float(f.params.get("hold_s", 30))
    car.mode = "inspection"
    car.mark("inspection")
    car.report()
    yield car.t + 10.0
    yield from car.creep(car.floor, speed=0.3)
    car.event("RUNTIME_LIMITER", "clear")
    car.mode = "normal"
    car.mark("normal")
    car.report()
    yield car.t + 5.0
    yield from car.drive(car.spec.lobby)  # a normal run: the cause is gone
    car.mark("normal_run")


@fault("floor_jump", "idle")
def floor_jump(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """A slipping position encoder: the floor reading jumps three floors and back."""
    dest = far_floor(car)
    m = plan(car, dest)
    h = car.spec.floor_height
    # half a second after the second floor change of the trip
    crossing = m.time_at(1.5 * h) - m.t_start + 0.5

    def jump() -> None:
        car.floor_override = car.floor + (3 if m.sign > 0 else -3)
        car.mark("jump")

    def back() -> None:
        car.floor_override = None
        car.mark("jump_back")

    yield from car.drive(dest, actions=[(crossing, jump), (crossing + 0.5, back)])


@fault("floor_out_of_range", "idle")
def floor_out_of_range(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The floor sensor reports a floor the building does not have."""
    car.floor_override = int(f.params.get("floor", 99))
    car.mark("bad_floor")
    car.report()
    yield car.t + float(f.params.get("hold_s", 30))
    car.floor_override = None
    car.mark("floor_ok")
    car.report()


# ------------------------------------------------------------ safety circuit, doors


@fault("safety_open_idle", "idle")
def safety_open_idle(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """A landing door contact opens the safety circuit while the car stands idle."""
    car.safety = "open"
    car.mark("safety_open")
    car.report()
    yield car.t + float(f.params.get("hold_s", 60))
    car.safety = "closed"
    car.mark("safety_closed")
    car.report()


@fault("safety_open_running", "idle")
def safety_open_running(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The safety circuit opens during a run: emergency stop between floors."""
    dest = far_floor(car)
    m = plan(car, dest)
    tau = mid_shaft(car, m)

    def open_circuit() -> None:
        car.safety = "open"
        car.mark("safety_open")

    yield from car.drive(dest, stop_after=tau + 0.05, actions=[(tau, open_circuit)])
    yield car.t + float(f.params.get("hold_s", 20))
    car.safety = "closed"
    car.mark("safety_closed")
    car.report()
    yield car.t + 3.0
    yield from car.creep(car.floor, speed=0.3)


@fault("door_stuck_closing", "open")
def door_stuck_closing(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The door motor stalls half-way: the door keeps 'closing' and never closes."""
    yield car.t + 3.0
    car.door = "closing"
    car.mark("closing")
    car.report()
    yield car.t + float(f.params.get("hold_s", 40))
    car.door = "closed"
    car.mark("closed")
    car.report()


@fault("door_stuck_open", "open", lambda car, f, ctx: ctx["persons"] == 0)
def door_stuck_open(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The door stays open at a landing (a jammed door operator), nobody inside."""
    car.mark("left_closed", car.door_left_closed_at)
    yield car.door_left_closed_at + float(f.params.get("hold_s", 150))
    yield from car.close_doors(reopen_chance=0)
    car.mark("closed")


def _just_arrived_to_board(car: Car, f: Fault, ctx: dict[str, Any]) -> bool:
    # a car that comes to pick people up (not one that opens again where it stood)
    return ctx["board"] > 0 and car.t - car.arrived_at < 0.5


@fault("door_stuck_opening", "arrival", _just_arrived_to_board)
def door_stuck_opening(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The door starts opening at a landing and hangs before it is open."""
    car.door = "opening"
    car.door_left_closed_at = car.t
    car.mark("opening")
    car.report()
    yield car.t + float(f.params.get("hold_s", 15))
    car.door = "open"
    car.mark("opened")
    car.report()
    yield from car.exchange(board=ctx["board"])
    yield from car.finish_door_cycle()


@fault("door_open_retries", "arrival", _just_arrived_to_board)
def door_open_retries(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The door tries to open three times and falls back closed each time."""
    tries = int(f.params.get("tries", 3))
    for i in range(tries):
        car.door = "opening"
        car.report()
        yield car.t + 1.5
        car.door = "closing"
        if i == tries - 1:
            car.mark("last_fail")
        car.report()
        yield car.t + 1.5
        car.door = "closed"
        car.report()
        yield car.t + 1.0
    yield from car.open_doors()
    car.mark("opened", car.door_left_closed_at + car.spec.door_open_s)
    yield from car.exchange(board=ctx["board"])
    yield car.t + 3.0
    # a re-opening now would make five openings in a minute: DOOR_CYCLING, rightly, but
    # not what this scenario is about
    yield from car.close_doors(reopen_chance=0)


@fault("door_cycling", "open", lambda car, f, ctx: ctx["persons"] == 0)
def door_cycling(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """A dirty light curtain: the door re-opens again and again without a run."""
    car.mark("cycle1", car.door_left_closed_at)
    for i in range(int(f.params.get("reopens", 6))):
        car.door = "closing"
        car.report()
        yield car.t + 1.5
        car.door = "opening"
        if i == 3:  # the fifth opening start, counting the arrival's
            car.mark("cycle5")
        car.report()
        yield car.t + 1.0
        car.door = "open"
        car.report()
        yield car.t + 2.5
    car.mark("last_cycle", car.t - 3.5)
    yield from car.close_doors(reopen_chance=0)


# ------------------------------------------------------------ controller events, power


@fault("controller_event", "idle")
def controller_event(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The controller reports a fault code itself, and later clears it."""
    code = str(f.params["code"])
    car.event(code, "raise", f.params.get("detail"))
    car.mark("raise")
    yield car.t + float(f.params.get("hold_s", 60))
    car.event(code, "clear")
    car.mark("clear")


@fault("power_fail", "idle")
def power_fail(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """Mains lost while the car stands at a landing; battery keeps the terminal alive."""
    car.power = "battery"
    car.mark("battery")
    car.report()
    hold = float(f.params.get("hold_s", 60))
    end = car.t + hold
    while car.t < end - 1e-9:
        yield min(end, car.t + 20.0)
        car.battery = max(0.0, car.battery - 0.05 * 20)
    car.power = "mains"
    car.battery = 100.0
    car.mark("mains")
    car.report()


# ------------------------------------------------------------ alarm button


@fault("alarm_stopped", "open", lambda car, f, ctx: ctx["persons"] > 0 and ctx["alight"] == 0)
def alarm_stopped(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """A passenger presses and holds the alarm button in a car standing at a landing."""
    car.alarm = True
    car.mark("press")
    car.report()
    yield car.t + float(f.params.get("hold_s", 40))
    car.alarm = False
    car.mark("release")
    car.report()
    yield car.t + 2.0
    yield from car.close_doors()


@fault("alarm_running", "run", _delivery_with(3))
def alarm_running(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """A passenger presses the alarm button during a normal run (logged, not a rescue)."""
    dest = ctx["dest"]
    m = plan(car, dest)

    def press() -> None:
        car.alarm = True
        car.mark("press")

    def release() -> None:
        car.alarm = False
        car.mark("release")

    yield from car.drive(dest, actions=[(1.5, press), (m.duration - 1.0, release)])


# ------------------------------------------------------------ modes


@fault("inspection_visit", "idle")
def inspection_visit(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """A maintenance visit: inspection mode, door tests, door held open, the car moved
    between floors with the technician inside, then back to normal."""
    car.mode = "inspection"
    car.mark("inspection")
    car.report()
    yield from car.open_doors()
    car.persons = 1
    car.report()
    for _ in range(int(f.params.get("door_tests", 6))):
        yield car.t + 2.0
        car.door = "closing"
        car.report()
        yield car.t + 1.0
        car.door = "opening"
        car.report()
        yield car.t + 1.0
        car.door = "open"
        car.report()
    yield car.t + float(f.params.get("door_open_s", 150))
    yield from car.close_doors(reopen_chance=0)
    up = car.floor + 1 if car.floor < car.spec.floor_max else car.floor - 1
    m = plan(car, up, speed=0.3)
    yield from car.drive(up, speed=0.3, stop_after=(m.duration / 2))
    yield car.t + float(f.params.get("between_floors_s", 60))
    yield from car.creep(car.floor, speed=0.3)
    yield from car.open_doors()
    car.persons = 0
    car.report()
    yield car.t + 3.0
    yield from car.close_doors(reopen_chance=0)
    car.mode = "normal"
    car.mark("normal")
    car.report()


@fault("fire_return", "idle")
def fire_return(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """A fire alarm recall (drill): the car returns to the lobby and parks doors open."""
    car.mode = "fire_return"
    car.mark("fire")
    car.report()
    if car.floor != car.spec.lobby:
        yield from car.drive(car.spec.lobby)
    yield from car.open_doors()
    yield car.t + float(f.params.get("parked_s", 200))
    yield from car.close_doors(reopen_chance=0)
    car.mode = "normal"
    car.mark("normal")
    car.report()


# ------------------------------------------------------------ the terminal itself


@fault("terminal_silent", "idle")
def terminal_silent(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The terminal hangs: its connection stays up (no will) but it sends nothing."""
    car.mark("silent", car.last_emit_t)
    car.silent = True
    yield car.t + float(f.params.get("hold_s", 200))
    car.silent = False
    car.report(force=True)
    car.mark("back")


@fault("terminal_unplugged", "idle")
def terminal_unplugged(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """The terminal loses power: the broker publishes its will 1.5 keep-alives later;
    it boots again later with seq back at 0."""
    car.mark("silent", car.last_emit_t)
    car.silent = True
    yield car.t + 45.0
    car.availability(False, will=True)
    car.mark("will")
    yield car.t + float(f.params.get("hold_s", 300))
    car.boot()
    car.mark("online")


@fault("terminal_reboot", "idle")
def terminal_reboot(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """A quick reboot (firmware update): silent for a while, then seq starts at 0 again."""
    car.mark("silent", car.last_emit_t)
    car.silent = True
    yield car.t + float(f.params.get("hold_s", 40))
    car.boot()
    car.mark("online")


# ------------------------------------------------------------ harmless look-alikes


@fault("relevel_doors_open", "open", lambda car, f, ctx: ctx["alight"] > 0)
def relevel_doors_open(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """Passengers stepped out and the ropes sprang back: the car re-levels slowly
    inside the door zone with its doors open (allowed, not UCM)."""
    car.x += 0.03  # the unloaded car sits a little above the landing
    car.run_state = "running"
    car.direction = "up"
    car.speed_override = 0.06
    car.mark("relevel")
    car.report()
    yield car.t + 1.0
    car.x = car.landing_x(car.floor)  # back level with the landing
    car.run_state = "stopped"
    car.direction = "none"
    car.speed_override = None
    car.report()
    yield car.t + 2.0
    yield from car.close_doors()


@fault("person_holds_door", "open")
def person_holds_door(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """Someone inside keeps the doors open at a landing, waiting for a friend."""
    hold = float(f.params.get("hold_s", 90))
    car.mark("holding", car.door_left_closed_at)
    start = car.t
    for at in (hold / 3, 2 * hold / 3):
        yield start + at
        car.door = "closing"
        car.report()
        yield car.t + 1.0
        car.door = "opening"
        car.report()
        yield car.t + 1.0
        car.door = "open"
        car.report()
    yield start + hold
    yield from car.close_doors(reopen_chance=0)


@fault("alarm_brief", "open", lambda car, f, ctx: ctx["persons"] > 0 and ctx["alight"] == 0)
def alarm_brief(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """A child presses the alarm button for a few seconds, then lets go."""
    car.alarm = True
    car.mark("press")
    car.report()
    yield car.t + float(f.params.get("hold_s", 4))
    car.alarm = False
    car.report()
    yield car.t + 2.0
    yield from car.close_doors()


@fault("passenger_dawdles", "boarded", lambda car, f, ctx: ctx["persons"] > 0)
def passenger_dawdles(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """A passenger stands in the closed car for a minute before choosing a floor."""
    car.mark("dawdle")
    yield car.t + float(f.params.get("hold_s", 60))


@fault("power_blip", "idle")
def power_blip(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """Mains drops for a few seconds (below POWER_FAIL's 5 s)."""
    car.power = "battery"
    car.report()
    yield car.t + float(f.params.get("hold_s", 3))
    car.power = "mains"
    car.report()


@fault("express_run", "idle")
def express_run(car: Car, f: Fault, ctx: dict[str, Any]) -> Process:
    """A full-height run, bottom to top (long but within the run-time limit)."""
    s = car.spec
    if car.floor != s.floor_min:
        yield from car.drive(s.floor_min)
        yield car.t + 5.0
    car.mark("express")
    yield from car.drive(s.floor_max)
