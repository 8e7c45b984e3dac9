"""The planner's inputs, read from the database (the impure half of the planner).

Sources: the registry (install year, inspection validity, firm credit, the site's
management score), the `alert` table (P1/P2 and trapped faults over the window; OFFLINE
alerts for the online ratio and a terminal offline now), `elevator_stats` (the run
counter, resets tolerated; door cycles per run per UTC day, the re-open indicator),
`elevator_status` raw samples, read once per day for two indicators (the vibration
indicator of the running samples' `vibration_rms`, and the median door-cycle time from
the door transitions, `doors`), `ticket` when the ticket desk is installed (last completed
maintenance per type) and the elevator's first plan.

Raw samples are the costly read: a day's raw-sample indicator values are stored with the
plan and a later pass takes them from the previous plan, reading only the last
RECOMPUTE_RECENT_DAYS days again; the range of days a plan accounted for is stored too,
so a day without a value (no vibration sensor, too few door cycles) is not read again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import psycopg

from brightwatch.alerts.tickets.lifecycle import MAINTENANCE_TYPE_VALUES
from brightwatch.elevators.maintenance import store
from brightwatch.elevators.maintenance.doors import door_cycle_time_indicator
from brightwatch.elevators.maintenance.planner import (
    DailySeries,
    Fault,
    FleetFigures,
    PlanInputs,
    midnight,
)
from brightwatch.elevators.maintenance.settings import MaintenancePolicy
from brightwatch.elevators.maintenance.vibration import vibration_indicator
from brightwatch.elevators.rules import TRAPPED

Conn = psycopg.Connection[Any]
# vibration samples read per elevator and day (a terminal reporting every second while
# running gives a few thousand)
MAX_DAILY_SAMPLES = 20_000
# days older than this are taken from the previous plan's stored inputs, not recomputed
# from raw samples (late samples of a spooling terminal settle within it)
RECOMPUTE_RECENT_DAYS = 2
VIBRATION_MIN_SIGMA = 0.25
# the elevator simulator's median door cycle is ~10.5 s with a day-to-day spread of
# 0.1–0.35 s (six simulated hours of 60–70 cycles each, three cars): half a second is
# passengers boarding, not the door operator
DOOR_TIME_MIN_SIGMA = 0.5
VIBRATION = "vibration"
DOOR_TIME = "door-cycle time"
# one extra cycle in fifty runs is ordinary day-to-day variation
DOOR_CYCLES_MIN_SIGMA = 0.02


# runs per elevator between two times, from the cumulative counter (a reset, such as a
# replaced terminal, restarts the count: only increases are added up)
_RUNS = """
SELECT elevator_id, sum(greatest(d, 0)) AS runs,
       extract(epoch FROM max(ts) - min(ts)) / 86400.0 AS span_days
FROM (
    SELECT elevator_id, ts,
           run_count - lag(run_count) OVER (PARTITION BY elevator_id ORDER BY ts, seq) AS d
    FROM elevator_stats
    WHERE ts >= %(since)s AND ts <= %(until)s AND run_count IS NOT NULL {where}
) s
GROUP BY elevator_id
"""


def runs_by_elevator(
    conn: Conn, since: datetime, until: datetime, elevator_id: str | None = None
) -> dict[str, tuple[float, float]]:
    """elevator_id -> (runs, days the counter covers)."""
    where = "AND elevator_id = %(elevator_id)s" if elevator_id else ""
    rows = conn.execute(
        _RUNS.format(where=where), {"since": since, "until": until, "elevator_id": elevator_id}
    ).fetchall()
    return {r[0]: (float(r[1] or 0), float(r[2] or 0)) for r in rows}


def _runs_per_day(runs: float, span_days: float) -> float | None:
    # a counter seen over less than half a day says little about a day's traffic
    return runs / span_days if span_days >= 0.5 else None


def fleet_figures(conn: Conn, policy: MaintenancePolicy, now: datetime) -> FleetFigures:
    """Fault rates and runs per day of every elevator with a run counter."""
    fault_since = now - timedelta(days=policy.fault_window_days)
    runs = runs_by_elevator(conn, fault_since, now)
    p2 = dict(
        conn.execute(
            "SELECT device_id, count(*) FROM alert WHERE kind = 'elevator' AND severity = 'P2'"
            " AND started_at >= %s AND started_at <= %s GROUP BY device_id",
            (fault_since, now),
        ).fetchall()
    )
    rates = tuple(1000.0 * p2.get(e, 0) / r for e, (r, _) in runs.items() if r > 0)
    usage = runs_by_elevator(conn, now - timedelta(days=policy.usage_window_days), now)
    per_day = tuple(
        v for v in (_runs_per_day(r, span) for r, span in usage.values()) if v is not None
    )
    return FleetFigures(fault_rates=rates, runs_per_day=per_day)


def online_ratio(conn: Conn, elevator_id: str, since: datetime, now: datetime) -> float | None:
    """Share of [since, now] not covered by OFFLINE alerts; None for a terminal never seen."""
    seen = conn.execute(
        "SELECT last_seen FROM device_presence WHERE device_kind = 'elevator' AND device_key = %s",
        (elevator_id,),
    ).fetchone()
    if seen is None or seen[0] is None:
        return None
    row = conn.execute(
        "SELECT coalesce(sum(extract(epoch FROM least(coalesce(resolved_at, %(now)s), %(now)s)"
        " - greatest(started_at, %(since)s))), 0) FROM alert"
        " WHERE kind = 'elevator' AND device_id = %(e)s AND code = 'OFFLINE'"
        " AND started_at < %(now)s AND coalesce(resolved_at, %(now)s) > %(since)s",
        {"now": now, "since": since, "e": elevator_id},
    ).fetchone()
    offline = float(row[0]) if row else 0.0
    total = (now - since).total_seconds()
    return max(0.0, min(1.0, 1 - offline / total))


@dataclass(frozen=True)
class Known:
    """An indicator's daily values from the elevator's latest plan."""

    values: dict[date, float]
    # [first, after_last): days that plan accounted for (a day inside without a value had
    # too few usable samples); None for plans stored before the range was recorded
    read: tuple[date, date] | None = None


# the policy fields each raw-sample indicator depends on: stored values computed under
# other settings are not reused
_RAW_PARAMS = {
    VIBRATION: ("vibration_window",),
    DOOR_TIME: ("door_cycle_max_s",),
}


def known_days(previous: dict[str, Any] | None, policy: MaintenancePolicy) -> dict[str, Known]:
    """The daily raw-sample indicator values the elevator's latest plan (`previous`, a
    `store.latest_plan` row) used (its stored inputs), for the indicators computed with the
    same settings as `policy`'s."""
    inputs = previous["inputs"] if previous else {}
    health = (inputs.get("data") or {}).get("health")
    if not health:
        return {}
    stored_policy = inputs.get("policy") or {}
    out: dict[str, Known] = {}
    for series in health:
        name = series.get("name")
        params = _RAW_PARAMS.get(name)
        if params is None or any(stored_policy.get(p) != getattr(policy, p) for p in params):
            continue
        read = series.get("read")
        out[name] = Known(
            {date.fromisoformat(d): float(v) for d, v in series.get("days", [])},
            (date.fromisoformat(read[0]), date.fromisoformat(read[1])) if read else None,
        )
    return out


def _ranges(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days as [first, after_last) ranges."""
    out: list[tuple[date, date]] = []
    for d in days:
        if out and out[-1][1] == d:
            out[-1] = (out[-1][0], d + timedelta(days=1))
        else:
            out.append((d, d + timedelta(days=1)))
    return out


def _settled(
    known: Known | None, since: date, settled: date
) -> tuple[dict[date, float], set[date]]:
    """The values kept from the previous plan and the days that need no raw read."""
    if known is None:
        return {}, set()
    values = {d: v for d, v in known.values.items() if since <= d < settled}
    done = set(values)
    if known.read is not None:
        first, after = max(known.read[0], since), min(known.read[1], settled)
        done.update(first + timedelta(days=i) for i in range(max(0, (after - first).days)))
    return values, done


# One read of an elevator's raw status samples per range of days, for both raw-sample
# indicators: the running samples' vibration_rms (vibration), and for the door-cycle
# time the samples whose (door state, service mode, run state) differ from the day's
# previous sample (a repeat changes nothing in `doors.door_cycles`, and most samples are
# repeats: running every 5 s, idle every 60 s); each in sample order.
_RAW_DAYS = """
SELECT day,
       (array_agg(vibration_rms ORDER BY ts, seq)
            FILTER (WHERE vibration_rms IS NOT NULL AND run_state = 'running'))[1:%(n)s],
       (array_agg(extract(epoch FROM ts)::float8 ORDER BY ts, seq) FILTER (WHERE changed))[1:%(n)s],
       (array_agg(service_mode ORDER BY ts, seq) FILTER (WHERE changed))[1:%(n)s],
       (array_agg(run_state ORDER BY ts, seq) FILTER (WHERE changed))[1:%(n)s],
       (array_agg(door_state ORDER BY ts, seq) FILTER (WHERE changed))[1:%(n)s]
FROM (
    SELECT (ts AT TIME ZONE 'UTC')::date AS day, ts, seq, vibration_rms, service_mode,
           run_state, door_state,
           (door_state, service_mode, run_state)
               IS DISTINCT FROM (lag(door_state) OVER w, lag(service_mode) OVER w,
                                 lag(run_state) OVER w) AS changed
    FROM elevator_status WHERE elevator_id = %(e)s AND ts >= %(since)s AND ts < %(until)s
    WINDOW w AS (PARTITION BY (ts AT TIME ZONE 'UTC')::date ORDER BY ts, seq)
) s
GROUP BY day
"""


def raw_sample_series(
    conn: Conn,
    elevator_id: str,
    since: date,
    until: date,
    policy: MaintenancePolicy,
    known: dict[str, Known] | None = None,
) -> tuple[DailySeries, DailySeries]:
    """The vibration and door-cycle time indicators of each UTC day in [since, until).

    Both come from the same read of the raw status samples. Days the previous plan
    accounted for (`known`) are not read again, except the last RECOMPUTE_RECENT_DAYS
    (late samples of a spooling terminal): a daily pass then reads one day of raw samples
    per elevator, not the whole baseline (130,000+ elevators in a city)."""
    settled = until - timedelta(days=RECOMPUTE_RECENT_DAYS)
    known = known or {}
    vib, vib_done = _settled(known.get(VIBRATION), since, settled)
    door, door_done = _settled(known.get(DOOR_TIME), since, settled)
    days = [since + timedelta(days=i) for i in range((until - since).days)]
    missing = [d for d in days if d not in vib_done or d not in door_done]
    for first, after in _ranges(missing):
        for day, vibration, ts, modes, runs, doors in conn.execute(
            _RAW_DAYS,
            {
                "n": MAX_DAILY_SAMPLES,
                "e": elevator_id,
                "since": midnight(first),
                "until": midnight(after),
            },
        ).fetchall():
            if day not in vib_done and vibration:
                score = vibration_indicator(vibration, policy.vibration_window)
                if score is not None:
                    vib[day] = round(score, 4)
            if day not in door_done:
                median = door_cycle_time_indicator(
                    zip(ts or (), modes or (), runs or (), doors or (), strict=True),
                    policy.door_cycle_max_s,
                )
                if median is not None:
                    door[day] = round(median, 3)
    read = (since, until)
    return (
        # the standard error of a sample's excess kurtosis is about sqrt(24 / n): 0.25 for
        # the few hundred running samples of a quiet day
        DailySeries(VIBRATION, tuple(sorted(vib.items())), VIBRATION_MIN_SIGMA, read),
        DailySeries(DOOR_TIME, tuple(sorted(door.items())), DOOR_TIME_MIN_SIGMA, read),
    )


# door cycles per run, per UTC day, from the cumulative counters: doors that re-open
# (obstructed, worn door operator, misaligned sills) add cycles without adding runs
_DOOR_CYCLES_PER_RUN = """
SELECT day, sum(greatest(dc, 0)) / sum(greatest(dr, 0))
FROM (
    SELECT (ts AT TIME ZONE 'UTC')::date AS day,
           door_cycles - lag(door_cycles) OVER w AS dc,
           run_count - lag(run_count) OVER w AS dr
    FROM elevator_stats
    WHERE elevator_id = %s AND ts >= %s AND ts < %s
      AND run_count IS NOT NULL AND door_cycles IS NOT NULL
    WINDOW w AS (ORDER BY ts, seq)
) s
GROUP BY day HAVING sum(greatest(dr, 0)) >= %s ORDER BY day
"""
# fewer runs than this in a day give no meaningful ratio
MIN_DAILY_RUNS = 20


def door_cycles_per_run_series(
    conn: Conn, elevator_id: str, since: date, until: date
) -> DailySeries:
    rows = conn.execute(
        _DOOR_CYCLES_PER_RUN,
        (elevator_id, midnight(since), midnight(until), MIN_DAILY_RUNS),
    ).fetchall()
    return DailySeries(
        "door cycles per run",
        tuple((d, round(float(v), 4)) for d, v in rows),
        min_sigma=DOOR_CYCLES_MIN_SIGMA,
    )


def plan_inputs(
    conn: Conn,
    elevator_id: str,
    policy: MaintenancePolicy,
    now: datetime,
    fleet: FleetFigures,
    reason: str = "daily",
    previous: dict[str, Any] | None | Literal["load"] = "load",
) -> PlanInputs | None:
    """Everything `planner.plan` needs for one elevator; None if it is not registered.

    `previous` is the elevator's latest plan (`store.latest_plan`, None for none) when the
    caller has read it already; by default it is read here."""
    reg = conn.execute(
        "SELECT e.install_year, e.inspection_valid_until, e.firm_id, f.credit_rating,"
        " f.credit_score, s.management_score"
        " FROM elevator e LEFT JOIN firm f ON f.firm_id = e.firm_id"
        " LEFT JOIN site s ON s.site_id = e.site_id WHERE e.elevator_id = %s",
        (elevator_id,),
    ).fetchone()
    if reg is None:
        return None
    if previous == "load":
        previous = store.latest_plan(conn, elevator_id)
    install_year, valid_until, firm_id, rating, credit, management = reg
    today = now.astimezone(UTC).date()

    window = max(
        policy.fault_window_days,
        policy.trapped_free_days,
        policy.p1_override_days,
        policy.withdraw_window_days,
    )
    faults = tuple(
        Fault(code, severity, started_at, alert_id)
        for alert_id, code, severity, started_at in conn.execute(
            "SELECT id, code, severity, started_at FROM alert WHERE kind = 'elevator'"
            " AND device_id = %s AND started_at >= %s AND started_at <= %s"
            " AND (severity IN ('P1', 'P2') OR code = ANY(%s)) ORDER BY started_at",
            (elevator_id, now - timedelta(days=window), now, list(TRAPPED)),
        ).fetchall()
    )
    offline = conn.execute(
        "SELECT min(started_at) FROM alert WHERE kind = 'elevator' AND device_id = %s"
        " AND code = 'OFFLINE' AND state <> 'resolved'",
        (elevator_id,),
    ).fetchone()

    fault_runs = runs_by_elevator(
        conn, now - timedelta(days=policy.fault_window_days), now, elevator_id
    ).get(elevator_id)
    usage = runs_by_elevator(
        conn, now - timedelta(days=policy.usage_window_days), now, elevator_id
    ).get(elevator_id)

    recent_from = today - timedelta(days=policy.health_recent_days)
    base_from = recent_from - timedelta(days=policy.health_baseline_days)
    vibration, door_time = raw_sample_series(
        conn, elevator_id, base_from, today, policy, known_days(previous, policy)
    )
    health = tuple(
        s
        for s in (
            vibration,
            door_cycles_per_run_series(conn, elevator_id, base_from, today),
            door_time,
        )
        # a raw-sample series without values is kept: its `read` range spares the next
        # pass from reading those days again
        if s.days or s.read
    )

    last_done: dict[str, datetime] = {}
    for kind, done in conn.execute(
        "SELECT type, max(completed_at) FROM ticket WHERE elevator_id = %s"
        " AND type = ANY(%s) AND completed_at IS NOT NULL AND completed_at <= %s GROUP BY type",
        (elevator_id, MAINTENANCE_TYPE_VALUES, now),
    ).fetchall():
        last_done[kind] = done
    first = conn.execute(
        "SELECT min(computed_at) FROM maintenance_plan WHERE elevator_id = %s", (elevator_id,)
    ).fetchone()

    return PlanInputs(
        elevator_id=elevator_id,
        now=now,
        reason=reason,
        install_year=install_year,
        inspection_valid_until=valid_until,
        firm_id=firm_id,
        firm_credit_rating=rating,
        firm_credit_score=float(credit) if credit is not None else None,
        management_score=float(management) if management is not None else None,
        online_ratio=online_ratio(
            conn, elevator_id, now - timedelta(days=policy.online_window_days), now
        ),
        offline_since=offline[0] if offline else None,
        faults=faults,
        runs_in_fault_window=fault_runs[0] if fault_runs else None,
        runs_per_day=_runs_per_day(*usage) if usage else None,
        health=health,
        last_maintenance_at=max(last_done.values()) if last_done else None,
        last_done={k: v for k, v in last_done.items() if k != "on_demand"},
        planned_since=first[0] if first else None,
        fleet=fleet,
    )
