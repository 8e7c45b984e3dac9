"""How well the vibration health indicator separates faulty from healthy lift trips, per
lift, and how far the date confound goes.

Data: ../shared/elevator-data/milan_trips/ — car accelerometer trips (100 Hz, x/y/z in
the sensor's integer units, z vertical) of Milan metro lifts, files named
`<first trip>_KO_<n>.csv` (faulty) or `<first trip>_OK_<n>.csv` (healthy); each row
names its lift (`entity_id`, `name`), its time (`timeStamp`, ms) and the trip's
direction. The lift is read from the rows, never from the file name.

Indicators, ROC AUC with the faulty trips positive, per lift and pooled:
- old: `vibration_indicator` (excess kurtosis after removing a 25-sample moving average,
  vertical axis), one number on one scale for every lift;
- new: the same value as a robust z-score against the lift's own known-good trips
  (`elevators.maintenance.baseline`), at least `--min-baseline` and at most the last
  `--max-baseline` of them, per direction unless `--no-direction`. Two baselines, never
  containing the scored trip:
  * online: the known-good trips strictly earlier than the scored one (what the planner
    can do in production);
  * calibration: the earliest half of the lift's healthy trips (per direction), held out
    and never scored; every other trip is scored against it.

Date confound: the AUC of the trip date alone (earlier = more suspect), the window of
dates where both classes exist, the AUC of the sensor's static offsets (not vibration),
drift checks on one class alone (late half against early half, where no fault label
differs) and the direction effect; then the conclusion those figures allow.

    python -m bench.milan [--data DIR] [--window 25] [--axis z]
                          [--min-baseline 7] [--max-baseline 60] [--no-direction]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from brightwatch.elevators.maintenance.baseline import (
    NOT_ENOUGH_BASELINE,
    Deviation,
    Observation,
    deviation,
    online_deviations,
)
from brightwatch.elevators.maintenance.settings import MaintenancePolicy
from brightwatch.elevators.maintenance.vibration import (
    detrend,
    kurtosis_noise,
    vibration_indicator,
)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "elevator-data" / "milan_trips"
_POLICY = MaintenancePolicy()


@dataclass(frozen=True)
class Trip:
    name: str
    faulty: bool
    number: int
    axes: dict[str, list[float]]
    lift: str = ""
    at_ms: int = 0
    direction: str = ""


def load_trips(folder: Path) -> list[Trip]:
    trips = []
    for path in sorted(folder.glob("*.csv")):
        parts = path.stem.split("_")
        if len(parts) != 3 or parts[1] not in ("KO", "OK"):
            continue
        axes: dict[str, list[float]] = {"x": [], "y": [], "z": []}
        first: dict[str, str] | None = None
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                first = first or row
                for a in axes:
                    axes[a].append(float(row[a]))
        if first is None:
            raise ValueError(f"{path}: no samples")
        missing = {"entity_id", "name", "timeStamp", "tripDirection"} - set(first)
        if missing:
            raise ValueError(f"{path}: no column {', '.join(sorted(missing))}")
        trips.append(
            Trip(
                path.name,
                parts[1] == "KO",
                int(parts[2]),
                axes,
                lift=f"{first['name']} ({first['entity_id'][:8]})",
                at_ms=int(first["timeStamp"]),
                direction=first["tripDirection"],
            )
        )
    return trips


def roc_auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties half)."""
    if not positives or not negatives:
        raise ValueError("need both classes")
    wins = 0.0
    for p in positives:
        for n in negatives:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (len(positives) * len(negatives))


def evaluate(trips: list[Trip], axis: str, window: int) -> dict[str, float | int]:
    """The old indicator's AUC over `trips` (every lift on one scale)."""
    pos: list[float] = []
    neg: list[float] = []
    for t in trips:
        score = vibration_indicator(t.axes[axis], window)
        if score is None:
            continue
        (pos if t.faulty else neg).append(score)
    return {"auc": roc_auc(pos, neg), "ko": len(pos), "ok": len(neg)}


# ------------------------------------------------------------------ per-lift scoring


@dataclass(frozen=True)
class Scored:
    trip: Trip
    raw: float  # the old indicator
    new: Deviation | None  # None: held out as calibration, not scored


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def by_lift(trips: Sequence[Trip]) -> dict[str, list[Trip]]:
    out: dict[str, list[Trip]] = {}
    for t in sorted(trips, key=lambda t: t.at_ms):
        out.setdefault(t.lift, []).append(t)
    return out


def raw_scores(trips: Sequence[Trip], axis: str, window: int) -> dict[str, float]:
    out = {}
    for t in trips:
        s = vibration_indicator(t.axes[axis], window)
        if s is not None:
            out[t.name] = s
    return out


def noise_floor(trips: Sequence[Trip], axis: str) -> float:
    """The kurtosis noise of a typical trip of these (its median length), as the planner
    floors a day's σ with VIBRATION_MIN_SIGMA."""
    return kurtosis_noise(int(statistics.median(len(t.axes[axis]) for t in trips)))


def score_online(
    lift: Sequence[Trip],
    raw: dict[str, float],
    min_b: int,
    max_b: int,
    per_direction: bool,
    axis: str = "z",
) -> list[Scored]:
    """Each trip of one lift against its known-good trips strictly earlier."""
    kept = [t for t in lift if t.name in raw]
    history = [
        Observation(t.at_ms, raw[t.name], not t.faulty, t.direction if per_direction else None)
        for t in kept
    ]
    devs = online_deviations(history, min_b, max_b, noise_floor(kept, axis) if kept else 0.0)
    return [Scored(t, raw[t.name], d) for t, d in zip(kept, devs, strict=True)]


def score_calibrated(
    lift: Sequence[Trip],
    raw: dict[str, float],
    min_b: int,
    max_b: int,
    per_direction: bool,
    axis: str = "z",
) -> list[Scored]:
    """The earliest half of the lift's healthy trips (per direction) is the calibration
    part, held out; every other trip is scored against it."""
    kept = [t for t in lift if t.name in raw]
    groups: dict[str | None, list[Trip]] = {}
    for t in kept:
        if not t.faulty:
            groups.setdefault(t.direction if per_direction else None, []).append(t)
    calibration: dict[str | None, list[Trip]] = {
        g: ts[: len(ts) // 2][-max_b:] for g, ts in groups.items()
    }
    held = {t.name for ts in calibration.values() for t in ts}
    out = []
    for t in kept:
        if t.name in held:
            out.append(Scored(t, raw[t.name], None))
            continue
        base = [raw[b.name] for b in calibration.get(t.direction if per_direction else None, [])]
        floor = noise_floor(kept, axis)
        out.append(Scored(t, raw[t.name], deviation(raw[t.name], base, min_b, floor)))
    return out


def _auc_line(label: str, scored: Sequence[Scored], key: Callable[[Scored], float]) -> str:
    pos = [key(s) for s in scored if s.trip.faulty]
    neg = [key(s) for s in scored if not s.trip.faulty]
    if not pos or not neg:
        why = "no faulty trip" if not pos else "no healthy trip"
        return f"{label:46s} AUC   n/a  KO {len(pos):2d}  OK {len(neg):2d}  ({why} scored)"
    return f"{label:46s} AUC {roc_auc(pos, neg):.3f}  KO {len(pos):2d}  OK {len(neg):2d}"


def _z(s: Scored) -> float:
    if s.new is None or s.new.z is None:
        raise ValueError(f"{s.trip.name} has no z")
    return s.new.z


def compare(label: str, scored: Sequence[Scored]) -> list[str]:
    """Old against new on the trips the new indicator could score, and what it could not."""
    with_z = [s for s in scored if s.new is not None and s.new.z is not None]
    short = [s for s in scored if s.new is not None and s.new.z is None]
    lines = [
        _auc_line(f"  {label}, old (raw kurtosis)", with_z, lambda s: s.raw),
        _auc_line(f"  {label}, new (own-baseline z)", with_z, _z),
    ]
    if short:
        ko = sum(s.trip.faulty for s in short)
        lines.append(
            f"  {label}: {NOT_ENOUGH_BASELINE} for {len(short)} trips (KO {ko}, OK {len(short) - ko})"
        )
    return lines


# ------------------------------------------------------------------ the date confound


def date_confound(lift: Sequence[Trip], raw: dict[str, float]) -> list[str]:
    ko = [t for t in lift if t.faulty]
    ok = [t for t in lift if not t.faulty]
    lines = []
    if not ko or not ok:
        return ["  one class only: no date confound to measure"]
    # the trip date alone as the score: earlier = more suspect
    auc_date = roc_auc([-t.at_ms for t in ko], [-t.at_ms for t in ok])
    lines.append(f"  trip date alone (earlier = faulty)  AUC {auc_date:.3f}")
    lines.append(
        f"  faulty trips {_day(ko[0].at_ms)} .. {_day(ko[-1].at_ms)},"
        f" healthy trips {_day(ok[0].at_ms)} .. {_day(ok[-1].at_ms)}"
    )
    lo = max(ko[0].at_ms, ok[0].at_ms)
    hi = min(ko[-1].at_ms, ok[-1].at_ms)
    both = [t for t in lift if lo <= t.at_ms <= hi and t.name in raw]
    if lo > hi:
        lines.append("  date window where both classes exist: none (the classes never overlap)")
    else:
        lines.append(
            f"  date window where both classes exist: {_day(lo)} .. {_day(hi)},"
            f" {sum(t.faulty for t in both)} KO / {sum(not t.faulty for t in both)} OK trips"
        )
        pos = [raw[t.name] for t in both if t.faulty]
        neg = [raw[t.name] for t in both if not t.faulty]
        if pos and neg:
            lines.append(f"  old indicator inside that window      AUC {roc_auc(pos, neg):.3f}")
    # the sensor's static reading (gravity and mounting offset of each axis, its median
    # over the trip) says nothing about vibration: if it separates the classes, something
    # else changed between the two periods
    for axis in ("x", "y", "z"):
        pos = [float(np.median(t.axes[axis])) for t in ko]
        neg = [float(np.median(t.axes[axis])) for t in ok]
        lines.append(
            f"  static offset alone, axis {axis} median      AUC {roc_auc(pos, neg):.3f}"
            f"  (0 or 1: perfect separation; KO median {statistics.median(pos):+.0f},"
            f" OK {statistics.median(neg):+.0f})"
        )
    half = len(ok) // 2
    drift = [
        f"{a} {roc_auc([float(np.median(t.axes[a])) for t in ok[half:]], [float(np.median(t.axes[a])) for t in ok[:half]]):.3f}"
        for a in ("x", "z")
    ]
    lines.append(f"  static offset, healthy only, late vs early half  AUC {', '.join(drift)}")
    # drift with no label change: late half against early half of one class
    for what, trips in (("healthy", ok), ("faulty", ko)):
        for direction in sorted({t.direction for t in trips}):
            xs = [raw[t.name] for t in trips if t.direction == direction and t.name in raw]
            if len(xs) < 8:
                lines.append(f"  drift, {what} {direction} only: {len(xs)} trips, too few")
                continue
            half = len(xs) // 2
            lines.append(
                f"  drift, {what} {direction} only, late vs early half (old)"
                f"  AUC {roc_auc(xs[half:], xs[:half]):.3f}  ({len(xs) - half} vs {half} trips;"
                f" medians {statistics.median(xs[half:]):.2f} vs {statistics.median(xs[:half]):.2f})"
            )
    # the direction effect on healthy trips (a per-direction baseline is needed if large)
    up = [raw[t.name] for t in ok if t.direction == "UP" and t.name in raw]
    down = [raw[t.name] for t in ok if t.direction == "DOWN" and t.name in raw]
    if up and down:
        lines.append(
            f"  direction, healthy trips: DOWN vs UP (old)  AUC {roc_auc(down, up):.3f}"
            f"  (medians {statistics.median(down):.2f} vs {statistics.median(up):.2f});"
            f" DOWN trips: {sum(t.direction == 'DOWN' for t in ko)} of {len(ko)} KO,"
            f" {len(down)} of {len(ok)} OK"
        )
    return lines


def healthy_online_z(scored: Sequence[Scored]) -> str | None:
    """How the new indicator reads healthy trips against earlier healthy trips (drift)."""
    zs = [
        s.new.z for s in scored if not s.trip.faulty and s.new is not None and s.new.z is not None
    ]
    if not zs:
        return None
    beyond = sum(z >= _POLICY.health_ticket_sigma for z in zs)
    return (
        f"  healthy trips against earlier healthy trips (new, online): median z {statistics.median(zs):+.2f},"
        f" {beyond} of {len(zs)} beyond {_POLICY.health_ticket_sigma:g} (a false 'visit now' each)"
    )


# ------------------------------------------------------------------ report


def report(
    trips: list[Trip], axis: str, window: int, min_b: int, max_b: int, per_direction: bool
) -> list[str]:
    raw = raw_scores(trips, axis, window)
    lifts = by_lift(trips)
    out = [
        f"{len(trips)} trips, {len(lifts)} lift(s): "
        + "; ".join(
            f"{name}: KO {sum(t.faulty for t in ts)}, OK {sum(not t.faulty for t in ts)}"
            for name, ts in lifts.items()
        ),
        f"old indicator: excess kurtosis, axis {axis}, detrend window {window} samples",
        f"new indicator: robust z against the lift's own known-good trips"
        f" ({'per direction' if per_direction else 'both directions'};"
        f" at least {min_b}, at most the last {max_b})",
        "",
        "Old indicator, every trip, one scale for all lifts:",
    ]
    for name, ts in lifts.items():
        kept = [Scored(t, raw[t.name], None) for t in ts if t.name in raw]
        out.append(_auc_line(f"  {name}", kept, lambda s: s.raw))
    out.append(
        _auc_line(
            "  pooled",
            [Scored(t, raw[t.name], None) for t in trips if t.name in raw],
            lambda s: s.raw,
        )
    )
    online_by_lift: dict[str, list[Scored]] = {}
    for title, scorer in (
        ("Online: each trip against the lift's known-good trips strictly before it", score_online),
        (
            "Calibration: the earliest half of each lift's healthy trips held out as the baseline",
            score_calibrated,
        ),
    ):
        out += ["", title + ":"]
        pooled: list[Scored] = []
        for name, ts in lifts.items():
            scored = scorer(ts, raw, min_b, max_b, per_direction, axis)
            pooled += scored
            out += compare(name, scored)
            if scorer is score_online:
                online_by_lift[name] = scored
                line = healthy_online_z(scored)
                if line:
                    out.append(line)
        out += compare("pooled" if len(lifts) > 1 else "pooled (the one lift)", pooled)
    out += ["", "The date confound:"]
    for name, ts in lifts.items():
        out.append(f" {name}")
        out += date_confound(ts, raw)
    out += ["", "Held-out split of the first version (odd trip numbers chose axis and window):"]
    dev = [t for t in trips if t.number % 2 == 1]
    held = [t for t in trips if t.number % 2 == 0]
    for label, subset in (("held-out (even)", held), ("development (odd)", dev)):
        try:
            r = evaluate(subset, axis, window)
        except ValueError:
            out.append(f"  {label:18s} old AUC n/a (one class only)")
            continue
        out.append(f"  {label:18s} old AUC {r['auc']:.3f}  KO {r['ko']}  OK {r['ok']}")
    rms = [(t.faulty, float(np.sqrt(np.mean(detrend(t.axes[axis], window) ** 2)))) for t in held]
    if any(f for f, _ in rms) and not all(f for f, _ in rms):
        auc_rms = roc_auc([v for f, v in rms if f], [v for f, v in rms if not f])
        out.append(f"  RMS of the same detrended signal, held-out half: AUC {auc_rms:.3f}")
    out += ["", "Conclusion:"] + conclusion(lifts, online_by_lift)
    return out


def conclusion(lifts: dict[str, list[Trip]], online: dict[str, list[Scored]]) -> list[str]:
    """What the figures above allow one to claim, derived from them."""
    out = []
    if len(lifts) == 1:
        out.append(
            "- One lift only: per-lift and pooled figures coincide, and a per-lift z-score"
            " (a monotone map of the raw value per direction) cannot change a single lift's"
            " ranking. Whether per-lift scoring transfers across lifts is untested here."
        )
    for name, ts in lifts.items():
        ko = [t for t in ts if t.faulty]
        ok = [t for t in ts if not t.faulty]
        if not ko or not ok:
            continue
        overlap = max(ko[0].at_ms, ok[0].at_ms) <= min(ko[-1].at_ms, ok[-1].at_ms)
        date_auc = roc_auc([-t.at_ms for t in ko], [-t.at_ms for t in ok])
        scored_ko = sum(1 for s in online.get(name, []) if s.trip.faulty and s.new and s.new.enough)
        if not overlap:
            out.append(
                f"- {name}: no date has both classes and the date alone scores AUC"
                f" {date_auc:.3f}: every separation figure of this lift is confounded with"
                " time (a repair, a sensor change or drift cannot be told apart)."
            )
        if scored_ko == 0:
            out.append(
                f"- {name}: no faulty trip has enough earlier healthy trips: as production"
                " would use it (no look-ahead), the per-lift indicator cannot be measured"
                " on this lift; the calibration figure looks back from a later period."
            )
        else:
            out.append(f"- {name}: {scored_ko} faulty trips scored without look-ahead.")
    return out

    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--window", type=int, default=_POLICY.vibration_window)
    ap.add_argument("--axis", choices=("x", "y", "z"), default="z")
    ap.add_argument(
        "--min-baseline",
        type=int,
        default=_POLICY.health_min_baseline_days,
        help="fewest known-good trips for a z (the planner's health_min_baseline_days)",
    )
    ap.add_argument(
        "--max-baseline",
        type=int,
        default=_POLICY.health_baseline_days,
        help="most recent known-good trips in the baseline (the planner's health_baseline_days)",
    )
    ap.add_argument("--no-direction", action="store_true", help="one baseline for up and down")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"no Milan trips at {args.data} (needs ../shared)", file=sys.stderr)
        return 2
    if not 1 <= args.min_baseline <= args.max_baseline:
        print("--min-baseline must be at least 1 and at most --max-baseline", file=sys.stderr)
        return 2
    trips = load_trips(args.data)
    if not trips:
        print(f"no KO/OK trip files in {args.data}", file=sys.stderr)
        return 2
    lines = report(
        trips, args.axis, args.window, args.min_baseline, args.max_baseline, not args.no_direction
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
