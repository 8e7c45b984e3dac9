"""Elevator statistics in SQL, per elevator, district, firm or the city, over a window
[since, until):

- rescue arrival: over rescue tickets whose fault was confirmed in the window, minutes
  from the confirmation to the firm's arrival: median and 90th percentile (linear
  interpolation, `percentile_cont`) of those that arrived; `within_sla`: the share that
  arrived within the rescue SLA (elevators.md: 30 min in a city, `[alerts.tickets.rescue]
  arrived_s`) among those that arrived or whose deadline has passed (a rescue nobody
  reached counts as missed).
- faults per 1,000 runs: elevator alerts with a catalogue code of severity P1 or P2
  started in the window, x 1,000 / runs; runs are the growth of each elevator's
  cumulative `run_count` (stats messages) over the window: the last counter in the window
  minus the last one before it (or the first in the window), never negative.
- on-time maintenance: of maintenance tickets due in the window whose due date has passed
  or which were completed, the share completed by the due date.

Tickets count for the district and firm recorded on the ticket (the firm that held it
last); faults and runs for the elevator's registry district and firm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from brightwatch.alerts.tickets.lifecycle import MAINTENANCE_TYPE_VALUES
from brightwatch.contract.codes import ELEVATOR_CATALOGUE

Level = Literal["elevator", "district", "firm", "city"]
FAULT_CODES = sorted(c for c, e in ELEVATOR_CATALOGUE.items() if e.severity in ("P1", "P2"))

# the group key of each level, for ticket rows (t) and elevator rows (e)
TICKET_KEY = {
    "elevator": "t.elevator_id",
    "district": "t.district",
    "firm": "COALESCE(t.firm_id, '')",
    "city": "'city'",
}
ELEVATOR_KEY = {
    "elevator": "e.elevator_id",
    "district": "e.district",
    "firm": "COALESCE(e.firm_id, '')",
    "city": "'city'",
}


KEY_NAME: dict[str, str | None] = {
    "elevator": "elevator_id",
    "district": "district",
    "firm": "firm_id",
    "city": None,
}


@dataclass(frozen=True)
class Scope:
    firm_id: str | None = None
    district: str | None = None
    elevator_id: str | None = None


def _conditions(scope: Scope, alias: str) -> tuple[str, dict[str, Any]]:
    where, params = [], {}
    if scope.firm_id is not None:
        where.append(f"{alias}.firm_id = %(firm_id)s")
        params["firm_id"] = scope.firm_id
    if scope.district is not None:
        where.append(f"{alias}.district = %(district)s")
        params["district"] = scope.district
    if scope.elevator_id is not None:
        where.append(f"{alias}.elevator_id = %(elevator_id)s")
        params["elevator_id"] = scope.elevator_id
    return " AND ".join(where) or "TRUE", params


def elevator_stats(
    conn: psycopg.Connection[Any],
    since: datetime,
    until: datetime,
    now: datetime,
    level: Level,
    rescue_sla_s: int,
    scope: Scope = Scope(),
) -> list[dict[str, Any]]:
    tk, ek = TICKET_KEY[level], ELEVATOR_KEY[level]
    t_where, params = _conditions(scope, "t")
    e_where, _ = _conditions(scope, "e")
    params.update(
        since=since,
        until=until,
        now=now,
        sla=rescue_sla_s,
        codes=FAULT_CODES,
        maintenance=MAINTENANCE_TYPE_VALUES,
    )
    sql = f"""
WITH rescue AS (
    SELECT {tk} AS key,
           count(*) AS rescues,
           count(t.arrived_at) AS arrived,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM t.arrived_at - t.confirmed_at) / 60) AS arrival_median_min,
           percentile_cont(0.9) WITHIN GROUP (
               ORDER BY extract(epoch FROM t.arrived_at - t.confirmed_at) / 60) AS arrival_p90_min,
           count(*) FILTER (WHERE t.arrived_at IS NOT NULL
               OR t.confirmed_at + make_interval(secs => %(sla)s) <= %(now)s) AS sla_due,
           count(*) FILTER (WHERE t.arrived_at <= t.confirmed_at + make_interval(secs => %(sla)s))
               AS within_sla_count
    FROM ticket t
    WHERE t.type = 'rescue' AND t.confirmed_at >= %(since)s AND t.confirmed_at < %(until)s
      AND t.state NOT IN ('false_alarm', 'cancelled') AND {t_where}
    GROUP BY 1
), upkeep AS (
    SELECT {tk} AS key,
           count(*) AS maintenance_due,
           count(*) FILTER (WHERE t.completed_at IS NOT NULL AND t.completed_at <= t.due_at)
               AS maintenance_on_time
    FROM ticket t
    WHERE t.type = ANY(%(maintenance)s) AND t.due_at >= %(since)s AND t.due_at < %(until)s
      AND t.state <> 'cancelled'
      AND (t.due_at <= %(now)s OR t.completed_at IS NOT NULL) AND {t_where}
    GROUP BY 1
), elevators AS (
    SELECT e.elevator_id, e.district, e.firm_id FROM elevator e WHERE {e_where}
), faults AS (
    SELECT {ek} AS key, count(*) AS faults
    FROM alert a JOIN elevators e ON e.elevator_id = a.device_id
    WHERE a.kind = 'elevator' AND a.code = ANY(%(codes)s) AND a.severity IN ('P1', 'P2')
      AND a.started_at >= %(since)s AND a.started_at < %(until)s
    GROUP BY 1
), counters AS (
    SELECT e.elevator_id, e.district, e.firm_id,
           GREATEST(0, last_in.run_count - COALESCE(before.run_count, first_in.run_count)) AS runs
    FROM elevators e
    JOIN LATERAL (SELECT run_count FROM elevator_stats s WHERE s.elevator_id = e.elevator_id
                  AND s.ts >= %(since)s AND s.ts < %(until)s AND s.run_count IS NOT NULL
                  ORDER BY s.ts DESC, s.seq DESC LIMIT 1) last_in ON true
    LEFT JOIN LATERAL (SELECT run_count FROM elevator_stats s WHERE s.elevator_id = e.elevator_id
                  AND s.ts >= %(since)s AND s.ts < %(until)s AND s.run_count IS NOT NULL
                  ORDER BY s.ts, s.seq LIMIT 1) first_in ON true
    LEFT JOIN LATERAL (SELECT run_count FROM elevator_stats s WHERE s.elevator_id = e.elevator_id
                  AND s.ts < %(since)s AND s.run_count IS NOT NULL
                  ORDER BY s.ts DESC, s.seq DESC LIMIT 1) before ON true
), runs AS (
    SELECT {ek} AS key, sum(e.runs)::bigint AS runs FROM counters e GROUP BY 1
), keys AS (
    SELECT key FROM rescue UNION SELECT key FROM upkeep UNION SELECT key FROM faults
    UNION SELECT key FROM runs
)
SELECT k.key,
       COALESCE(r.rescues, 0) AS rescues,
       COALESCE(r.arrived, 0) AS rescues_arrived,
       r.arrival_median_min, r.arrival_p90_min,
       CASE WHEN r.sla_due > 0 THEN r.within_sla_count::float8 / r.sla_due END AS within_sla,
       COALESCE(f.faults, 0) AS faults,
       COALESCE(n.runs, 0) AS runs,
       CASE WHEN n.runs > 0 THEN COALESCE(f.faults, 0) * 1000.0::float8 / n.runs END AS faults_per_1000_runs,
       COALESCE(u.maintenance_due, 0) AS maintenance_due,
       COALESCE(u.maintenance_on_time, 0) AS maintenance_on_time,
       CASE WHEN u.maintenance_due > 0
            THEN u.maintenance_on_time::float8 / u.maintenance_due END AS maintenance_on_time_rate
FROM keys k
LEFT JOIN rescue r ON r.key = k.key
LEFT JOIN upkeep u ON u.key = k.key
LEFT JOIN faults f ON f.key = k.key
LEFT JOIN runs n ON n.key = k.key
ORDER BY k.key
"""  # noqa: S608  (constant SQL put together from parts; every value is a parameter)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql, params).fetchall()
    name = KEY_NAME[level]
    for r in rows:
        key = r.pop("key")
        if name is not None:
            r[name] = key or (None if level == "firm" else key)
    return rows
