"""What the rules read: per-code confirmation rules, the model -> violation mapping, the
attribute classifiers' labels, frame-health limits (typed, the `[vision]` settings
reuse them), and `CameraConfig`, everything resolved for one camera (its zones, its
site's schedules) at the time its registry row was read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from brightwatch.contract.codes import CAMERA_OBSTRUCTED, KITCHEN_CATALOGUE
from brightwatch.i18n import DEFAULT_LOCALE

Region = Literal["any", "upper", "head", "face"]


def _check_code(value: str | None) -> str | None:
    if value is not None and value not in KITCHEN_CATALOGUE:
        raise ValueError(
            f"{value!r} is not a kitchen violation code ({', '.join(KITCHEN_CATALOGUE)})"
        )
    return value


class ConfirmRule(BaseModel):
    """How one violation code is confirmed (kitchens.md, "How to confirm")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n: int = Field(
        3,
        ge=1,
        le=100,
        title="N",
        description="Frames, of the last M processed, in which the condition must hold.",
    )
    m: int = Field(
        5, ge=1, le=100, title="M", description="Window of processed frames of the camera."
    )
    min_duration_s: float = Field(
        3.0,
        ge=0,
        le=86_400,
        title="Minimum duration (s)",
        description="Capture time from the first frame of the run to the confirming frame.",
    )
    median_score: float = Field(
        0.4,
        ge=0,
        le=1,
        title="Median score",
        description="The median score of the supporting track's recent frames must reach this.",
    )
    realarm_s: float = Field(
        30.0,
        ge=0,
        le=86_400,
        title="Re-alarm after (s)",
        description="An episode ends once the condition has been absent this long (and in all of the last M frames); only then can the same violation raise again. One alert per episode.",
    )
    require_motion: bool = Field(
        False,
        title="Requires motion",
        description="The supporting track must have moved (RODENT: 'seen with motion'; a picture of a rat on a poster does not).",
    )
    min_motion: float = Field(
        0.02,
        ge=0,
        le=1,
        title="Minimum motion",
        description="Travel of the track's centre, as a fraction of the picture's diagonal.",
    )
    night_score_factor: float = Field(
        1.0,
        gt=0,
        le=1,
        title="Night score factor",
        description="At night (site night hours) the median score bar is multiplied by this (RODENT: 'all hours, weighted to night').",
    )
    special_room_tier: str | None = Field(
        None,
        title="Tier in special rooms",
        description="Tier when the camera's work area is `special_room` (NO_MASK: T2).",
    )
    clears: bool = Field(
        False,
        title="Clears the alert",
        description="When the episode ends the alert is resolved (camera health); violations stay open for review instead, and a later episode adds to the same open alert.",
    )
    enabled: bool = Field(
        True, title="Enabled", description="Off: the code is never raised for this camera."
    )

    def tier(self, code: str, work_area: str | None) -> str:
        if work_area == "special_room" and self.special_room_tier:
            return self.special_room_tier
        return KITCHEN_CATALOGUE[code].severity.value


def default_rules() -> dict[str, ConfirmRule]:
    """kitchens.md defaults, code by code (N = 3 of M = 5 unless the catalogue says more)."""
    return {
        "RODENT": ConfirmRule(
            n=2, m=5, min_duration_s=0, require_motion=True, night_score_factor=0.75
        ),
        "NO_MASK": ConfirmRule(min_duration_s=3, realarm_s=30, special_room_tier="T2"),
        "NO_HAT": ConfirmRule(min_duration_s=3, realarm_s=30),
        "NO_UNIFORM": ConfirmRule(min_duration_s=3, realarm_s=30),
        "NO_GLOVES": ConfirmRule(min_duration_s=3),
        "SMOKING": ConfirmRule(min_duration_s=3),
        "PHONE": ConfirmRule(min_duration_s=3),
        "BIN_OPEN": ConfirmRule(min_duration_s=60),
        "STRANGER": ConfirmRule(min_duration_s=3),
        "LEAVE_POST": ConfirmRule(min_duration_s=300, median_score=0),
        "FIRE_UNATTENDED": ConfirmRule(min_duration_s=60),
        CAMERA_OBSTRUCTED: ConfirmRule(min_duration_s=60, median_score=0, realarm_s=0, clears=True),
    }


class ClassRule(BaseModel):
    """What a detector class means: a violation code and the conditions that make it one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str | None = Field(
        None,
        title="Violation code",
        description="Catalogue code this class stands for; unset for context classes (person, glove, cat).",
    )
    person: bool = Field(
        False,
        title="Is a person",
        description="Counts as a person for zones (STRANGER, LEAVE_POST, FIRE_UNATTENDED) and as the `near` target `person`.",
    )
    near: str | None = Field(
        None,
        title="Must overlap",
        description="Class (or `person`) whose box region must hold this object: PHONE needs a person's upper body, SMOKING a person's head.",
    )
    region: Region = Field(
        "any",
        title="Region of the `near` box",
        description="upper: top 60 % (hands, torso); head: top 25 %; any: the whole box.",
    )
    unless: str | None = Field(
        None,
        title="Cancelled by",
        description="Class whose box overlapping this one cancels it (NO_GLOVES: a `glove` on the hand; one lying nearby does not count).",
    )
    zone_kind: str | None = Field(
        None,
        title="Zone kind",
        description="Only inside a zone of this kind (BIN_OPEN: `bin`, FIRE_UNATTENDED: `stove`).",
    )
    unattended: bool = Field(
        False,
        title="Unattended",
        description="Only while no person stands in the same zone (FIRE_UNATTENDED).",
    )
    rejects: list[str] = Field(
        default_factory=list,
        title="Rejected when seen with",
        description="Classes that veto this one where their boxes overlap (RODENT rejects `cat`).",
    )
    min_score: float = Field(
        0.25,
        ge=0,
        le=1,
        title="Minimum score",
        description="Detections of this class scoring lower are dropped.",
    )

    _code = field_validator("code")(classmethod(lambda cls, v: _check_code(v)))


class AttributeRule(BaseModel):
    """A crop classifier (two-stage): which boxes it looks at and what its labels mean."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    classifier: str = Field(
        ...,
        title="Classifier",
        description="Name of a configured classifier ([vision.classifiers]) or the built-in `mask`.",
    )
    on: str = Field("person", title="Crops of", description="Class whose boxes are classified.")
    region: Region = Field(
        "head",
        title="Region",
        description="What is judged: face (the face found in the person's head area; `unknown` when none is visible), head (above that face, else the top of the box), upper, any.",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        title="Labels to codes",
        description="Classifier label -> violation code (e.g. without_mask -> NO_MASK).",
    )
    min_score: float = Field(
        0.6,
        ge=0,
        le=1,
        title="Minimum score",
        description="Classifier verdicts below this are ignored.",
    )
    min_crop_px: int = Field(
        24,
        ge=1,
        le=4096,
        title="Smallest crop (px)",
        description="Crops smaller than this (either side) are too small to judge and skipped.",
    )
    min_sharpness: float = Field(
        0.0,
        ge=0,
        title="Sharpest",
        description="Crops whose variance of the Laplacian is below this are too blurred to judge and skipped.",
    )
    enabled: bool = Field(True, title="Enabled", description="Off: the classifier is not run.")

    @field_validator("labels")
    @classmethod
    def _codes(cls, value: dict[str, str]) -> dict[str, str]:
        for code in value.values():
            _check_code(code)
        return value


class HealthRule(BaseModel):
    """CAMERA_OBSTRUCTED: the picture is almost uniform, very dark or blurred (metrics on
    a small grey copy of the frame, `vision.health`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dark_mean: float = Field(
        18.0,
        ge=0,
        le=255,
        title="Dark below",
        description="Mean grey level (0-255) under which the frame is 'very dark'.",
    )
    uniform_std: float = Field(
        6.0,
        ge=0,
        le=128,
        title="Uniform below",
        description="Standard deviation of the grey levels under which the frame is 'almost uniform' (a lens covered, a wall).",
    )
    blur_laplacian: float = Field(
        8.0,
        ge=0,
        title="Blurred below",
        description="Variance of the Laplacian of the small grey copy under which the frame is 'blurred' (0 turns the blur test off).",
    )


@dataclass(frozen=True)
class ZoneDef:
    name: str
    kind: str
    polygon: tuple[tuple[float, float], ...]
    hours: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class CameraConfig:
    """Everything the engine needs for one camera."""

    site_id: str
    camera_id: str
    rules: Mapping[str, ConfirmRule] = field(default_factory=default_rules)
    # model name -> class name -> rule; "*" applies to every model
    classes: Mapping[str, Mapping[str, ClassRule]] = field(default_factory=dict)
    attributes: Mapping[str, AttributeRule] = field(default_factory=dict)
    health: HealthRule = field(default_factory=HealthRule)
    zones: tuple[ZoneDef, ...] = ()
    work_area: str | None = None
    timezone: str = "Asia/Shanghai"
    operating_hours: tuple[Mapping[str, Any], ...] = ()
    night_hours: Mapping[str, Any] | None = None
    working_hours: tuple[Mapping[str, Any], ...] = ()  # stations without their own hours
    offline_after_s: float = 300.0
    district: str = ""
    input: str = "auto"  # vision.tiles.InputPolicy: how the detectors see its frames
    locale: str = DEFAULT_LOCALE  # the language of the summaries people read (BW_LOCALE)
    # when the camera was registered (ms): a camera never heard from is silent since then
    registered_at: int | None = None

    def class_rule(self, model: str, label: str) -> ClassRule | None:
        name = model.split("@", 1)[0]
        table = self.classes.get(name)
        if table is not None and label in table:
            return table[label]
        return self.classes.get("*", {}).get(label)

    def rule(self, code: str) -> ConfirmRule | None:
        found = self.rules.get(code)
        return found if found is not None and found.enabled else None
