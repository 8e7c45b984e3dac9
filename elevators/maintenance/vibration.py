"""The vibration health indicator: impulsiveness (excess kurtosis) of a detrended signal.

Method (fixed, see bench/RESULTS.md "Maintenance: vibration indicator (Milan trips)"):
1. remove a centred moving average of `window` samples (the trip's acceleration profile,
   sensor offsets and slow drift are not vibration);
2. return the kurtosis (fourth standardised moment) of what is left, minus 3, so a
   Gaussian signal scores 0 and shocks (worn guide shoes, rollers, bearings) score high.

Kurtosis rather than RMS: on the Milan metro-lift trips the faulty (KO) trips do not
vibrate more on average (RMS separates them no better than chance) but carry short
shocks, which kurtosis sees (`python -m bench.milan`).

The same function scores a sequence of a terminal's `vibration_rms` samples (one day of
an elevator, running samples) for the health-trend factor of the risk score; the planner
then compares the daily scores with the elevator's own baseline (a z-score).
"""

from __future__ import annotations

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
