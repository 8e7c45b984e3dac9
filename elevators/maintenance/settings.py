"""Settings of the on-demand maintenance planner (`[elevators.maintenance]`).

Every figure of elevators.md's "On-demand maintenance" section is a fleet default here;
`[elevators.maintenance.per_elevator."<elevator_id>"]` overrides any policy field for one
elevator (the same layering as the fault thresholds in elevators/settings.py). The
scheduler's own fields (when the daily pass runs, how often triggers are polled) are
fleet-wide only.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from brightwatch.contract.ids import is_valid_id


class MaintenancePolicy(BaseModel):
    """How one elevator's plan is computed (elevators.md, 按需维保)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # -- eligibility
    credit_ratings: list[str] = Field(
        ["A", "B"],
        title="Eligible firm credit ratings",
        description="The maintenance firm's credit rating must be one of these for on-demand maintenance.",
    )
    min_online_ratio: float = Field(
        0.98,
        ge=0,
        le=1,
        title="Minimum terminal online ratio",
        description="Share of the online window the terminal must have been online (OFFLINE alerts count as offline).",
    )
    online_window_days: int = Field(
        30, ge=1, le=365, title="Online window (days)", description="Window of the online ratio."
    )
    trapped_free_days: int = Field(
        90,
        ge=0,
        le=3650,
        title="Trapped-free period (days)",
        description="No trapped fault (TRAPPED_OUT_ZONE, TRAPPED_IN_ZONE) in this many days for eligibility.",
    )
    require_valid_inspection: bool = Field(
        True,
        title="Periodic inspection must be valid",
        description="The elevator's inspection_valid_until (registry) must not be past.",
    )

    # -- intervals
    statutory_interval_days: int = Field(
        15,
        ge=1,
        le=365,
        title="Statutory interval (days)",
        description="TSG T5002: at least every 15 days; the interval of an elevator that is not eligible.",
    )
    band_low_below: float = Field(
        0.25, ge=0, le=1, title="Low-risk band: R below", description="R below this: band_low_days."
    )
    band_mid_below: float = Field(
        0.50, ge=0, le=1, title="Mid-risk band: R below", description="R below this: band_mid_days."
    )
    band_high_below: float = Field(
        0.75,
        ge=0,
        le=1,
        title="High-risk band: R below",
        description="R below this: band_high_days; at or above: band_top_days and a targeted inspection.",
    )
    band_low_days: int = Field(
        30, ge=1, le=365, title="Low-risk interval (days)", description="R < 0.25."
    )
    band_mid_days: int = Field(
        21, ge=1, le=365, title="Mid-risk interval (days)", description="0.25 ≤ R < 0.50."
    )
    band_high_days: int = Field(
        15, ge=1, le=365, title="High-risk interval (days)", description="0.50 ≤ R < 0.75."
    )
    band_top_days: int = Field(
        7,
        ge=1,
        le=365,
        title="Top-risk interval (days)",
        description="R ≥ 0.75, with a targeted inspection; applies to ineligible elevators too (15 days is a maximum).",
    )

    # -- risk factors
    weight_age: float = Field(
        0.15, ge=0, le=1, title="Weight: age", description="elevators.md: 0.15."
    )
    weight_fault_rate: float = Field(
        0.25, ge=0, le=1, title="Weight: fault rate", description="0.25."
    )
    weight_trapped: float = Field(
        0.20, ge=0, le=1, title="Weight: trapped faults", description="0.20."
    )
    weight_usage: float = Field(0.10, ge=0, le=1, title="Weight: usage", description="0.10.")
    weight_health: float = Field(
        0.15, ge=0, le=1, title="Weight: health trend", description="0.15."
    )
    weight_firm: float = Field(0.10, ge=0, le=1, title="Weight: firm", description="0.10.")
    weight_management: float = Field(
        0.05, ge=0, le=1, title="Weight: user unit management", description="0.05."
    )
    age_years: list[int] = Field(
        [5, 10, 15],
        title="Age band limits (years)",
        description="Ages below the first are x=0, then age_values in turn; at or above the last, x=1.",
    )
    age_values: list[float] = Field(
        [0.3, 0.6],
        title="Age band values",
        description="x of the middle age bands (5–10 y: 0.3, 10–15 y: 0.6).",
    )
    fault_window_days: int = Field(
        90,
        ge=1,
        le=3650,
        title="Fault window (days)",
        description="Window of the fault-rate and trapped factors.",
    )
    fault_rate_percentile: float = Field(
        95,
        gt=0,
        le=100,
        title="Fault-rate scale percentile",
        description="P2 faults per 1,000 runs are divided by this percentile of the fleet (x capped at 1).",
    )
    trapped_one: float = Field(
        0.7, ge=0, le=1, title="Trapped: x for one fault", description="1 fault → 0.7."
    )
    trapped_two: float = Field(
        1.0, ge=0, le=1, title="Trapped: x for two or more", description="≥ 2 → 1."
    )
    usage_window_days: int = Field(
        30,
        ge=1,
        le=365,
        title="Usage window (days)",
        description="Runs per day are averaged over this window.",
    )
    health_baseline_days: int = Field(
        60,
        ge=3,
        le=730,
        title="Health baseline (days)",
        description="Days before the recent window that form the elevator's own baseline.",
    )
    health_min_baseline_days: int = Field(
        7,
        ge=3,
        le=730,
        title="Health: fewest baseline days",
        description=(
            "An indicator with fewer baseline days (values before the recent window) gives no"
            " z-score: the plan says 'not enough baseline' for it. A week holds one weekday and"
            " weekend cycle; a median and MAD of fewer values mean little."
        ),
    )
    health_recent_days: int = Field(
        7,
        ge=1,
        le=90,
        title="Health recent window (days)",
        description="The trend is the median z-score of these last days against the baseline.",
    )
    health_z_full: float = Field(
        3.0,
        gt=0,
        le=20,
        title="Health: z-score of x = 1",
        description="z ≤ 0 maps to 0, z ≥ this to 1, linear between.",
    )
    vibration_window: int = Field(
        25,
        ge=3,
        le=10_000,
        title="Vibration indicator detrend window (samples)",
        description="Moving-average window removed before the kurtosis (bench.milan: 25 samples at 100 Hz).",
    )
    door_cycle_max_s: float = Field(
        120.0,
        gt=0,
        le=3600,
        title="Door-cycle time indicator: longest cycle counted (s)",
        description=(
            "A door cycle (leaving closed to closed again) longer than this is someone holding"
            " the door and is left out of the day's median door-cycle time."
        ),
    )
    missing_x: float = Field(
        0.5,
        ge=0,
        le=1,
        title="x of a factor without data",
        description="Assumed value of a factor whose inputs are missing (shown as assumed in the plan).",
    )

    # -- overrides and ticket triggers
    p1_override_days: int = Field(
        90,
        ge=0,
        le=3650,
        title="P1 override period (days)",
        description="After any P1 fault the interval is at most p1_override_interval_days for this long.",
    )
    p1_override_interval_days: int = Field(
        15,
        ge=1,
        le=365,
        title="P1 override interval (days)",
        description="elevators.md: 15 days for 90 days.",
    )
    withdraw_trapped_count: int = Field(
        2,
        ge=1,
        le=100,
        title="Trapped faults that withdraw on-demand status",
        description="This many trapped faults within withdraw_window_days withdraw it and notify the bureau.",
    )
    withdraw_window_days: int = Field(
        30,
        ge=1,
        le=3650,
        title="Withdrawal window (days)",
        description="elevators.md: two trapped in 30 days.",
    )
    ticket_lead_days: int = Field(
        3,
        ge=0,
        le=60,
        title="Ticket lead time (days)",
        description="Maintenance tickets are created this many days before their due date.",
    )
    health_ticket_sigma: float = Field(
        3.0,
        gt=0,
        le=20,
        title="Health ticket: sigma",
        description="A health indicator beyond this many standard deviations over the last 24 h opens a ticket.",
    )
    offline_ticket_hours: float = Field(
        24,
        gt=0,
        le=8760,
        title="Offline ticket after (h)",
        description="A terminal offline this long opens an on-demand ticket.",
    )
    quarterly_days: int = Field(
        90, ge=1, le=3650, title="Quarterly items every (days)", description="90."
    )
    half_yearly_days: int = Field(
        180, ge=1, le=3650, title="Half-yearly items every (days)", description="180."
    )
    yearly_days: int = Field(
        365, ge=1, le=3650, title="Yearly items every (days)", description="365."
    )

    @field_validator("credit_ratings")
    @classmethod
    def _ratings(cls, value: list[str]) -> list[str]:
        bad = [r for r in value if r not in ("A", "B", "C", "D")]
        if bad:
            raise ValueError(f"credit ratings are A, B, C or D, not {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MaintenancePolicy:
        if not self.band_low_below <= self.band_mid_below <= self.band_high_below:
            raise ValueError("band_low_below <= band_mid_below <= band_high_below is required")
        total = (
            self.weight_age
            + self.weight_fault_rate
            + self.weight_trapped
            + self.weight_usage
            + self.weight_health
            + self.weight_firm
            + self.weight_management
        )
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"the risk weights must add up to 1 (they add up to {total:g})")
        if len(self.age_years) != 3 or sorted(self.age_years) != self.age_years:
            raise ValueError("age_years: three increasing limits, e.g. [5, 10, 15]")
        if len(self.age_values) != 2:
            raise ValueError("age_values: two values, for the two middle bands")
        if self.health_min_baseline_days > self.health_baseline_days:
            raise ValueError(
                f"health_min_baseline_days ({self.health_min_baseline_days}) cannot exceed"
                f" health_baseline_days ({self.health_baseline_days})"
            )
        return self


POLICY_FIELDS = frozenset(MaintenancePolicy.model_fields)


class MaintenanceSettings(MaintenancePolicy):
    """Fleet policy, per-elevator overrides and the scheduler."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        True,
        title="Run the planner",
        description="The elevators component recomputes plans daily and on P1/P2 faults.",
    )
    daily_at_hour: int = Field(
        2,
        ge=0,
        le=23,
        title="Daily pass hour (UTC)",
        description="The daily recomputation starts at this hour; a missed pass runs at the next start.",
    )
    poll_s: float = Field(
        10,
        gt=0,
        le=3600,
        title="Trigger poll interval (s)",
        description="How often the scheduler takes fault triggers and opens due tickets.",
    )
    per_elevator: dict[str, dict[str, Any]] = Field(
        {},
        title="Per-elevator maintenance policy",
        description=(
            'Overrides keyed by elevator_id: [elevators.maintenance.per_elevator."3101..."] '
            "statutory_interval_days = 10. Any policy field above may be set."
        ),
    )

    @model_validator(mode="after")
    def _check_per_elevator(self) -> MaintenanceSettings:
        for elevator_id, overrides in self.per_elevator.items():
            if not is_valid_id(elevator_id):
                raise ValueError(f"per_elevator: {elevator_id!r} is not a valid elevator_id")
            unknown = set(overrides) - POLICY_FIELDS
            if unknown:
                raise ValueError(
                    f"per_elevator.{elevator_id}: unknown policy fields {', '.join(sorted(unknown))}"
                )
            try:
                self.policy_for(elevator_id)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "policy"
                raise ValueError(f"per_elevator.{elevator_id}: {where}: {first['msg']}") from None
        return self

    @cached_property
    def fleet_policy(self) -> MaintenancePolicy:
        """The policy of an elevator without overrides; built once (settings are frozen and
        nothing mutates a policy)."""
        return MaintenancePolicy.model_validate(
            {k: v for k, v in self.model_dump().items() if k in POLICY_FIELDS}
        )

    def policy_for(self, elevator_id: str) -> MaintenancePolicy:
        """The effective policy of one elevator (fleet < per_elevator)."""
        overrides = self.per_elevator.get(elevator_id)
        if not overrides:
            return self.fleet_policy
        merged = {k: v for k, v in self.model_dump().items() if k in POLICY_FIELDS}
        merged.update(overrides)
        return MaintenancePolicy.model_validate(merged)
