"""Runs a rules scenario file (scenarios/*.json): a camera, a list of timed steps, the
events expected. Times `t` are ms after BASE (12:00 in Shanghai on a Sunday)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from brightwatch.vision.rules.config import CameraConfig, ConfirmRule, ZoneDef
from brightwatch.vision.rules.engine import step, tick
from brightwatch.vision.rules.observations import (
    Attribute,
    AvailabilitySeen,
    Event,
    FrameSeen,
    Health,
    Obj,
)
from brightwatch.vision.rules.state import CameraState, decode_state, encode_state, new_state
from brightwatch.vision.settings import VisionSettings

BASE = 1_795_320_000_000  # 2026-11-22T04:00:00Z, 12:00 Asia/Shanghai
SCENARIOS = Path(__file__).parent / "scenarios"


def camera(spec: dict[str, Any]) -> CameraConfig:
    vs = VisionSettings.model_validate(
        {"rules": spec.get("rules", {}), "classes": spec.get("classes", {})}
    )
    zones = tuple(
        ZoneDef(
            z["name"], z["kind"], tuple(tuple(p) for p in z["polygon"]), tuple(z.get("hours", ()))
        )  # type: ignore[misc]
        for z in spec.get("zones", ())
    )
    return CameraConfig(
        site_id="S1",
        camera_id="cam1",
        rules=vs.rules,
        classes=vs.classes,
        attributes=vs.attributes,
        health=vs.health,
        zones=zones,
        work_area=spec.get("work_area"),
        timezone=spec.get("timezone", "Asia/Shanghai"),
        operating_hours=tuple(spec.get("operating_hours", ())),
        night_hours=spec.get("night_hours", {"start": "22:00", "end": "06:00"}),
        working_hours=tuple(spec.get("working_hours", ())),
        offline_after_s=spec.get("offline_after_s", 300),
    )


def _obj(raw: Any) -> Obj:
    if isinstance(raw, dict):
        return Obj(
            raw["label"],
            raw["score"],
            tuple(raw["box"]),  # type: ignore[arg-type]
            raw.get("model", "test@1"),
            tuple(Attribute(*a) for a in raw.get("attributes", ())),
        )
    label, score, box = raw
    return Obj(label, score, tuple(box), "test@1")  # type: ignore[arg-type]


def observations(s: dict[str, Any]) -> list[Any]:
    """One step of the file, expanded (`repeat` frames `every` ms apart)."""
    out = []
    for k in range(s.get("repeat", 1)):
        t = BASE + s["t"] + k * s.get("every", 1000)
        if "online" in s:
            out.append(AvailabilitySeen(t, s["online"]))
        elif s.get("tick"):
            out.append(("tick", t))
        else:
            w, h = s.get("size", [640, 480])
            health = Health(*s["health"]) if "health" in s else Health(110.0, 50.0, 300.0)
            objects = None if s.get("health_only") else tuple(_obj(o) for o in s.get("objects", ()))
            out.append(FrameSeen(t, w, h, objects, health))
    return out


def run(spec: dict[str, Any], restart_every: int = 0) -> list[Event]:
    """All events of the scenario; `restart_every` saves and restores the state that often
    (a worker restart must not change what comes out)."""
    cfg = camera(spec.get("camera", {}))
    st: CameraState = new_state()
    events: list[Event] = []
    n = 0
    for s in spec["steps"]:
        for obs in observations(s):
            if isinstance(obs, tuple):
                st, out = tick(st, cfg, obs[1])
            else:
                st, out = step(st, obs, cfg)
            events += out
            n += 1
            if restart_every and n % restart_every == 0:
                st = decode_state(encode_state(st))
    return events


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def summary(events: list[Event]) -> list[dict[str, Any]]:
    return [
        {"code": e.code, "key": e.key, "active": e.active, "t": e.at - BASE}
        | ({"tier": e.tier} if e.active else {})
        for e in events
    ]


__all__ = ["ConfirmRule", "SCENARIOS", "load", "run", "summary"]
