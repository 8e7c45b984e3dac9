"""City overview: what a bureau watches on the wall."""

from __future__ import annotations

from brightwatch.dashboards.boards.common import (
    DISTRICT,
    DISTRICT_OF_ELEVATOR,
    DISTRICT_OF_SITE,
    HYGIENE_POINTS,
    NOT_DISMISSED,
    NOT_HYGIENE,
)
from brightwatch.dashboards.model import ALERT_PAGE, Dashboard, Panel, cols
from brightwatch.i18n import N_

ELEVATORS_ONLINE = Panel(
    N_("Elevators online"),
    "stat",
    f"""
SELECT count(*) FILTER (WHERE p.availability = 'online') AS online,
       count(*) AS registered
FROM elevator e
LEFT JOIN device_presence p ON p.device_kind = 'elevator' AND p.device_key = e.elevator_id
WHERE {DISTRICT_OF_ELEVATOR} IN ($district)
""",
    cols("online:number, registered:number"),
    width=6,
    height=5,
    description=N_("Terminals whose last availability message was `online`, of those registered."),
)

OPEN_P1_P2 = Panel(
    N_("Open P1 / P2 elevator alerts"),
    "stat",
    f"""
SELECT count(*) FILTER (WHERE a.severity = 'P1') AS "P1",
       count(*) FILTER (WHERE a.severity = 'P2') AS "P2"
FROM alert a JOIN elevator e ON e.elevator_id = a.device_id
WHERE a.kind = 'elevator' AND a.state <> 'resolved' AND a.severity IN ('P1', 'P2')
  AND {DISTRICT_OF_ELEVATOR} IN ($district)
""",
    cols("P1:number, P2:number"),
    width=6,
    height=5,
    thresholds=((None, "green"), (1, "red")),
    description=N_(
        "P1: life safety (trapped passengers first); P2: safety fault or out of service."
    ),
)

KITCHENS_STREAMING = Panel(
    N_("Kitchens streaming"),
    "stat",
    f"""
SELECT count(DISTINCT s.site_id) FILTER (WHERE p.availability = 'online') AS streaming,
       count(DISTINCT s.site_id) AS kitchens,
       count(*) FILTER (WHERE p.availability = 'online') AS cameras_online,
       count(c.camera_id) AS cameras
FROM site s
LEFT JOIN camera c ON c.site_id = s.site_id
LEFT JOIN device_presence p ON p.device_kind = 'camera' AND p.device_key = c.site_id || '/' || c.camera_id
WHERE s.kind = 'kitchen' AND {DISTRICT_OF_SITE} IN ($district)
""",
    cols("streaming:number, kitchens:number, cameras_online:number, cameras:number"),
    width=12,
    height=5,
    description=N_("Coverage (kitchens.md, Statistics): kitchens with at least one camera online."),
)

# Bright-kitchen coverage as GET /api/v1/stats/kitchens/coverage computes it
# (alerts.stats.queries.kitchen_coverage): a kitchen is covered when a camera streamed in
# the range and its cameras' online rate in operating hours (counted from each camera's
# registration) is at least 50 % (the default of [alerts.stats] coverage_min_online_rate)
COVERED_KITCHENS = f"""
WITH k AS (
    SELECT s.site_id, {DISTRICT_OF_SITE} AS district,
           coalesce(s.kitchen_type, 'other') AS kitchen_type, s.operating_hours, s.timezone
    FROM site s
    WHERE s.kind = 'kitchen' AND {DISTRICT_OF_SITE} IN ($district)
), cams AS (
    SELECT c.site_id, h.online_h, h.operating_online_h, h.operating_h
    FROM k JOIN camera c ON c.site_id = k.site_id
    CROSS JOIN LATERAL (
        SELECT greatest($__timeFrom()::timestamptz, least(c.created_at,
                   (SELECT min(l.received_at) FROM availability_log l
                    WHERE l.device_kind = 'camera'
                      AND l.device_key = c.site_id || '/' || c.camera_id))) AS a,
               least($__timeTo()::timestamptz, now()) AS b
    ) w
    CROSS JOIN LATERAL bw_camera_hours(c.site_id, c.camera_id, k.operating_hours, k.timezone,
                                       w.a, w.b) h
    WHERE w.a < w.b
), per_kitchen AS (
    SELECT k.site_id, k.district, k.kitchen_type,
           coalesce(sum(cams.online_h), 0) > 0 AND coalesce(sum(cams.operating_h), 0) > 0
           AND sum(cams.operating_online_h) / sum(cams.operating_h) >= 0.5 AS covered
    FROM k LEFT JOIN cams ON cams.site_id = k.site_id
    GROUP BY k.site_id, k.district, k.kitchen_type
)"""

KITCHEN_COVERAGE = Panel(
    N_("Bright-kitchen coverage"),
    "stat",
    COVERED_KITCHENS
    + """
SELECT round(100.0 * count(*) FILTER (WHERE covered) / greatest(count(*), 1), 1) AS coverage_pct,
       count(*) FILTER (WHERE covered) AS covered,
       count(*) AS registered
FROM per_kitchen
""",
    cols("coverage_pct:number, covered:number, registered:number"),
    width=6,
    height=5,
    thresholds=((None, "red"), (80, "orange"), (90, "green")),
    description=N_(
        "Kitchens covered of those registered: a camera streamed in the range with an online"
        " rate in operating hours of at least 50 %. The bureau's target: 90 %."
    ),
)


def _coverage_by(title: str, key: str, order: str, description: str) -> Panel:
    """Registered and covered kitchens, and the rate, per value of `key`."""
    return Panel(
        title,
        "table",
        COVERED_KITCHENS
        + f"""
SELECT {key}, count(*) AS registered, count(*) FILTER (WHERE covered) AS covered,
       round(100.0 * count(*) FILTER (WHERE covered) / count(*), 1) AS coverage_pct
FROM per_kitchen GROUP BY {key} ORDER BY {order}
""",
        cols(f"{key}:text, registered:number, covered:number, coverage_pct:number"),
        width=9,
        height=8,
        description=description,
    )


COVERAGE_BY_TYPE = _coverage_by(
    N_("Coverage by kitchen type"),
    "kitchen_type",
    "kitchen_type",
    N_(
        "restaurant, delivery_only, school_canteen, canteen, central_kitchen, other"
        " (a kitchen without a type counts as other). Every school canteen covered is a target."
    ),
)

COVERAGE_BY_DISTRICT = _coverage_by(
    N_("Coverage by district"), "district", "coverage_pct, district", N_("Lowest coverage first.")
)

OPEN_ALERTS_TABLE = Panel(
    N_("Open P1 / P2 alerts"),
    "table",
    f"""
SELECT a.started_at AS time, a.severity, a.code, a.device_id AS elevator, {DISTRICT_OF_ELEVATOR} AS district,
       e.address, a.state, a.count,
       round(extract(epoch FROM now() - a.started_at) / 60) AS open_minutes, a.id AS alert
FROM alert a JOIN elevator e ON e.elevator_id = a.device_id
WHERE a.kind = 'elevator' AND a.state <> 'resolved' AND a.severity IN ('P1', 'P2')
  AND {DISTRICT_OF_ELEVATOR} IN ($district)
ORDER BY a.severity, a.started_at
LIMIT 100
""",
    cols(
        "time:time, severity:text, code:text, elevator:text, district:text, address:text,"
        " state:text, count:number, open_minutes:number, alert:number"
    ),
    links=(("alert", ALERT_PAGE),),
    width=24,
    height=8,
)

ALERTS_PER_HOUR = Panel(
    N_("Elevator alerts per hour by severity"),
    "timeseries",
    f"""
SELECT $__timeGroupAlias(a.started_at, '1h'),
       count(*) FILTER (WHERE a.severity = 'P1') AS "P1",
       count(*) FILTER (WHERE a.severity = 'P2') AS "P2",
       count(*) FILTER (WHERE a.severity = 'P3') AS "P3"
FROM alert a JOIN elevator e ON e.elevator_id = a.device_id
WHERE a.kind = 'elevator' AND $__timeFilter(a.started_at) AND {DISTRICT_OF_ELEVATOR} IN ($district)
GROUP BY 1 ORDER BY 1
""",
    cols("time:time, P1:number, P2:number, P3:number"),
    format="time_series",
)

TRAPPED_RELEASE = Panel(
    N_("Trapped passengers: minutes until released, per day (30-min rescue SLA)"),
    "timeseries",
    f"""
SELECT $__timeGroupAlias(a.started_at, '1d'),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.resolved_at - a.started_at) / 60) AS median_minutes,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.resolved_at - a.started_at) / 60) AS p90_minutes,
       30 AS sla_minutes
FROM alert a JOIN elevator e ON e.elevator_id = a.device_id
WHERE a.kind = 'elevator' AND a.code IN ('TRAPPED_OUT_ZONE', 'TRAPPED_IN_ZONE')
  AND a.resolved_at IS NOT NULL AND $__timeFilter(a.started_at) AND {DISTRICT_OF_ELEVATOR} IN ($district)
GROUP BY 1 ORDER BY 1
""",
    cols("time:time, median_minutes:number, p90_minutes:number, sla_minutes:number"),
    format="time_series",
    unit="m",
    description=N_(
        "Elevators.md: a rescue must arrive within 30 minutes in a city. Time from the"
        " trapped fault to its clearing (door opened in the zone or the car left empty)."
    ),
)

FLEET_USAGE = Panel(
    N_("Fleet: share of samples running, per hour"),
    "timeseries",
    """
SELECT bucket AS time,
       sum(running_samples)::float8 / nullif(sum(samples), 0) AS running_share,
       sum(person_samples)::float8 / nullif(sum(samples), 0) AS occupied_share,
       sum(elevators) AS elevators_reporting
FROM elevator_fleet_hourly
WHERE $__timeFilter(bucket) AND district IN ($district)
GROUP BY bucket ORDER BY 1
""",
    cols("time:time, running_share:number, occupied_share:number, elevators_reporting:number"),
    format="time_series",
    unit="percentunit",
    description=N_(
        "Share of status samples with the car running / occupied, all elevators of"
        " the chosen districts (per-district hourly rollup, migration 0070)."
    ),
)

RESCUE_ARRIVAL = Panel(
    N_("Rescue arrival after the trapped fault, per day (30-min SLA)"),
    "timeseries",
    f"""
SELECT $__timeGroupAlias(t.confirmed_at, '1d'),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.arrived_at - t.confirmed_at) / 60) AS median_minutes,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM t.arrived_at - t.confirmed_at) / 60) AS p90_minutes,
       avg((t.arrived_at - t.confirmed_at <= interval '30 minutes')::int)::float8 AS within_sla,
       30 AS sla_minutes
FROM ticket t JOIN elevator e ON e.elevator_id = t.elevator_id
WHERE t.type = 'rescue' AND t.arrived_at IS NOT NULL AND $__timeFilter(t.confirmed_at)
  AND {DISTRICT_OF_ELEVATOR} IN ($district)
GROUP BY 1 ORDER BY 1
""",
    cols(
        "time:time, median_minutes:number, p90_minutes:number, within_sla:number, sla_minutes:number"
    ),
    format="time_series",
    description=N_(
        "Elevators.md, Tickets: a rescue must arrive within 30 minutes in a city; from the"
        " fault's confirmation to the firm's check-in."
    ),
    requires=("ticket",),
)

MAINTENANCE_BY_FIRM = Panel(
    N_("Maintenance due and overdue by firm"),
    "table",
    f"""
SELECT coalesce(t.firm_id, '(unassigned)') AS firm,
       count(*) FILTER (WHERE t.due_at < now()) AS overdue,
       count(*) FILTER (WHERE t.due_at >= now() AND t.due_at < now() + interval '7 days') AS due_7_days,
       count(*) FILTER (WHERE t.due_at >= now() + interval '7 days') AS later,
       min(t.due_at) AS time
FROM ticket t JOIN elevator e ON e.elevator_id = t.elevator_id
WHERE t.type IN ('on_demand', 'quarterly', 'half_yearly', 'yearly')
  AND t.state NOT IN ('completed', 'verified', 'false_alarm', 'cancelled')
  AND {DISTRICT_OF_ELEVATOR} IN ($district)
GROUP BY 1
ORDER BY overdue DESC, due_7_days DESC, firm
""",
    cols("firm:text, overdue:number, due_7_days:number, later:number, time:time"),
    thresholds=((None, "green"), (1, "red")),
    description=N_(
        "Open maintenance tickets by due date (TSG T5002 rounds and on-demand visits);"
        " `time` is the earliest due date."
    ),
    requires=("ticket",),
)

VIOLATION_RATE = Panel(
    N_("Kitchen violations per 1,000 camera-hours by district and code"),
    "table",
    f"""
WITH cameras AS (
    SELECT {DISTRICT_OF_SITE} AS district, count(*) AS cameras
    FROM camera c JOIN site s ON s.site_id = c.site_id
    WHERE s.kind = 'kitchen' GROUP BY 1
), violations AS (
    SELECT {DISTRICT_OF_SITE} AS district, a.code, count(*) AS violations
    FROM alert a JOIN site s ON s.site_id = a.site_id
    WHERE a.kind = 'kitchen' AND $__timeFilter(a.started_at) AND a.code NOT IN {NOT_HYGIENE}
      AND {NOT_DISMISSED}
    GROUP BY 1, 2
)
SELECT v.district, v.code, v.violations,
       round((1000.0 * v.violations / (c.cameras
             * extract(epoch FROM $__timeTo()::timestamptz - $__timeFrom()::timestamptz) / 3600))::numeric, 2)
         AS per_1000_camera_hours
FROM violations v JOIN cameras c ON c.district = v.district
WHERE v.district IN ($district)
ORDER BY per_1000_camera_hours DESC, v.district, v.code
""",
    cols("district:text, code:text, violations:number, per_1000_camera_hours:number"),
    description=N_(
        "Camera-hours: registered cameras of the district times the hours of the range."
    ),
)

HYGIENE_SCORES = Panel(
    N_("Violation points, most first (last 90 days)"),
    "table",
    f"""
SELECT s.site_id AS kitchen, s.name, {DISTRICT_OF_SITE} AS district,
       coalesce({HYGIENE_POINTS}, 0)::int AS points,
       count(a.id) FILTER (WHERE a.state <> 'resolved') AS open_violations,
       count(a.id) AS violations
FROM site s
LEFT JOIN alert a ON a.site_id = s.site_id AND a.kind = 'kitchen'
     AND a.started_at >= now() - interval '90 days' AND a.code NOT IN {NOT_HYGIENE} AND {NOT_DISMISSED}
WHERE s.kind = 'kitchen' AND {DISTRICT_OF_SITE} IN ($district)
GROUP BY s.site_id, s.name, s.district
ORDER BY points DESC, open_violations DESC, kitchen
LIMIT 200
""",
    cols(
        "kitchen:text, name:text, district:text, points:number, open_violations:number,"
        " violations:number"
    ),
    thresholds=((None, "green"), (10, "yellow"), (25, "orange"), (40, "red")),
    description=N_(
        "T1 10 / T2 5 / T3 1 points per violation not dismissed (Fuzhou credit-point"
        " practice). The hygiene score and the red/black list are the statistics' (API)."
    ),
)

DASHBOARD = Dashboard(
    uid="bw-city",
    title=N_("brightwatch · City overview"),
    description=N_(
        "Elevators online, open P1/P2 alerts, rescue times against the 30-min SLA,"
        " maintenance due and overdue by firm, kitchens streaming, bright-kitchen coverage,"
        " violation rates and violation points."
    ),
    panels=(
        ELEVATORS_ONLINE,
        OPEN_P1_P2,
        KITCHENS_STREAMING,
        KITCHEN_COVERAGE,
        COVERAGE_BY_TYPE,
        COVERAGE_BY_DISTRICT,
        OPEN_ALERTS_TABLE,
        ALERTS_PER_HOUR,
        TRAPPED_RELEASE,
        RESCUE_ARRIVAL,
        MAINTENANCE_BY_FIRM,
        FLEET_USAGE,
        VIOLATION_RATE,
        HYGIENE_SCORES,
    ),
    variables=(DISTRICT,),
    time_from="now-7d",
)
