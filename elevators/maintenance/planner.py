"""The on-demand maintenance planner, a pure function (elevators.md, 按需维保).

`plan(inputs, policy, today) -> Plan`:
1. **Eligibility**: firm credit rating A or B; terminal online ≥ 98 % over 30 days; no
   trapped fault in 90 days; periodic inspection valid. Otherwise the statutory 15 days.
2. **Risk score** R = Σ wᵢ·xᵢ over seven factors (age, fault rate, trapped faults, usage,
   health trend, firm, user unit management), each x in [0, 1], each explained with the
   inputs it used; a factor without data takes `missing_x` and says so. The health
   trend is the worst drift (robust z-score against the elevator's own earlier days,
   `baseline.deviation`, higher is worse) of the daily indicators `gather` reads:
   vibration, door cycles per run (re-opens) and door-cycle time (slower doors). Raw
   indicator levels are never compared across elevators; an indicator with fewer than
   `health_min_baseline_days` baseline days says "not enough baseline" instead of a z.
3. **Interval**: R < 0.25 → 30 d, < 0.50 → 21, < 0.75 → 15, else 7 d and a targeted
   inspection. Ineligible elevators keep 15 d, except that the 7-day band still applies
   (TSG T5002's 15 days is a maximum, never a reason to service a risky car less often).
4. **Overrides**: a P1 fault in the last 90 days caps the interval at 15 d; two trapped
   faults in 30 days withdraw on-demand status (and the bureau is told).
5. **Due dates**: the next visit is the interval after the last completed maintenance
   (or after the elevator entered the plan); the quarterly / half-yearly / yearly item
   sets stay on the calendar (90 / 180 / 365 days after their last completion).
6. **Tickets asked for**: each due date opens its ticket `ticket_lead_days` before it; a
   health indicator beyond 3σ over the last day and a terminal offline > 24 h ask for an
   on-demand visit now. Rescue (P1) and repair (P2) tickets are the ticket desk's.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from brightwatch.elevators.maintenance.baseline import NOT_ENOUGH_BASELINE, deviation
from brightwatch.elevators.maintenance.settings import MaintenancePolicy
from brightwatch.elevators.rules import TRAPPED

# the item sets each ticket must record (TSG T5002 annex A: half-monthly, quarterly,
# half-yearly and yearly items); the firm's checklist details each set
ITEM_SETS = {
    "on_demand": {"code": "routine", "name": "TSG T5002 routine (half-monthly) items"},
    "quarterly": {"code": "quarterly", "name": "TSG T5002 quarterly items"},
    "half_yearly": {"code": "half_yearly", "name": "TSG T5002 half-yearly items"},
    "yearly": {"code": "yearly", "name": "TSG T5002 yearly items"},
}
# what an on-demand visit asked for by a health indicator beyond 3σ must check
HEALTH_CHECKS = {
    "vibration": {
        "code": "vibration_check",
        "name": "Vibration beyond 3σ: guide shoes, rollers, bearings",
    },
    "door cycles per run": {
        "code": "door_reopen_check",
        "name": "Doors re-opening beyond 3σ: door sensors, obstructions, sills",
    },
    "door-cycle time": {
        "code": "door_time_check",
        "name": "Door cycles slower beyond 3σ: door operator, hangers, tracks, sills",
    },
}


@dataclass(frozen=True)
class Fault:
    """One alert of the elevator inside the fault window."""

    code: str
    severity: str
    started_at: datetime
    alert_id: int | None = None


@dataclass(frozen=True)
class DailySeries:
    """A health indicator, one value per UTC day, oldest first."""

    name: str
    days: tuple[tuple[date, float], ...]
    # the smallest spread taken for the baseline: day-to-day noise of the indicator that a
    # short, flat baseline does not show (a z-score over a zero spread means nothing)
    min_sigma: float = 0.0
    # [first, after_last) days accounted for (gather): a day inside without a value had too
    # few usable samples, so a later pass need not read it again; None when unknown
    read: tuple[date, date] | None = None


@dataclass(frozen=True)
class FleetFigures:
    """What the fleet-relative factors compare with (computed once per pass)."""

    # P2 faults per 1,000 runs over the fault window, one value per elevator with runs
    fault_rates: tuple[float, ...] = ()
    # runs per day over the usage window, one value per elevator with counters
    runs_per_day: tuple[float, ...] = ()


@dataclass(frozen=True)
class PlanInputs:
    """Everything the planner uses for one elevator; stored with the plan."""

    elevator_id: str
    now: datetime
    reason: str = "daily"
    install_year: int | None = None
    inspection_valid_until: date | None = None
    firm_id: str | None = None
    firm_credit_rating: str | None = None
    firm_credit_score: float | None = None
    management_score: float | None = None
    online_ratio: float | None = None  # over policy.online_window_days
    offline_since: datetime | None = None  # currently offline since
    faults: tuple[Fault, ...] = ()  # P1/P2 and trapped alerts over the fault window
    runs_in_fault_window: float | None = None
    runs_per_day: float | None = None
    health: tuple[DailySeries, ...] = ()
    last_maintenance_at: datetime | None = None  # last completed maintenance of any type
    last_done: dict[str, datetime] = field(default_factory=dict)  # per calendar type
    planned_since: datetime | None = None  # first plan of this elevator
    fleet: FleetFigures = FleetFigures()


@dataclass(frozen=True)
class Check:
    check: str
    value: Any
    required: str
    ok: bool


@dataclass(frozen=True)
class Factor:
    name: str
    value: float  # x in [0, 1]
    weight: float
    contribution: float
    inputs: dict[str, Any]
    explain: str
    missing: bool = False


@dataclass(frozen=True)
class TicketRequest:
    type: str  # on_demand, quarterly, half_yearly, yearly
    due_at: datetime
    trigger: str  # DUE_DATE, HEALTH_3SIGMA, OFFLINE_24H
    open_from: datetime  # when the ticket should exist
    items: tuple[dict[str, str], ...] = ()  # required maintenance items {"code", "name"}


@dataclass(frozen=True)
class Plan:
    elevator_id: str
    computed_at: datetime
    reason: str
    eligible: bool
    eligibility: tuple[Check, ...]
    risk_score: float
    factors: tuple[Factor, ...]
    interval_days: int
    interval_reason: str
    targeted_inspection: bool
    next_due_at: datetime
    calendar: dict[str, dict[str, Any]]
    overrides: tuple[str, ...]
    on_demand: dict[str, Any]
    tickets: tuple[TicketRequest, ...]

    def as_row(self, inputs: PlanInputs, policy: MaintenancePolicy) -> dict[str, Any]:
        """The maintenance_plan row (JSON-ready jsonb columns)."""
        return {
            "elevator_id": self.elevator_id,
            "computed_at": self.computed_at,
            "reason": self.reason,
            "eligible": self.eligible,
            "eligibility": [_jsonable(asdict(c)) for c in self.eligibility],
            "risk_score": self.risk_score,
            "factors": [_jsonable(asdict(f)) for f in self.factors],
            "interval_days": self.interval_days,
            "interval_reason": self.interval_reason,
            "next_due_at": self.next_due_at,
            "calendar": self.calendar,
            "inputs": {
                "data": _jsonable(asdict(inputs)),
                "policy": policy.model_dump(),
                "outcome": {
                    "targeted_inspection": self.targeted_inspection,
                    "overrides": list(self.overrides),
                    "on_demand": _jsonable(self.on_demand),
                    "tickets": [_jsonable(asdict(t)) for t in self.tickets],
                },
            },
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def midnight(d: date) -> datetime:
    """The start of day `d` in UTC (plans and their inputs count whole UTC days)."""
    return datetime.combine(d, time(0), UTC)


def _r(x: float) -> float:
    return round(x, 4)


# ------------------------------------------------------------------ eligibility


def eligibility(inputs: PlanInputs, policy: MaintenancePolicy, today: date) -> tuple[Check, ...]:
    trapped_since = inputs.now - timedelta(days=policy.trapped_free_days)
    trapped = [f for f in inputs.faults if f.code in TRAPPED and f.started_at >= trapped_since]
    checks = [
        Check(
            "firm credit rating",
            inputs.firm_credit_rating,
            " or ".join(policy.credit_ratings),
            inputs.firm_credit_rating in policy.credit_ratings,
        ),
        Check(
            f"terminal online, last {policy.online_window_days} days",
            None if inputs.online_ratio is None else f"{inputs.online_ratio:.2%}",
            f"≥ {policy.min_online_ratio:.0%}",
            inputs.online_ratio is not None and inputs.online_ratio >= policy.min_online_ratio,
        ),
        Check(
            f"trapped faults, last {policy.trapped_free_days} days",
            len(trapped),
            "0",
            not trapped,
        ),
    ]
    if policy.require_valid_inspection:
        valid = inputs.inspection_valid_until
        checks.append(
            Check(
                "periodic inspection valid until",
                valid.isoformat() if valid else None,
                f"≥ {today.isoformat()}",
                valid is not None and valid >= today,
            )
        )
    return tuple(checks)


# ------------------------------------------------------------------ factors


def _percentile_rank(value: float, population: Sequence[float]) -> float:
    """Share of the fleet at or below `value` (ties count half), in [0, 1]."""
    if not population:
        return 0.0
    below = sum(1 for p in population if p < value)
    equal = sum(1 for p in population if p == value)
    return (below + 0.5 * equal) / len(population)


def _percentile(population: Sequence[float], q: float) -> float:
    xs = sorted(population)
    if len(xs) == 1:
        return xs[0]
    k = (len(xs) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _factor(
    name: str,
    x: float | None,
    weight: float,
    policy: MaintenancePolicy,
    inputs: dict[str, Any],
    explain: str,
) -> Factor:
    missing = x is None
    value = policy.missing_x if x is None else min(1.0, max(0.0, x))
    return Factor(name, _r(value), weight, _r(weight * value), inputs, explain, missing)


def age_factor(inputs: PlanInputs, policy: MaintenancePolicy, today: date) -> Factor:
    if inputs.install_year is None:
        return _factor(
            "age", None, policy.weight_age, policy, {"install_year": None}, "install year unknown"
        )
    age = max(0, today.year - inputs.install_year)
    y1, y2, y3 = policy.age_years
    x = (
        0.0
        if age < y1
        else policy.age_values[0]
        if age < y2
        else policy.age_values[1]
        if age < y3
        else 1.0
    )
    return _factor(
        "age",
        x,
        policy.weight_age,
        policy,
        {"install_year": inputs.install_year, "age_years": age},
        f"{age} years old (< {y1}: 0, {y1}–{y2}: {policy.age_values[0]}, {y2}–{y3}: {policy.age_values[1]}, ≥ {y3}: 1)",
    )


def fault_rate_factor(inputs: PlanInputs, policy: MaintenancePolicy) -> Factor:
    since = inputs.now - timedelta(days=policy.fault_window_days)
    p2 = sum(1 for f in inputs.faults if f.severity == "P2" and f.started_at >= since)
    runs = inputs.runs_in_fault_window
    fleet = [r for r in inputs.fleet.fault_rates if r >= 0]
    info: dict[str, Any] = {"p2_faults": p2, "runs": runs, "window_days": policy.fault_window_days}
    if not runs:
        return _factor(
            "fault rate",
            None,
            policy.weight_fault_rate,
            policy,
            info,
            "no run counter over the window",
        )
    rate = 1000.0 * p2 / runs
    scale = _percentile(fleet, policy.fault_rate_percentile) if fleet else 0.0
    info.update(
        {
            "per_1000_runs": _r(rate),
            "fleet_percentile": policy.fault_rate_percentile,
            "fleet_scale": _r(scale),
        }
    )
    # a fleet without P2 faults: any fault at all is the top of the scale
    x = (0.0 if rate == 0 else 1.0) if scale <= 0 else rate / scale
    return _factor(
        "fault rate",
        x,
        policy.weight_fault_rate,
        policy,
        info,
        f"{p2} P2 faults in {runs:.0f} runs = {rate:.3g} per 1,000 runs; fleet p{policy.fault_rate_percentile:g} {scale:.3g}",
    )


def trapped_factor(inputs: PlanInputs, policy: MaintenancePolicy) -> Factor:
    since = inputs.now - timedelta(days=policy.fault_window_days)
    n = sum(1 for f in inputs.faults if f.code in TRAPPED and f.started_at >= since)
    x = 0.0 if n == 0 else policy.trapped_one if n == 1 else policy.trapped_two
    return _factor(
        "trapped faults",
        x,
        policy.weight_trapped,
        policy,
        {"trapped": n, "window_days": policy.fault_window_days},
        f"{n} trapped fault(s) in {policy.fault_window_days} days (0: 0, 1: {policy.trapped_one}, ≥ 2: {policy.trapped_two})",
    )


def usage_factor(inputs: PlanInputs, policy: MaintenancePolicy) -> Factor:
    rpd = inputs.runs_per_day
    info: dict[str, Any] = {"runs_per_day": rpd, "fleet_elevators": len(inputs.fleet.runs_per_day)}
    if rpd is None or not inputs.fleet.runs_per_day:
        return _factor(
            "usage", None, policy.weight_usage, policy, info, "no run counter over the window"
        )
    x = _percentile_rank(rpd, inputs.fleet.runs_per_day)
    return _factor(
        "usage",
        x,
        policy.weight_usage,
        policy,
        info,
        f"{rpd:.0f} runs a day: percentile {x:.0%} of the fleet",
    )


def health_z(series: DailySeries, policy: MaintenancePolicy, today: date) -> dict[str, Any] | None:
    """Median robust z-score of the recent days against the elevator's own days before them
    (`baseline.deviation`: median and MAD, so a few bad days in the baseline move it
    little); also the last day's. None without recent days; `z` None ("not enough
    baseline") with fewer than `health_min_baseline_days` baseline days."""
    recent_from = today - timedelta(days=policy.health_recent_days)
    base_from = recent_from - timedelta(days=policy.health_baseline_days)
    base = [v for d, v in series.days if base_from <= d < recent_from]
    recent = [(d, v) for d, v in series.days if recent_from <= d < today]
    if not recent:
        return None
    devs = [
        deviation(v, base, policy.health_min_baseline_days, series.min_sigma) for _, v in recent
    ]
    found: dict[str, Any] = {
        "indicator": series.name,
        "baseline_days": len(base),
        "recent_days": len(recent),
        "last_day": recent[-1][0].isoformat(),
    }
    last = devs[-1]
    if last.z is None or last.median is None or last.sigma is None:
        return found | {
            "z": None,
            "status": NOT_ENOUGH_BASELINE,
            "baseline_days_needed": policy.health_min_baseline_days,
        }
    return found | {
        # the mean is shown for reading; the z is taken from the median
        "baseline_mean": _r(statistics.fmean(base)),
        "baseline_median": _r(last.median),
        "baseline_sigma": _r(last.sigma),
        "z": _r(statistics.median(d.z for d in devs if d.z is not None)),
        "last_z": _r(last.z),
    }


def health_zs(inputs: PlanInputs, policy: MaintenancePolicy, today: date) -> list[dict[str, Any]]:
    """`health_z` of each indicator with recent days, in the order of `inputs.health`
    (those without enough baseline have `z` None)."""
    return [z for z in (health_z(s, policy, today) for s in inputs.health) if z is not None]


def health_factor(found: list[dict[str, Any]], policy: MaintenancePolicy) -> Factor:
    scored = [z for z in found if z["z"] is not None]
    short = [z for z in found if z["z"] is None]
    info: dict[str, Any] = {"indicators": scored, "z_full": policy.health_z_full}
    waiting = ""
    if short:
        info[NOT_ENOUGH_BASELINE.replace(" ", "_")] = short
        waiting = f"{NOT_ENOUGH_BASELINE}: " + ", ".join(
            f"{z['indicator']} {z['baseline_days']} of {z['baseline_days_needed']} days"
            for z in short
        )
    if not scored:
        return _factor(
            "health trend",
            None,
            policy.weight_health,
            policy,
            info,
            waiting or "no baseline yet",
        )
    worst = max(scored, key=lambda z: z["z"])
    x = worst["z"] / policy.health_z_full
    return _factor(
        "health trend",
        x,
        policy.weight_health,
        policy,
        info,
        f"worst drift: {worst['indicator']} at z = {worst['z']:+.2f} against its own {worst['baseline_days']}-day"
        f" baseline (z ≤ 0: 0, z ≥ {policy.health_z_full:g}: 1)"
        + (f"; {waiting}" if waiting else ""),
    )


def firm_factor(inputs: PlanInputs, policy: MaintenancePolicy) -> Factor:
    s = inputs.firm_credit_score
    info = {"firm_id": inputs.firm_id, "credit_score": s}
    if s is None:
        return _factor("firm", None, policy.weight_firm, policy, info, "firm credit score unknown")
    return _factor(
        "firm", 1 - s / 100, policy.weight_firm, policy, info, f"1 − credit score {s:g} / 100"
    )


def management_factor(inputs: PlanInputs, policy: MaintenancePolicy) -> Factor:
    s = inputs.management_score
    info = {"management_score": s}
    if s is None:
        return _factor(
            "user unit management",
            None,
            policy.weight_management,
            policy,
            info,
            "management score unknown",
        )
    return _factor(
        "user unit management",
        1 - s / 100,
        policy.weight_management,
        policy,
        info,
        f"1 − management score {s:g} / 100",
    )


def factors(
    inputs: PlanInputs, policy: MaintenancePolicy, today: date, health: list[dict[str, Any]]
) -> tuple[Factor, ...]:
    return (
        age_factor(inputs, policy, today),
        fault_rate_factor(inputs, policy),
        trapped_factor(inputs, policy),
        usage_factor(inputs, policy),
        health_factor(health, policy),
        firm_factor(inputs, policy),
        management_factor(inputs, policy),
    )


# ------------------------------------------------------------------ interval and plan


def risk_band(r: float, policy: MaintenancePolicy) -> tuple[int, str]:
    if r < policy.band_low_below:
        return policy.band_low_days, f"R {r:.3f} < {policy.band_low_below:g}"
    if r < policy.band_mid_below:
        return (
            policy.band_mid_days,
            f"R {r:.3f} in [{policy.band_low_below:g}, {policy.band_mid_below:g})",
        )
    if r < policy.band_high_below:
        return (
            policy.band_high_days,
            f"R {r:.3f} in [{policy.band_mid_below:g}, {policy.band_high_below:g})",
        )
    return policy.band_top_days, f"R {r:.3f} ≥ {policy.band_high_below:g}: targeted inspection"


def plan(inputs: PlanInputs, policy: MaintenancePolicy, today: date) -> Plan:
    now = inputs.now
    checks = eligibility(inputs, policy, today)
    eligible = all(c.ok for c in checks)
    health = health_zs(inputs, policy, today)
    fs = factors(inputs, policy, today, health)
    r = _r(min(1.0, max(0.0, sum(f.contribution for f in fs))))
    band_days, band_why = risk_band(r, policy)
    targeted = r >= policy.band_high_below
    overrides: list[str] = []

    if eligible:
        interval, why = band_days, band_why
    elif band_days < policy.statutory_interval_days:
        failed = ", ".join(c.check for c in checks if not c.ok)
        interval, why = band_days, f"not eligible ({failed}); {band_why}"
    else:
        failed = ", ".join(c.check for c in checks if not c.ok)
        interval, why = policy.statutory_interval_days, f"not eligible ({failed}): statutory round"

    p1_since = now - timedelta(days=policy.p1_override_days)
    p1 = [f for f in inputs.faults if f.severity == "P1" and f.started_at >= p1_since]
    if p1 and interval > policy.p1_override_interval_days:
        last = max(p1, key=lambda f: f.started_at)
        until = (last.started_at + timedelta(days=policy.p1_override_days)).date()
        interval = policy.p1_override_interval_days
        why = f"P1 fault {last.code} on {last.started_at.date().isoformat()}: {interval} days until {until.isoformat()}"
        overrides.append(why)

    w_since = now - timedelta(days=policy.withdraw_window_days)
    recent_trapped = sorted(
        (f for f in inputs.faults if f.code in TRAPPED and f.started_at >= w_since),
        key=lambda f: f.started_at,
    )
    withdrawn = len(recent_trapped) >= policy.withdraw_trapped_count
    on_demand: dict[str, Any] = {
        "withdrawn": withdrawn,
        "withdrawn_reason": None,
        "notify_bureau": False,
    }
    if withdrawn:
        reason = (
            f"{len(recent_trapped)} trapped faults in {policy.withdraw_window_days} days"
            f" (last {recent_trapped[-1].started_at.date().isoformat()})"
        )
        on_demand.update(
            withdrawn_reason=reason,
            notify_bureau=True,
            alert_ids=[f.alert_id for f in recent_trapped if f.alert_id is not None],
        )
        overrides.append(f"on-demand status withdrawn: {reason}; bureau notified")
        eligible = False
        if interval > policy.statutory_interval_days:
            interval = policy.statutory_interval_days
            why = f"on-demand status withdrawn ({reason}): statutory round"

    anchor = inputs.last_maintenance_at or inputs.planned_since or now
    next_due = midnight(anchor.date() + timedelta(days=interval))

    calendar: dict[str, dict[str, Any]] = {}
    periods = {
        "quarterly": policy.quarterly_days,
        "half_yearly": policy.half_yearly_days,
        "yearly": policy.yearly_days,
    }
    tickets: list[TicketRequest] = []
    lead = timedelta(days=policy.ticket_lead_days)
    for kind, days in periods.items():
        done = inputs.last_done.get(kind)
        base = done or inputs.planned_since or now
        due = midnight(base.date() + timedelta(days=days))
        calendar[kind] = {
            "due_at": due.isoformat(),
            "last_done_at": done.isoformat() if done else None,
            "every_days": days,
        }
        tickets.append(TicketRequest(kind, due, "DUE_DATE", due - lead, (ITEM_SETS[kind],)))
    visit: tuple[dict[str, str], ...] = (ITEM_SETS["on_demand"],)
    if targeted:
        worst = sorted(fs, key=lambda f: f.contribution, reverse=True)[:3]
        visit += (
            {
                "code": "targeted_inspection",
                "name": "Targeted inspection: " + ", ".join(f.name for f in worst),
            },
        )
    tickets.insert(0, TicketRequest("on_demand", next_due, "DUE_DATE", next_due - lead, visit))

    for h in health:
        last_day = today - timedelta(days=1)
        if h["z"] is None:  # not enough baseline: no number to act on
            continue
        if h["last_day"] == last_day.isoformat() and h["last_z"] >= policy.health_ticket_sigma:
            check = HEALTH_CHECKS.get(
                h["indicator"],
                {"code": "health_check", "name": f"{h['indicator']} beyond 3σ"},
            )
            tickets.append(TicketRequest("on_demand", now, "HEALTH_3SIGMA", now, (check,)))
            overrides.append(
                f"{h['indicator']} beyond {policy.health_ticket_sigma:g}σ on {h['last_day']} (z = {h['last_z']:+.1f}): visit now"
            )
            break
    if inputs.offline_since is not None and now - inputs.offline_since >= timedelta(
        hours=policy.offline_ticket_hours
    ):
        check = {"code": "terminal_check", "name": "Monitoring terminal offline: power and link"}
        tickets.append(TicketRequest("on_demand", now, "OFFLINE_24H", now, (check,)))
        overrides.append(f"terminal offline since {inputs.offline_since.isoformat()}: visit now")

    return Plan(
        elevator_id=inputs.elevator_id,
        computed_at=now,
        reason=inputs.reason,
        eligible=eligible,
        eligibility=checks,
        risk_score=r,
        factors=fs,
        interval_days=interval,
        interval_reason=why,
        targeted_inspection=targeted,
        next_due_at=next_due,
        calendar=calendar,
        overrides=tuple(overrides),
        on_demand=on_demand,
        tickets=tuple(tickets),
    )
