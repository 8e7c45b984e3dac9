"""A car's trip between two positions: accelerate, cruise at rated speed, decelerate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Motion:
    t_start: float  # s
    x0: float  # m
    x1: float  # m
    v: float  # cruise speed, m/s
    a: float  # acceleration and deceleration, m/s²
    distance: float = field(init=False)
    t_acc: float = field(init=False)
    t_cruise: float = field(init=False)
    v_peak: float = field(init=False)
    duration: float = field(init=False)

    def __post_init__(self) -> None:
        d = abs(self.x1 - self.x0)
        self.distance = d
        if d >= self.v * self.v / self.a:
            self.t_acc = self.v / self.a
            self.t_cruise = (d - self.v * self.v / self.a) / self.v
            self.v_peak = self.v
        else:  # a short trip never reaches cruise speed
            self.t_acc = math.sqrt(d / self.a)
            self.t_cruise = 0.0
            self.v_peak = self.a * self.t_acc
        self.duration = 2 * self.t_acc + self.t_cruise

    @property
    def sign(self) -> int:
        return 1 if self.x1 >= self.x0 else -1

    @property
    def t_end(self) -> float:
        return self.t_start + self.duration

    def travelled(self, t: float) -> tuple[float, float]:
        """Distance covered and speed at time t."""
        tau = min(max(t - self.t_start, 0.0), self.duration)
        a, ta, tc, vp = self.a, self.t_acc, self.t_cruise, self.v_peak
        if tau < ta:
            return 0.5 * a * tau * tau, a * tau
        if tau < ta + tc:
            return 0.5 * a * ta * ta + vp * (tau - ta), vp
        r = self.duration - tau
        return self.distance - 0.5 * a * r * r, a * r

    def at(self, t: float) -> tuple[float, float]:
        """Position and speed at time t."""
        s, v = self.travelled(t)
        return self.x0 + self.sign * s, v

    def time_at(self, s: float) -> float:
        """Time at which the car has covered distance s (0 <= s <= distance)."""
        s = min(max(s, 0.0), self.distance)
        a, ta, tc, vp = self.a, self.t_acc, self.t_cruise, self.v_peak
        s_acc = 0.5 * a * ta * ta
        if s <= s_acc:
            tau = math.sqrt(2 * s / a)
        elif s <= s_acc + vp * tc:
            tau = ta + (s - s_acc) / vp
        else:
            r = math.sqrt(max(0.0, 2 * (self.distance - s) / a))
            tau = self.duration - r
        return self.t_start + tau
