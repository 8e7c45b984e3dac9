"""Settings of the kitchen review and rectification loop (section `[alerts.review]`).

Defaults follow kitchens.md: Hubei tiers (T1 immediate warning, T2 fix by a deadline,
T3 routine supervision), Chongqing's 2 h rectification plan and 72 h re-check, Hubei's
yellow card after 5 days overdue then red, Fuzhou's credit points per kitchen.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from brightwatch.contract.codes import CAMERA_HEALTH, KITCHEN_CATALOGUE

Card = Literal["yellow", "red", "inspection"]
Tier = Literal["T1", "T2", "T3"]
DAY = 86_400


class CardStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card: Card = Field(
        ..., title="Card", description="yellow card, red card, or an on-site inspection order."
    )
    after_overdue_s: int = Field(
        ..., ge=0, le=365 * DAY, title="After overdue", description="Seconds past the fix deadline."
    )


class TierPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notice: bool = Field(
        ...,
        title="Notice",
        description="Confirmed violations of this tier get a rectification notice and deadlines.",
    )
    plan_within_s: int | None = Field(
        None,
        ge=60,
        le=30 * DAY,
        title="Plan within",
        description="The operator submits a rectification plan within this time (Chongqing: 2 h).",
    )
    fix_within_s: int | None = Field(
        None,
        ge=60,
        le=365 * DAY,
        title="Fix within",
        description="Deadline of the rectification; the bureau re-checks then.",
    )
    cards: list[CardStep] = Field(
        default_factory=list,
        title="Overdue escalation",
        description="Cards issued as the case stays overdue.",
    )
    points: int = Field(
        ...,
        ge=0,
        le=100,
        title="Credit points",
        description="Points a confirmed violation of this tier costs (Fuzhou).",
    )
    restore_on_close: bool = Field(
        True,
        title="Restore on compliance",
        description="Give the points back when the case closes after a verified rectification (tiers with notices only: a tier without notices has no rectification).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> TierPolicy:
        if self.notice and self.fix_within_s is None:
            raise ValueError("a tier with notices needs fix_within_s")
        if not self.notice and (self.plan_within_s or self.fix_within_s or self.cards):
            raise ValueError("a tier without notices takes no deadlines or cards")
        delays = [c.after_overdue_s for c in self.cards]
        if delays != sorted(delays):
            raise ValueError("cards must be in increasing after_overdue_s")
        return self


def _ladder() -> list[CardStep]:
    # Hubei: yellow card after 5 days overdue, then red; the on-site inspection after 15
    # days is our default (kitchens.md names the step, not its time)
    return [
        CardStep(card="yellow", after_overdue_s=5 * DAY),
        CardStep(card="red", after_overdue_s=10 * DAY),
        CardStep(card="inspection", after_overdue_s=15 * DAY),
    ]


def _tiers() -> dict[Tier, TierPolicy]:
    return {
        # Chongqing: plan within 2 h, the bureau re-checks after 72 h
        "T1": TierPolicy(
            notice=True, plan_within_s=2 * 3600, fix_within_s=72 * 3600, cards=_ladder(), points=10
        ),
        # Hubei T2: fix by a deadline (3 days)
        "T2": TierPolicy(notice=True, fix_within_s=3 * DAY, cards=_ladder(), points=5),
        # Hubei T3: counted for routine supervision, no notice; the points stay
        "T3": TierPolicy(notice=False, points=2, restore_on_close=False),
    }


def _card_points() -> dict[Card, int]:
    return {"yellow": 5, "red": 10, "inspection": 0}


def _reviewed_codes() -> list[str]:
    # camera health is a technical fault, not a hygiene violation: it is not reviewed
    return [c for c in KITCHEN_CATALOGUE if c not in CAMERA_HEALTH]


class ReviewSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codes: list[str] = Field(
        default_factory=_reviewed_codes,
        title="Reviewed codes",
        description="Kitchen alert codes that enter the review queue.",
    )
    tiers: dict[Tier, TierPolicy] = Field(default_factory=_tiers, title="Tiers")
    cooldown_s: int = Field(
        600,
        ge=0,
        le=7 * DAY,
        title="Cooldown after a dismissal",
        description="A new alert of a condition dismissed as a false positive this recently does not enter the queue again.",
    )
    code_points: dict[str, int] = Field(
        default_factory=dict,
        title="Points per code",
        description="Overrides of the tier's credit points for single codes (e.g. RODENT = 15).",
    )
    card_points: dict[Card, int] = Field(
        default_factory=_card_points,
        title="Points per card",
        description="Further points each card costs; these are not restored.",
    )
    credit_start: int = Field(
        100,
        ge=1,
        le=10_000,
        title="Starting credit",
        description="Credit points of a kitchen with a clean record.",
    )
    evidence_retention_days: int = Field(
        365,
        ge=1,
        le=3650,
        title="Evidence retention after closing",
        description="kitchens.md: evidence of confirmed violations is kept until the case closes plus 1 year.",
    )
    dismissed_retention_days: int = Field(
        90,
        ge=1,
        le=3650,
        title="Dismissed evidence retention",
        description="Dismissed (false positive) evidence is kept this long as training data.",
    )
    upload_max_bytes: int = Field(
        10 * 1024 * 1024,
        ge=1024,
        le=200 * 1024 * 1024,
        title="Largest upload file",
        description="Bytes per rectification evidence file.",
    )
    upload_max_files: int = Field(
        10,
        ge=1,
        le=100,
        title="Files per upload",
        description="Most files in one rectification upload.",
    )
    tick_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        title="Clock tick",
        description="How often deadlines and overdue cases are looked at.",
    )

    @field_validator("tiers", mode="before")
    @classmethod
    def _over_defaults(cls, value: object) -> object:
        # a configuration names only what it changes: tiers and their fields merge onto the defaults
        if not isinstance(value, dict):
            return value
        merged: dict[str, object] = {k: v.model_dump() for k, v in _tiers().items()}
        for tier, policy in value.items():
            if isinstance(policy, dict) and isinstance(merged.get(tier), dict):
                merged[tier] = {**merged[tier], **policy}  # type: ignore[dict-item]
            else:
                merged[tier] = policy
        return merged

    @field_validator("card_points", mode="before")
    @classmethod
    def _cards_over_defaults(cls, value: object) -> object:
        return {**_card_points(), **value} if isinstance(value, dict) else value

    @field_validator("codes")
    @classmethod
    def _known_codes(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in KITCHEN_CATALOGUE]
        if unknown:
            raise ValueError(f"not kitchen violation codes: {', '.join(unknown)}")
        return value

    @field_validator("code_points")
    @classmethod
    def _known_point_codes(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = [c for c in value if c not in KITCHEN_CATALOGUE]
        if unknown:
            raise ValueError(f"not kitchen violation codes: {', '.join(unknown)}")
        if any(not 0 <= p <= 100 for p in value.values()):
            raise ValueError("points must be 0..100")
        return value

    @model_validator(mode="after")
    def _all_tiers(self) -> ReviewSettings:
        missing = {"T1", "T2", "T3"} - set(self.tiers)
        if missing:
            raise ValueError(f"tiers missing: {', '.join(sorted(missing))}")
        return self

    def points_for(self, code: str, tier: str) -> int:
        if code in self.code_points:
            return self.code_points[code]
        policy = self.tiers.get(tier)  # type: ignore[call-overload]
        return policy.points if policy else 0
