"""How well the vibration health indicator separates faulty from healthy lift trips.

Data: ../shared/elevator-data/milan_trips/ — car accelerometer trips (100 Hz, x/y/z in
the sensor's integer units, z vertical) of a Milan metro lift, files named
`<trip>_KO_<n>.csv` (faulty) or `<trip>_OK_<n>.csv` (healthy).

Method: the planner's own `elevators.maintenance.vibration.vibration_indicator` (excess
kurtosis after removing a 25-sample moving average) on the vertical axis of each trip;
ROC AUC of that score for KO (positive) against OK. Nothing is fitted. The split is
fixed by the trip number in the file name: odd numbers are the development half (used to
choose the axis and the window among a handful of candidates), even numbers the held-out
half reported as the figure; all trips are printed too.

    python -m bench.milan [--data DIR] [--window 25] [--axis z]
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brightwatch.elevators.maintenance.vibration import detrend, vibration_indicator

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "elevator-data" / "milan_trips"


@dataclass(frozen=True)
class Trip:
    name: str
    faulty: bool
    number: int
    axes: dict[str, list[float]]


def load_trips(folder: Path) -> list[Trip]:
    trips = []
    for path in sorted(folder.glob("*.csv")):
        parts = path.stem.split("_")
        if len(parts) != 3 or parts[1] not in ("KO", "OK"):
            continue
        axes: dict[str, list[float]] = {"x": [], "y": [], "z": []}
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                for a in axes:
                    axes[a].append(float(row[a]))
        trips.append(Trip(path.name, parts[1] == "KO", int(parts[2]), axes))
    return trips


def roc_auc(positives: list[float], negatives: list[float]) -> float:
    """Probability that a random positive scores above a random negative (ties half)."""
    if not positives or not negatives:
        raise ValueError("need both classes")
    wins = 0.0
    for p in positives:
        for n in negatives:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (len(positives) * len(negatives))


def evaluate(trips: list[Trip], axis: str, window: int) -> dict[str, float | int]:
    pos: list[float] = []
    neg: list[float] = []
    for t in trips:
        score = vibration_indicator(t.axes[axis], window)
        if score is None:
            continue
        (pos if t.faulty else neg).append(score)
    return {"auc": roc_auc(pos, neg), "ko": len(pos), "ok": len(neg)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--window", type=int, default=25)
    ap.add_argument("--axis", choices=("x", "y", "z"), default="z")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"no Milan trips at {args.data} (needs ../shared)", file=sys.stderr)
        return 2
    trips = load_trips(args.data)
    dev = [t for t in trips if t.number % 2 == 1]
    held = [t for t in trips if t.number % 2 == 0]
    print(f"indicator: excess kurtosis, axis {args.axis}, detrend window {args.window} samples")
    for label, subset in (("held-out (even)", held), ("development (odd)", dev), ("all", trips)):
        r = evaluate(subset, args.axis, args.window)
        print(f"{label:18s} AUC {r['auc']:.3f}  KO {r['ko']}  OK {r['ok']}")
    print("candidates on the development half (axis/window: AUC):")
    for axis in ("x", "y", "z"):
        cells = [f"{w}: {evaluate(dev, axis, w)['auc']:.3f}" for w in (5, 11, 25, 51)]
        print(f"  {axis}  " + "  ".join(cells))
    rms = [
        (t.faulty, float(np.sqrt(np.mean(detrend(t.axes[args.axis], args.window) ** 2))))
        for t in held
    ]
    auc_rms = roc_auc([s for f, s in rms if f], [s for f, s in rms if not f])
    print(f"for comparison, RMS of the same detrended signal, held-out half: AUC {auc_rms:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
