"""Settings of the kitchen vision worker (section `[vision]`, env `BW_VISION__...`).

Which model does what is configuration (kitchens.md): `[vision.classes.<model>]` maps a
model's class names to violation codes (`"*"` for every model), `[vision.attributes]`
the crop classifiers' labels, `[vision.rules.<CODE>]` the confirmation of each code
(partial tables merge onto the defaults), `[vision.cameras."<site>/<camera>"]` zones and
schedules beside (and over) the registry's.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from brightwatch.contract.codes import KITCHEN_CATALOGUE
from brightwatch.mqttlink.kinds import CONSUMER_KIND_DESCRIPTION, ConsumerKind
from brightwatch.vision.detector.spec import ModelSpec
from brightwatch.vision.rules.config import (
    AttributeRule,
    ClassRule,
    ConfirmRule,
    HealthRule,
    default_rules,
)
from brightwatch.vision.tiles import InputPolicy


def default_classes() -> dict[str, dict[str, ClassRule]]:
    """Class names -> codes for any model that has them (kitchens.md, violation catalogue).

    COCO gives `person` and `cell phone` (PHONE: a phone on a person's hands or upper
    body); `cat` and `dog` are context only (RODENT rejects a cat). The rat model's `rat`
    (and `mouse` where a model means the animal; COCO's `mouse` is a computer mouse, so
    it is unmapped for `coco`) -> RODENT. Face-mask and hard-hat/work-wear models give
    NO_MASK, NO_HAT, NO_UNIFORM directly. SMOKING, NO_GLOVES, BIN_OPEN, FIRE_UNATTENDED
    work the day a bureau brings a model with those classes.
    """
    person = ClassRule(person=True)
    return {
        "*": {
            "person": person,
            "cell phone": ClassRule(code="PHONE", near="person", region="upper", min_score=0.3),
            "phone": ClassRule(code="PHONE", near="person", region="upper", min_score=0.3),
            # a "rat" on a person is the rat model mistaking a face, a back or a baker
            # (issue 12: 38 % of people photos); a rat on the floor beside one still counts
            "rat": ClassRule(code="RODENT", rejects=["cat", "person"], min_score=0.3),
            "mouse": ClassRule(code="RODENT", rejects=["cat", "person"], min_score=0.3),
            "cockroach": ClassRule(code="RODENT", min_score=0.3),
            "without_mask": ClassRule(code="NO_MASK", min_score=0.4),
            "mask_weared_incorrect": ClassRule(code="NO_MASK", min_score=0.4),
            "no_mask": ClassRule(code="NO_MASK", min_score=0.4),
            "no_helmet": ClassRule(code="NO_HAT", min_score=0.4),
            "no_hat": ClassRule(code="NO_HAT", min_score=0.4),
            "no_wear": ClassRule(code="NO_UNIFORM", min_score=0.4),
            "no_uniform": ClassRule(code="NO_UNIFORM", min_score=0.4),
            "hand": ClassRule(code="NO_GLOVES", unless="glove", min_score=0.4),
            "cigarette": ClassRule(code="SMOKING", near="person", region="head", min_score=0.35),
            "bin_open": ClassRule(code="BIN_OPEN", zone_kind="bin", min_score=0.4),
            "open_bin": ClassRule(code="BIN_OPEN", zone_kind="bin", min_score=0.4),
            "fire": ClassRule(
                code="FIRE_UNATTENDED", zone_kind="stove", unattended=True, min_score=0.4
            ),
            "flame": ClassRule(
                code="FIRE_UNATTENDED", zone_kind="stove", unattended=True, min_score=0.4
            ),
        },
        # COCO-80: `mouse` is the computer mouse
        "coco": {"mouse": ClassRule()},
    }


def default_attributes() -> dict[str, AttributeRule]:
    # two-stage: the face found in each person's head area -> the project's mask
    # classifier; no face visible -> `unknown` (vision.heads)
    return {
        "mask": AttributeRule(
            classifier="mask",
            on="person",
            region="face",
            labels={"without_mask": "NO_MASK", "mask_weared_incorrect": "NO_MASK"},
            min_score=0.7,
            min_crop_px=16,
        )
    }


class CameraOverride(BaseModel):
    """Per-camera settings beside the registry row (the registry's zones win by name)."""

    model_config = ConfigDict(extra="forbid")

    zones: list[dict[str, Any]] = Field(
        default_factory=list,
        title="Zones",
        description="Like the registry's: {name, kind (station|restricted|bin|stove|work_area), polygon [[x, y], ...] in 0..1, hours [...]}.",
    )
    schedules: dict[str, Any] = Field(
        default_factory=dict,
        title="Schedules",
        description="operating_hours / night_hours / working_hours overriding the site's (same shapes as the registry).",
    )
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        title="Rule overrides",
        description='[vision.cameras."site/cam".rules.PHONE] min_duration_s = 5, ...: merged onto the fleet rules.',
    )
    work_area: str | None = Field(
        None, title="Work area", description="Overrides the registry's work area."
    )
    input: InputPolicy | None = Field(
        None,
        title="Detector input",
        description="auto | full | tiles for this camera (default: [vision] input).",
    )


class VisionSettings(BaseModel):
    """Detector backends, class-to-violation mappings, confirmation defaults, cameras."""

    model_config = ConfigDict(extra="forbid")

    models: dict[str, ModelSpec] = Field(
        default_factory=dict,
        title="Models",
        description="Named detectors ([vision.models.<name>]: path, backend, conf, class_scores, imgsz, device, threads, names); BW_MODEL may name one. Unconfigured names resolve to BW_DATA_DIR/models/<name>.onnx, then the built-in `coco`.",
    )
    classifiers: dict[str, ModelSpec] = Field(
        default_factory=dict,
        title="Attribute classifiers",
        description="Named crop classifiers ([vision.classifiers.<name>]: path, class_scores, device, threads); `mask` defaults to the project's models/mask_classifier.onnx.",
    )
    input: InputPolicy = Field(
        "auto",
        title="Detector input",
        description="How the detectors see a frame: full (shrunk whole to the model's input), tiles (square tiles of the frame's height, overlapping, plus the whole frame), auto (tiles when the frame is taller than 2.25 model inputs: above 1440p with the default 640 px detector, above 720p with a 320 px one; else full). Per camera: [vision.cameras.\"site/cam\"] input.",
    )
    detectors: list[str] = Field(
        default_factory=list,
        title="More central detectors",
        description='Model names or files run on every frame beside BW_MODEL (e.g. BW_MODEL=coco and ["rat"]). Frames of cameras that send edge detections are not run again.',
    )
    classes: dict[str, dict[str, ClassRule]] = Field(
        default_factory=default_classes,
        title="Model classes to violations",
        description="[vision.classes.<model>] class name -> {code, person, near, region, unless, zone_kind, unattended, rejects, min_score}; model `*` applies to every model; per-model tables win. Partial tables merge onto the defaults.",
    )
    attributes: dict[str, AttributeRule] = Field(
        default_factory=default_attributes,
        title="Attribute classifiers (two-stage)",
        description="[vision.attributes.<name>] {classifier, on, region, labels {label = CODE}, min_score, min_crop_px, min_sharpness, enabled}.",
    )
    rules: dict[str, ConfirmRule] = Field(
        default_factory=default_rules,
        title="Confirmation per code",
        description="[vision.rules.<CODE>] n, m, min_duration_s, median_score, realarm_s, require_motion, min_motion, night_score_factor, special_room_tier, clears, enabled. Partial tables merge onto the defaults.",
    )
    health: HealthRule = Field(
        default_factory=HealthRule,
        title="Frame health",
        description="CAMERA_OBSTRUCTED thresholds.",
    )
    offline_after_s: float = Field(
        300.0,
        gt=0,
        le=86_400,
        title="Offline after (s)",
        description="CAMERA_OFFLINE when no frame came for this long during operating hours (kitchens.md: 5 min).",
    )
    cameras: dict[str, CameraOverride] = Field(
        default_factory=dict,
        title="Per-camera settings",
        description='[vision.cameras."<site_id>/<camera_id>"]: zones, schedules, rule overrides, work area.',
    )
    frame_retention_days: float = Field(
        15.0,
        gt=0,
        le=3650,
        title="Raw frame retention (days)",
        description="Archived frames and evidence of unreviewed codes (camera health) are deleted after this (kitchens.md: 15 days; at least 7).",
    )
    archive_every_s: float = Field(
        60.0,
        ge=0,
        le=86_400,
        title="Archive a frame every (s)",
        description="Keep one raw frame per camera this often under BW_DATA_DIR/frames/<site>/<camera>/<day>/ (0: none); a recent frame is always in snapshots/.",
    )
    cleanup_interval_s: float = Field(
        3600.0,
        gt=0,
        le=86_400,
        title="Cleanup interval (s)",
        description="How often expired frames and evidence are deleted.",
    )
    edge_frame_wait_s: float = Field(
        30.0,
        gt=0,
        le=600,
        title="Wait for the evidence frame (s)",
        description="After edge detections that raised a violation, how long the evidence frame (same `ts`) is awaited.",
    )
    mqtt_client: ConsumerKind = Field(
        "paho", title="MQTT consumer", description=CONSUMER_KIND_DESCRIPTION
    )
    batch_size: int = Field(
        32,
        ge=1,
        le=10_000,
        title="Batch size",
        description="MQTT messages per transaction (frames are inferred in batches of up to `infer_batch`).",
    )
    batch_wait_ms: int = Field(
        50, ge=0, le=10_000, title="Batch wait (ms)", description="How long a batch waits to fill."
    )
    receive_maximum: int = Field(
        256,
        ge=1,
        le=65_535,
        title="Receive maximum",
        description="Unacknowledged messages in flight (frames are large: this bounds memory).",
    )
    infer_batch: int = Field(
        8, ge=1, le=256, title="Inference batch", description="Frames per detector call."
    )
    shed_after_s: float = Field(
        10.0,
        ge=0,
        le=86_400,
        title="Shed frames later than (s)",
        description=(
            "While the worker is behind (a frame waited in it a quarter of this or more), a"
            " frame for central inference that reaches the detectors this long after it was"
            " taken (the camera's clock corrected by its observed offset: time in the"
            " broker's queue, in an agent's spool and in this worker) is looked at for the"
            " camera's presence and picture health only, not inferred. A node over its"
            " capacity then infers a share of every camera's frames instead of falling"
            " further behind (counted in brightwatch_vision_frames_shed_total and in the"
            " `vision` heartbeat); a worker that is not behind infers every frame, a"
            " replayed spool included. 0: every frame is inferred however late."
        ),
    )
    threads: int | None = Field(
        None,
        ge=1,
        le=256,
        title="Inference threads",
        description="Threads per detector run (OpenVINO INFERENCE_NUM_THREADS, ONNX Runtime intra-op threads; default: 1 when runs are parallel, else one per core).",
    )
    parallel: int | None = Field(
        None,
        ge=1,
        le=64,
        title="Parallel inference runs",
        description="Frames of a batch split over this many concurrent runs (default: one per core).",
    )
    tick_interval_ms: int = Field(
        1000,
        ge=10,
        le=60_000,
        title="Tick interval (ms)",
        description="How often time-only rules (offline, long durations) are evaluated.",
    )
    partitions: int = Field(
        0,
        ge=0,
        le=4096,
        title="Camera partitions of the vision replicas",
        description=(
            "0: this vision worker handles every camera. N: the cameras fall into N "
            "partitions owned through leases in PostgreSQL, shared out among the running "
            "vision replicas (db/partitions.py); every replica receives every frame, so "
            "the broker's outgoing frame traffic grows with the replicas."
        ),
    )
    lease_ttl_s: float = Field(
        10,
        ge=2,
        le=300,
        title="Partition lease time",
        description="Renewed every third of this; a replica silent for two lease times loses its cameras.",
    )
    standby_max_messages: int = Field(
        300,
        ge=0,
        le=100_000,
        title="Standby frames kept",
        description=(
            "Frames and detections of cameras owned by other replicas kept for a takeover "
            "(for 3 × lease_ttl_s + 10 s), at most this many (a frame is about 100 KB)."
        ),
    )
    registry_ttl_s: float = Field(
        60.0,
        ge=0,
        le=86_400,
        title="Registry refresh (s)",
        description="Camera and site rows are read again after this.",
    )
    write_snapshots: bool = Field(
        True,
        title="Write snapshots",
        description="Write the latest frame of each camera to BW_DATA_DIR/snapshots/<site>/<camera>.jpg (the public page's source).",
    )
    snapshot_every_s: float = Field(
        5.0,
        ge=0,
        le=3600,
        title="Snapshot every (s)",
        description="At most one snapshot write per camera this often, in capture time (the public page refreshes its picture every 10 s by default); 0: every frame.",
    )

    @model_validator(mode="before")
    @classmethod
    def _merge_defaults(cls, data: Any) -> Any:
        """Partial `[vision.rules.X]` / `[vision.classes.M]` tables merge onto the defaults."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("rules"), dict):
            merged: dict[str, Any] = {k: v.model_dump() for k, v in default_rules().items()}
            for code, given in data["rules"].items():
                base = merged.get(code, {})
                merged[code] = {
                    **base,
                    **(
                        given.model_dump(exclude_unset=True)
                        if isinstance(given, BaseModel)
                        else given
                    ),
                }
            data["rules"] = merged
        if isinstance(data.get("classes"), dict):
            classes: dict[str, Any] = {m: dict(t) for m, t in default_classes().items()}
            for model, table in data["classes"].items():
                classes[model] = {**classes.get(model, {}), **table}
            data["classes"] = classes
        return data

    @field_validator("rules")
    @classmethod
    def _codes(cls, value: dict[str, ConfirmRule]) -> dict[str, ConfirmRule]:
        unknown = sorted(set(value) - set(KITCHEN_CATALOGUE))
        if unknown:
            raise ValueError(f"not kitchen violation codes: {', '.join(unknown)}")
        return value
