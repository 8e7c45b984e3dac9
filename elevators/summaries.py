"""Alert summaries in plain words, for the people who read them (firms, supervisors)."""

from __future__ import annotations

from brightwatch.contract.codes import ELEVATOR_CATALOGUE
from brightwatch.elevators.config import RuleConfig
from brightwatch.elevators.state import Sample

_WHAT = {
    "TRAPPED_OUT_ZONE": "Passenger trapped between floors",
    "TRAPPED_IN_ZONE": "Passenger trapped at a landing",
    "STOP_OUT_ZONE": "Car stopped between floors",
    "UCM": "Unintended car movement",
    "DOOR_OPEN_RUN": "Door opened while running",
    "OVERTRAVEL_TOP": "Overtravel at the top",
    "OVERTRAVEL_BOTTOM": "Overtravel at the bottom",
    "OVERSPEED": "Overspeed",
    "SAFETY_CIRCUIT": "Safety circuit open",
    "DOOR_CLOSE_FAIL": "Door failed to close",
    "DOOR_OPEN_FAIL": "Door failed to open",
    "DOOR_CYCLING": "Door opening and closing repeatedly",
    "RUNTIME_LIMITER": "Motor run-time limiter",
    "FLOOR_LOST": "Floor position lost",
    "RESTART_BLOCK": "Restart blocked",
    "POWER_FAIL": "Power failure",
    "ALARM_BUTTON": "Alarm button",
    "MODE_CHANGE": "Service mode changed",
    "OFFLINE": "Terminal offline",
}


def summary(code: str, active: bool, why: str, sample: Sample | None, cfg: RuleConfig) -> str:
    what = _WHAT.get(code, f"Controller event {code}")
    entry = ELEVATOR_CATALOGUE.get(code)
    if entry is not None:
        what += f" ({entry.name_zh})"
    where = ""
    if sample is not None and code not in ("OFFLINE", "MODE_CHANGE", "POWER_FAIL"):
        where = f" at floor {sample.floor}"
        if code == "OVERSPEED" and cfg.rated_speed:
            where += f", {sample.speed:.2f} m/s of rated {cfg.rated_speed:g} m/s"
        elif sample.speed >= cfg.stopped_speed:
            where += f", {sample.speed:.2f} m/s"
    if code == "MODE_CHANGE" and active:
        return f"{what}: now in {why.replace('_', ' ')} mode"
    if not active:
        return f"{what}: cleared, {why}"
    return f"{what}{where}: {why}"
