"""Settings of the elevator rules (section `[elevators]`, env `BW_ELEVATORS__...`).

Every threshold of the fault catalogue (../shared/spec/elevators.md) is a fleet default
here and can be overridden per elevator, from lowest to highest priority:

1. the fleet defaults below (`[elevators]` in BW_CONFIG, or `BW_ELEVATORS__TRAPPED_OUT_ZONE_S`),
2. `[elevators.per_elevator."<elevator_id>"]` tables in BW_CONFIG,
3. the registry row of the elevator (`floor_min`, `floor_max`, `rated_speed` and the
   `thresholds` object set through `PUT /api/v1/elevators/{id}` or `registry import`),
   because the registry is the live record an administrator edits.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from brightwatch.contract.codes import ELEVATOR_CATALOGUE
from brightwatch.contract.ids import is_valid_id
from brightwatch.contract.payloads import ServiceMode
from brightwatch.elevators.maintenance.settings import MaintenanceSettings
from brightwatch.mqttlink.kinds import CONSUMER_KIND_DESCRIPTION, ConsumerKind

# the contract's service modes (interfaces.md), every one of them
ALL_MODES: tuple[ServiceMode, ...] = get_args(ServiceMode)


class Thresholds(BaseModel):
    """The fault catalogue's thresholds for one elevator (all durations in seconds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # -- what the car is
    floor_min: int | None = Field(
        None,
        ge=-1000,
        le=1000,
        title="Lowest floor",
        description="Lowest floor index served; unset disables the range checks (FLOOR_LOST, OVERTRAVEL_BOTTOM by floor).",
    )
    floor_max: int | None = Field(
        None,
        ge=-1000,
        le=1000,
        title="Highest floor",
        description="Highest floor index served; unset disables the range checks (FLOOR_LOST, OVERTRAVEL_TOP by floor).",
    )
    rated_speed_m_s: float | None = Field(
        None,
        gt=0,
        le=30,
        title="Rated speed (m/s)",
        description="Rated car speed; OVERSPEED and the run-time limit need it (OVERSPEED is off while unset).",
    )
    floor_height_m: float = Field(
        3.0,
        gt=0,
        le=50,
        title="Floor height (m)",
        description="Average distance between landings, for the full travel time of RUNTIME_LIMITER.",
    )
    acceleration_m_s2: float = Field(
        0.8,
        gt=0,
        le=5,
        title="Acceleration (m/s²)",
        description="Nominal acceleration, for the full travel time of RUNTIME_LIMITER.",
    )

    # -- modes
    supervised_modes: list[ServiceMode] = Field(
        ["normal", "emergency_power", "unknown"],
        title="Modes watched by the door and trapped rules",
        description=(
            "Inspection, fire and earthquake modes suppress the door and trapped rules "
            "(elevators.md); emergency_power stays watched because a power failure must "
            "re-evaluate the trapped rules, unknown stays watched to fail safe."
        ),
    )
    motion_modes: list[ServiceMode] = Field(
        [m for m in ALL_MODES if m != "inspection"],
        title="Modes watched by UCM and DOOR_OPEN_RUN",
        description=(
            "Moving with open doors is dangerous in every mode except inspection, where a "
            "technician may run the car with the door bypass."
        ),
    )

    # -- the catalogue's thresholds
    stopped_speed_m_s: float = Field(
        0.05,
        ge=0,
        le=1,
        title="Stopped below (m/s)",
        description="A car is stopped when run_state is stopped or its speed is below this (elevators.md).",
    )
    trapped_out_zone_s: float = Field(
        30,
        ge=0,
        le=3600,
        title="TRAPPED_OUT_ZONE after (s)",
        description="Stopped outside the door zone with a person inside for this long (at once with the alarm button).",
    )
    trapped_in_zone_s: float = Field(
        120,
        ge=0,
        le=3600,
        title="TRAPPED_IN_ZONE after (s)",
        description="Stopped in the door zone, doors closed, a person inside, no run for this long.",
    )
    trapped_in_zone_alarm_s: float = Field(
        10,
        ge=0,
        le=3600,
        title="TRAPPED_IN_ZONE with the alarm button after (s)",
        description="The same condition when the alarm button was pressed during it.",
    )
    trapped_clear_s: float = Field(
        5,
        ge=0,
        le=600,
        title="Trapped clears after the person left for (s)",
        description="The person sensor must read empty this long before a trapped fault clears (sensors flicker); a door opening in the zone clears at once.",
    )
    stop_out_zone_s: float = Field(
        10,
        ge=0,
        le=3600,
        title="STOP_OUT_ZONE after (s)",
        description="Stopped outside the door zone this long; with a person inside it is a trapped fault instead.",
    )
    ucm_speed_m_s: float = Field(
        0.3,
        ge=0,
        le=5,
        title="UCM speed (m/s)",
        description="Doors not closed and faster than this (or leaving the door zone) is unintended car movement; slower moves inside the zone are re-levelling.",
    )
    ucm_samples: int = Field(
        2,
        ge=1,
        le=20,
        title="UCM consecutive samples",
        description="Consecutive samples showing the movement before UCM is raised.",
    )
    door_open_run_speed_m_s: float = Field(
        0.3,
        ge=0,
        le=5,
        title="DOOR_OPEN_RUN speed (m/s)",
        description="A door leaving closed while running faster than this outside the door zone.",
    )
    overspeed_p2_ratio: float = Field(
        1.10,
        ge=1,
        le=3,
        title="OVERSPEED P2 ratio",
        description="Speed at or above this multiple of the rated speed (for overspeed_s) is a P2 fault.",
    )
    overspeed_p1_ratio: float = Field(
        1.15,
        ge=1,
        le=3,
        title="OVERSPEED P1 ratio",
        description="Speed at or above this multiple of the rated speed (governor tripping speed) is a P1 fault.",
    )
    overspeed_s: float = Field(
        1,
        ge=0,
        le=60,
        title="OVERSPEED after (s)",
        description="How long the speed must stay above a ratio.",
    )
    safety_circuit_open_s: float = Field(
        5,
        ge=0,
        le=3600,
        title="SAFETY_CIRCUIT open for (s)",
        description="Safety circuit open this long in a watched mode (at once while running, in any mode).",
    )
    door_closing_max_s: float = Field(
        30,
        ge=0,
        le=3600,
        title="DOOR_CLOSE_FAIL: closing longer than (s)",
        description="A door still closing after this long has failed to close.",
    )
    door_open_max_s: float = Field(
        120,
        ge=0,
        le=86_400,
        title="DOOR_CLOSE_FAIL: open longer than (s)",
        description="A door not closed for this long (re-open cycles included) is a long door opening (长时间开门).",
    )
    door_opening_max_s: float = Field(
        10,
        ge=0,
        le=3600,
        title="DOOR_OPEN_FAIL: opening longer than (s)",
        description="Stopped in the door zone and the door still opening after this long.",
    )
    door_open_tries: int = Field(
        3,
        ge=1,
        le=100,
        title="DOOR_OPEN_FAIL: failed tries",
        description="Openings that fell back to closed without reaching open, at one stop.",
    )
    door_cycles: int = Field(
        5,
        ge=2,
        le=1000,
        title="DOOR_CYCLING: cycles",
        description="Door open/close cycles without a run, within door_cycles_window_s.",
    )
    door_cycles_window_s: float = Field(
        60,
        gt=0,
        le=3600,
        title="DOOR_CYCLING: window (s)",
        description="Window in which door_cycles cycles without a run raise DOOR_CYCLING.",
    )
    runtime_limit_s: float = Field(
        45,
        gt=0,
        le=3600,
        title="RUNTIME_LIMITER: longest run (s)",
        description="A run longer than min(this, full travel time + runtime_margin_s) trips the limiter rule.",
    )
    runtime_margin_s: float = Field(
        10,
        ge=0,
        le=3600,
        title="RUNTIME_LIMITER: margin over the full travel time (s)",
        description="Added to the computed bottom-to-top travel time.",
    )
    floor_jump_window_s: float = Field(
        1.0,
        ge=0,
        le=60,
        title="FLOOR_LOST: jump window (s)",
        description="A floor change of more than one floor between consecutive samples at most this far apart is a lost floor position.",
    )
    floor_lost_clear_s: float = Field(
        60,
        ge=0,
        le=86_400,
        title="FLOOR_LOST clears after (s)",
        description="FLOOR_LOST clears when the floor has been plausible (in range, no jump) this long.",
    )
    power_fail_s: float = Field(
        5,
        ge=0,
        le=3600,
        title="POWER_FAIL after (s)",
        description="On battery this long is a power failure; trapped rules then apply at once.",
    )
    power_fail_trapped_at_once: bool = Field(
        True,
        title="Power failure confirms trapped at once",
        description="While POWER_FAIL is active a passenger in a stopped car cannot be released by normal service, so the trapped rules skip their waiting time (elevators.md: re-evaluate trapped rules at once).",
    )
    power_fail_inhibits: list[str] = Field(
        ["DOOR_CLOSE_FAIL", "DOOR_OPEN_FAIL", "DOOR_CYCLING", "STOP_OUT_ZONE"],
        title="Faults inhibited on battery",
        description="Faults an outage causes by itself; they are not raised while the car runs on battery.",
    )
    alarm_confirm_s: float = Field(
        30,
        ge=0,
        le=3600,
        title="ALARM_BUTTON confirmed after (s)",
        description="Alarm button active while stopped this long, not cleared, is a P1 alarm.",
    )
    alarm_running_severity: Literal["P1", "P2", "P3", "INFO"] = Field(
        "P2",
        title="ALARM_BUTTON severity while running normally",
        description="A press during a normal run is logged with this severity (elevators.md: logged).",
    )
    offline_s: float = Field(
        180,
        gt=0,
        le=86_400,
        title="OFFLINE after (s)",
        description="No message from the terminal for this long (terminals report at least every 60 s).",
    )
    unknown_events: Literal["info", "ignore"] = Field(
        "info",
        title="Controller events outside the catalogue",
        description="info: record them as INFO alerts under the controller's own code; ignore: drop them.",
    )
    disabled: list[str] = Field(
        [],
        title="Disabled faults",
        description="Catalogue codes not raised for this elevator (a sensor it does not have, say).",
    )
    evidence_samples: int = Field(
        6,
        ge=1,
        le=50,
        title="Evidence samples",
        description="Status samples kept and attached to an alert as its evidence.",
    )

    @field_validator("power_fail_inhibits", "disabled")
    @classmethod
    def _known_codes(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in ELEVATOR_CATALOGUE]
        if unknown:
            raise ValueError(f"not catalogue codes: {', '.join(unknown)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Thresholds:
        if (
            self.floor_min is not None
            and self.floor_max is not None
            and self.floor_min > self.floor_max
        ):
            raise ValueError("floor_min must not exceed floor_max")
        if self.overspeed_p1_ratio < self.overspeed_p2_ratio:
            raise ValueError("overspeed_p1_ratio must be at least overspeed_p2_ratio")
        return self


THRESHOLD_FIELDS = frozenset(Thresholds.model_fields)


class ElevatorSettings(Thresholds):
    """Fleet defaults of the fault thresholds, per-elevator overrides, the rules worker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_elevator: dict[str, dict[str, Any]] = Field(
        {},
        title="Per-elevator thresholds",
        description=(
            'Overrides keyed by elevator_id: [elevators.per_elevator."3101..."] '
            "trapped_out_zone_s = 20. Any threshold field above may be set."
        ),
    )
    batch_size: int = Field(
        2000,
        ge=1,
        le=100_000,
        title="Rules batch size",
        description="Most messages the rules worker takes into one transaction.",
    )
    batch_wait_ms: int = Field(
        20,
        ge=1,
        le=10_000,
        title="Rules batch wait",
        description="Longest time a message waits for its batch to fill (adds to alert latency).",
    )
    receive_maximum: int = Field(
        20_000,
        ge=10,
        le=65_535,
        title="MQTT receive maximum",
        description="Unacknowledged messages in flight to the rules worker (acknowledged after commit).",
    )
    mqtt_client: ConsumerKind = Field(
        "stream", title="MQTT client of the rules worker", description=CONSUMER_KIND_DESCRIPTION
    )
    tick_interval_ms: int = Field(
        100,
        ge=10,
        le=10_000,
        title="Timer resolution",
        description="How often the rules worker looks for due timers (trapped, offline ...).",
    )
    state_save_interval_s: float = Field(
        30,
        ge=0,
        le=3600,
        title="Lazy state save interval",
        description=(
            "An elevator's rule state is saved in the batch that changes an alert, an "
            "active rule or a life-safety (P1) timer, and otherwise at most this long "
            "(device time) after it changed: after a crash of the rules worker, a P2/P3 "
            "timer (door faults, run-time limiter) may restart up to this much later. "
            "0 saves every change of every batch (exact, and the slowest)."
        ),
    )
    registry_ttl_s: float = Field(
        60,
        ge=0,
        le=86_400,
        title="Registry cache lifetime",
        description="Seconds an elevator's registry row (site, floors, rated speed, thresholds) is cached.",
    )
    state_cache_size: int = Field(
        100_000,
        ge=100,
        le=10_000_000,
        title="Rule states kept in memory",
        description="Elevators whose rule state stays in memory; others are read from the database when they speak.",
    )

    partitions: int = Field(
        0,
        ge=0,
        le=4096,
        title="Elevator partitions of the rules replicas",
        description=(
            "0: this rules worker handles every elevator (one replica). N: the elevators fall "
            "into N partitions owned through leases in PostgreSQL, shared out among the "
            "running rules replicas, each on its own persistent session without a shared "
            "group (db/partitions.py). Every replica must use the same N; a few per "
            "replica you may run (e.g. 32 for up to 8 replicas)."
        ),
    )
    lease_ttl_s: float = Field(
        10,
        ge=2,
        le=300,
        title="Partition lease time",
        description=(
            "A rules replica renews its partitions' leases every third of this; a replica "
            "silent for two lease times loses them to the others (failover within about "
            "2 × this + this / 3)."
        ),
    )
    standby_max_messages: int = Field(
        1_000_000,
        ge=1000,
        le=100_000_000,
        title="Standby messages kept",
        description=(
            "Messages of partitions owned by other replicas kept for a takeover (for "
            "3 × lease_ttl_s + 10 s), at most this many (about 600 bytes each)."
        ),
    )

    maintenance: MaintenanceSettings = Field(
        default_factory=MaintenanceSettings,
        title="On-demand maintenance planner",
        description='Risk score, intervals, overrides and ticket triggers (elevators.md); per elevator in [elevators.maintenance.per_elevator."<id>"].',
    )

    @field_validator("per_elevator")
    @classmethod
    def _check_per_elevator(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for elevator_id, overrides in value.items():
            if not is_valid_id(elevator_id):
                raise ValueError(f"{elevator_id!r} is not a valid elevator_id")
            unknown = set(overrides) - THRESHOLD_FIELDS
            if unknown:
                raise ValueError(f"{elevator_id}: unknown thresholds {', '.join(sorted(unknown))}")
            try:
                Thresholds.model_validate(overrides)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ValueError(f"{elevator_id}: {where}: {first['msg']}") from None
        return value

    def fleet(self) -> Thresholds:
        return Thresholds.model_validate(
            {k: v for k, v in self.model_dump().items() if k in THRESHOLD_FIELDS}
        )


class RegistryRow(BaseModel):
    """What the registry says about an elevator that matters to the rules."""

    site_id: str | None = None
    floor_min: int | None = None
    floor_max: int | None = None
    rated_speed: float | None = None
    thresholds: dict[str, Any] = {}


class ThresholdError(ValueError):
    """Per-elevator thresholds that do not validate; the message names the field."""


def thresholds_for(
    settings: ElevatorSettings, elevator_id: str, registry: RegistryRow | None = None
) -> Thresholds:
    """The effective thresholds of one elevator (fleet < per_elevator < registry row)."""
    merged = {k: v for k, v in settings.model_dump().items() if k in THRESHOLD_FIELDS}
    merged.update(settings.per_elevator.get(elevator_id, {}))
    if registry is not None:
        for key in ("floor_min", "floor_max"):
            value = getattr(registry, key)
            if value is not None:
                merged[key] = value
        if registry.rated_speed is not None:
            merged["rated_speed_m_s"] = registry.rated_speed
        merged.update({k: v for k, v in registry.thresholds.items()})
    try:
        return Thresholds.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "thresholds"
        raise ThresholdError(f"elevator {elevator_id}: {where}: {first['msg']}") from None
