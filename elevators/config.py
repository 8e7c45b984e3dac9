"""Thresholds compiled for the engine: milliseconds, speeds, sets (built once per elevator)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from brightwatch.elevators.settings import Thresholds
from brightwatch.i18n import DEFAULT_LOCALE


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


@dataclass(frozen=True, slots=True)
class RuleConfig:
    thresholds: Thresholds
    supervised: frozenset[str]
    motion: frozenset[str]
    inhibit_on_battery: frozenset[str]
    disabled: frozenset[str]
    floor_min: int | None
    floor_max: int | None
    rated_speed: float | None
    stopped_speed: float
    over_p2_speed: float  # inf when the rated speed is unknown
    over_p1_speed: float
    ucm_speed: float
    door_open_run_speed: float
    ucm_samples: int
    door_cycles: int
    door_open_tries: int
    trapped_out_ms: int
    trapped_in_ms: int
    trapped_in_alarm_ms: int
    trapped_clear_ms: int
    stop_out_ms: int
    overspeed_ms: int
    safety_open_ms: int
    closing_ms: int
    open_max_ms: int
    opening_ms: int
    cycles_window_ms: int
    runtime_ms: int
    jump_window_ms: int
    floor_lost_clear_ms: int
    power_fail_ms: int
    alarm_ms: int
    offline_ms: int
    evidence: int
    # the language of the summaries people read (BW_LOCALE; elevators/summaries.py)
    locale: str = DEFAULT_LOCALE

    @classmethod
    def build(cls, t: Thresholds, locale: str = DEFAULT_LOCALE) -> RuleConfig:
        rated = t.rated_speed_m_s
        return cls(
            thresholds=t,
            supervised=frozenset(t.supervised_modes),
            motion=frozenset(t.motion_modes),
            inhibit_on_battery=frozenset(t.power_fail_inhibits),
            disabled=frozenset(t.disabled),
            floor_min=t.floor_min,
            floor_max=t.floor_max,
            rated_speed=rated,
            stopped_speed=t.stopped_speed_m_s,
            over_p2_speed=rated * t.overspeed_p2_ratio if rated else math.inf,
            over_p1_speed=rated * t.overspeed_p1_ratio if rated else math.inf,
            ucm_speed=t.ucm_speed_m_s,
            door_open_run_speed=t.door_open_run_speed_m_s,
            ucm_samples=t.ucm_samples,
            door_cycles=t.door_cycles,
            door_open_tries=t.door_open_tries,
            trapped_out_ms=_ms(t.trapped_out_zone_s),
            trapped_in_ms=_ms(t.trapped_in_zone_s),
            trapped_in_alarm_ms=_ms(t.trapped_in_zone_alarm_s),
            trapped_clear_ms=_ms(t.trapped_clear_s),
            stop_out_ms=_ms(t.stop_out_zone_s),
            overspeed_ms=_ms(t.overspeed_s),
            safety_open_ms=_ms(t.safety_circuit_open_s),
            closing_ms=_ms(t.door_closing_max_s),
            open_max_ms=_ms(t.door_open_max_s),
            opening_ms=_ms(t.door_opening_max_s),
            cycles_window_ms=_ms(t.door_cycles_window_s),
            runtime_ms=_ms(runtime_limit_s(t)),
            jump_window_ms=_ms(t.floor_jump_window_s),
            floor_lost_clear_ms=_ms(t.floor_lost_clear_s),
            power_fail_ms=_ms(t.power_fail_s),
            alarm_ms=_ms(t.alarm_confirm_s),
            offline_ms=_ms(t.offline_s),
            evidence=t.evidence_samples,
            locale=locale,
        )


def full_travel_s(t: Thresholds) -> float | None:
    """Bottom-to-top travel time: constant rated speed plus one acceleration ramp."""
    if t.floor_min is None or t.floor_max is None or not t.rated_speed_m_s:
        return None
    distance = (t.floor_max - t.floor_min) * t.floor_height_m
    v, a = t.rated_speed_m_s, t.acceleration_m_s2
    if distance >= v * v / a:
        return distance / v + v / a
    return 2 * math.sqrt(distance / a)  # never reaches rated speed


# GB 7588 / EN 81-1 12.10: never below 20 s, whatever the travel
RUNTIME_FLOOR_S = 20.0


def runtime_limit_s(t: Thresholds) -> float:
    """Catalogue: one run longer than min(45 s, full travel time + 10 s), at least 20 s."""
    travel = full_travel_s(t)
    if travel is None:
        return t.runtime_limit_s
    return max(
        min(t.runtime_limit_s, travel + t.runtime_margin_s), min(RUNTIME_FLOOR_S, t.runtime_limit_s)
    )
