"""A health indicator against the elevator's own healthy baseline: a robust z-score.

A raw indicator (the vibration kurtosis, a door-cycle time) does not transfer from one
lift to another: on the Milan trips the same indicator that separates faulty from
healthy trips on one lift is near chance on another, whose healthy trips vibrate more.
So each lift is scored against itself: z = (value − median) / σ̂ of the lift's own
earlier known-good values, σ̂ = 1.4826 × MAD (the median absolute deviation, scaled to a
normal σ), so that a few bad values inside the baseline move neither the centre nor the
spread much. A lift with fewer than `min_baseline` known-good values gets no number: it
says "not enough baseline".

`online_deviations` is the same scoring replayed over a lift's history in time order, as
the planner sees it in production: each value is scored against the known-good values
strictly before it (never itself, never a later one), optionally per group (the trip's
direction).

May import: the standard library.
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

# MAD of a normal distribution = 0.6745 σ
MAD_TO_SIGMA = 1.4826
# a baseline this flat is measurement noise, not a spread to divide by
MIN_SIGMA_RATIO = 0.05
NOT_ENOUGH_BASELINE = "not enough baseline"


@dataclass(frozen=True)
class Deviation:
    """A value against a baseline: `z` is None when the baseline is too short."""

    z: float | None
    baseline_n: int
    needed: int
    median: float | None = None
    sigma: float | None = None

    @property
    def enough(self) -> bool:
        return self.z is not None

    def explain(self) -> str:
        if self.z is None:
            return f"{NOT_ENOUGH_BASELINE} ({self.baseline_n} of {self.needed} values)"
        return (
            f"z = {self.z:+.2f} against the median {self.median:.4g} (σ {self.sigma:.3g})"
            f" of {self.baseline_n} earlier known-good values"
        )


def robust_scale(baseline: Sequence[float], min_sigma: float = 0.0) -> tuple[float, float]:
    """(median, σ̂) of a non-empty baseline; σ̂ is at least `min_sigma` (the indicator's own
    noise, which a short flat baseline does not show) and 5 % of |median|."""
    if not baseline:
        raise ValueError("an empty baseline has no scale")
    centre = statistics.median(baseline)
    mad = statistics.median(abs(v - centre) for v in baseline)
    sigma = max(MAD_TO_SIGMA * mad, MIN_SIGMA_RATIO * abs(centre), min_sigma, 1e-9)
    return centre, sigma


def deviation(
    value: float, baseline: Sequence[float], min_baseline: int, min_sigma: float = 0.0
) -> Deviation:
    """`value` as a robust z-score against `baseline` (the lift's earlier known-good
    values); no z when the baseline holds fewer than `min_baseline` values."""
    if min_baseline < 1:
        raise ValueError(f"min_baseline must be at least 1, not {min_baseline}")
    if min_sigma < 0:
        raise ValueError(f"min_sigma must not be negative, not {min_sigma}")
    if len(baseline) < min_baseline:
        return Deviation(None, len(baseline), min_baseline)
    centre, sigma = robust_scale(baseline, min_sigma)
    return Deviation((value - centre) / sigma, len(baseline), min_baseline, centre, sigma)


@dataclass(frozen=True)
class Observation:
    """One value of a lift's history: a trip's (or a day's) indicator."""

    at: Any  # orderable: epoch seconds, a datetime, a date
    value: float
    known_good: bool  # may join the baseline of later observations
    group: Hashable = None  # scored only against its own group (e.g. the trip's direction)


def online_deviations(
    history: Sequence[Observation],
    min_baseline: int,
    max_baseline: int,
    min_sigma: float = 0.0,
) -> list[Deviation]:
    """Each observation of one lift scored against the last `max_baseline` known-good
    observations of its group that are strictly earlier; in the order given."""
    if max_baseline < min_baseline:
        raise ValueError(f"max_baseline {max_baseline} is below min_baseline {min_baseline}")
    order = sorted(range(len(history)), key=lambda i: history[i].at)
    out: list[Deviation | None] = [None] * len(history)
    good: dict[Hashable, list[Observation]] = {}
    k = 0
    while k < len(order):
        # observations at the same instant see none of each other
        same = [order[k]]
        while (
            k + len(same) < len(order) and history[order[k + len(same)]].at == history[order[k]].at
        ):
            same.append(order[k + len(same)])
        for i in same:
            o = history[i]
            base = [b.value for b in good.get(o.group, [])[-max_baseline:]]
            out[i] = deviation(o.value, base, min_baseline, min_sigma)
        for i in same:
            if history[i].known_good:
                good.setdefault(history[i].group, []).append(history[i])
        k += len(same)
    return [d for d in out if d is not None]
