"""Settings of the kitchen statistics (section `[alerts.stats]`): the hygiene score's
weights and the red/black list thresholds. The formula is in alerts.stats.__doc__."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StatsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window_days: int = Field(
        30,
        ge=1,
        le=366,
        title="Default window",
        description="Days covered when a request gives no `since`.",
    )
    rollup_every_s: int = Field(
        300,
        ge=30,
        le=900,
        title="Rollup interval",
        description=(
            "How often camera hours are rolled up per camera and day (camera_hours_daily);"
            " the current day's provisional row serves requests while at most 15 min old."
        ),
    )
    tier_weights: dict[str, float] = Field(
        default_factory=lambda: {"T1": 5.0, "T2": 3.0, "T3": 1.0},
        title="Tier weights",
        description="Weight of a confirmed violation of each tier in the violation component.",
    )
    violation_saturation: float = Field(
        50.0,
        gt=0,
        title="Violation saturation",
        description="Weighted confirmed violations per 1,000 camera-hours at which the violation component reaches 0.",
    )
    weight_violations: float = Field(0.5, ge=0, le=1, title="Weight: violations")
    weight_rectification: float = Field(0.3, ge=0, le=1, title="Weight: on-time rectification")
    weight_online: float = Field(0.2, ge=0, le=1, title="Weight: camera online rate")
    red_list_min_score: float = Field(
        90.0,
        ge=0,
        le=100,
        title="Red list (红榜) score",
        description="Lowest score on the red (honour) list.",
    )
    red_list_min_online_rate: float = Field(
        0.95,
        ge=0,
        le=1,
        title="Red list online rate",
        description="kitchens.md: target online rate ≥ 95 %.",
    )
    black_list_max_score: float = Field(
        60.0,
        ge=0,
        le=100,
        title="Black list (黑榜) score",
        description="Kitchens scoring below this are black-listed.",
    )

    min_observed_hours: float = Field(
        8.0,
        ge=0,
        title="Observed time for a grade",
        description=(
            "Camera-hours within operating hours a kitchen needs in the window to get a"
            ' hygiene score and grade; below it the kitchen shows "no data", never a grade'
            " it has not earned."
        ),
    )
    coverage_min_online_rate: float = Field(
        0.5,
        ge=0,
        le=1,
        title="Coverage online share",
        description=(
            "A kitchen counts as covered (bright-kitchen coverage) when it streamed in the"
            " window and its camera online rate in operating hours is at least this share."
        ),
    )

    @model_validator(mode="after")
    def _weights(self) -> StatsSettings:
        total = self.weight_violations + self.weight_rectification + self.weight_online
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"score weights must add up to 1 (they add up to {total:g})")
        if set(self.tier_weights) != {"T1", "T2", "T3"}:
            raise ValueError("tier_weights needs exactly T1, T2 and T3")
        return self
