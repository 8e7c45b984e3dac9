"""The vibration health indicator: impulsiveness (excess kurtosis) of a detrended signal,
read against each lift's own healthy baseline.

Method of the raw indicator (fixed, see bench/RESULTS.md "Maintenance: vibration
indicator (Milan trips)"):
1. remove a centred moving average of `window` samples (the trip's acceleration profile,
   sensor offsets and slow drift are not vibration);
2. return the kurtosis (fourth standardised moment) of what is left, minus 3, so a
   Gaussian signal scores 0 and shocks (worn guide shoes, rollers, bearings) score high.

Kurtosis rather than RMS: on the Milan metro-lift trips the faulty (KO) trips do not
vibrate more on average (RMS separates them no better than chance) but carry short
shocks, which kurtosis sees.

The raw value is not a fleet-wide score: its level differs from lift to lift (and, on
the Milan trips, between up and down trips of the same lift), so it is only ever read as
a deviation from the lift's own earlier known-good values (`baseline.deviation`, a robust
z-score; "not enough baseline" when the lift has too few). The planner does this with a
terminal's `vibration_rms` samples, one indicator value a day, against the elevator's own
previous days.

What the evidence supports, said plainly (`python -m bench.milan`, bench/RESULTS.md):
- the shared Milan trips are ONE lift (AE 575), not two: its 29 faulty trips
  (2023-04-03..05-29) all precede its 35 healthy ones (2023-06-05..07-20), with no date
  where both exist. The trip date alone separates them perfectly (AUC 1.000), and so does
  the sensor's static vertical offset, which is not vibration at all (AUC 0.999);
- the healthy trips alone drift upwards with time (up trips, late half against early
  half: AUC 0.87), while the faulty period is flat (0.52);
- scored without look-ahead against its own earlier healthy trips, no faulty trip can be
  scored at all (no healthy trip precedes them); against a held-out early part of the
  healthy trips the AUC is 0.94, the same as the raw value's (one lift: a per-lift z
  is a monotone map of the raw value, so it can only change the ranking across lifts
  and directions).
So "faulty trips score higher" cannot be told apart from "earlier trips score higher":
the raw AUC of 0.92–0.94 is an upper bound, not a validated fault detection rate. The
indicator is a plausible shock detector whose per-lift reading is untested on any lift
where a fault develops after a healthy baseline; the issue's second lift (AUC 0.60) is
not in ../shared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# fewer samples than this after detrending give no meaningful fourth moment
MIN_SAMPLES = 20


def detrend(values: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    """`values` minus their centred moving average; the edges (half a window) are dropped."""
    x = np.asarray(values, dtype=float)
    if window <= 1 or len(x) <= window:
        return x - x.mean() if len(x) else x
    smooth = np.convolve(x, np.ones(window) / window, mode="valid")
    half = window // 2
    return x[half : half + len(smooth)] - smooth


def vibration_indicator(values: Sequence[float] | np.ndarray, window: int = 25) -> float | None:
    """Excess kurtosis of the detrended signal; None when there are too few samples or
    the signal is constant."""
    r = detrend(values, window)
    if len(r) < MIN_SAMPLES:
        return None
    r = r - r.mean()
    var = float(np.mean(r * r))
    if var <= 1e-12:
        return None
    return float(np.mean(r**4) / (var * var) - 3.0)


def kurtosis_noise(n: int) -> float:
    """The standard error of a Gaussian sample's excess kurtosis, about sqrt(24 / n): the
    spread a baseline of `n`-sample values has even without any change (the smallest σ
    its z-score may divide by)."""
    if n < 1:
        raise ValueError(f"a kurtosis needs samples, not {n}")
    return math.sqrt(24.0 / n)
