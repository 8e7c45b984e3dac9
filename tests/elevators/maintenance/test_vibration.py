"""The vibration indicator on synthetic signals and on the Milan trips (bench.milan)."""

from __future__ import annotations

import numpy as np

from bench.milan import evaluate, load_trips, roc_auc
from brightwatch.elevators.maintenance.vibration import detrend, vibration_indicator
from tests.conftest import shared_path


def _noise(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.0, n)


def test_gaussian_vibration_scores_near_zero_and_shocks_score_high() -> None:
    smooth = vibration_indicator(_noise(5000, 1))
    shocked = _noise(5000, 2)
    shocked[::250] += 12.0  # a knock every 2.5 s at 100 Hz
    rough = vibration_indicator(shocked)
    assert smooth is not None and rough is not None
    assert abs(smooth) < 0.5
    assert rough > 5


def test_the_trip_profile_and_offset_are_not_vibration() -> None:
    t = np.linspace(0, 10, 1000)
    ramp = 40 * np.clip(np.sin(np.pi * t / 10), 0, None) + 17.0  # accelerate, cruise, stop
    noise = _noise(1000, 3)
    assert np.std(detrend(ramp + noise, 25)) < 1.2 * np.std(noise)
    with_ramp = vibration_indicator(ramp + noise)
    alone = vibration_indicator(noise)
    assert with_ramp is not None and alone is not None
    assert abs(with_ramp - alone) < 0.5


def test_too_few_or_constant_samples_give_no_score() -> None:
    assert vibration_indicator([0.1] * 10) is None
    assert vibration_indicator([0.1] * 500) is None


def test_roc_auc() -> None:
    assert roc_auc([3, 4], [1, 2]) == 1.0
    assert roc_auc([1, 2], [3, 4]) == 0.0
    assert roc_auc([1], [1]) == 0.5


def test_milan_faulty_trips_score_higher_than_healthy_ones() -> None:
    trips = load_trips(shared_path("elevator-data", "milan_trips"))
    held_out = [t for t in trips if t.number % 2 == 0]
    r = evaluate(held_out, "z", 25)
    assert (r["ko"], r["ok"]) == (14, 17)
    assert r["auc"] >= 0.85
