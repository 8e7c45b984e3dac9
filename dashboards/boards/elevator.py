"""Elevator drill-down: one elevator's state, faults and usage over time."""

from __future__ import annotations

from brightwatch.dashboards.model import ALERT_PAGE, Dashboard, Panel, Variable, cols
from brightwatch.i18n import N_

ELEVATOR = Variable(
    "elevator",
    N_("Elevator"),
    "SELECT elevator_id FROM elevator ORDER BY 1",
)

LATEST = Panel(
    N_("Now"),
    "table",
    """
SELECT e.elevator_id AS elevator, e.address, e.firm_id AS firm, p.availability,
       p.last_seen AS time, p.last_status->>'service_mode' AS service_mode,
       p.last_status->>'run_state' AS run_state, (p.last_status->>'floor')::int AS floor,
       p.last_status->>'door_state' AS door_state
FROM elevator e
LEFT JOIN device_presence p ON p.device_kind = 'elevator' AND p.device_key = e.elevator_id
WHERE e.elevator_id = '$elevator'
""",
    cols(
        "elevator:text, address:text, firm:text, availability:text, time:time,"
        " service_mode:text, run_state:text, floor:number, door_state:text"
    ),
    width=24,
    height=4,
)

STATUS_TIMELINE = Panel(
    N_("Status timeline"),
    "state-timeline",
    """
SELECT time, service_mode, run_state, door_state FROM (
    SELECT ts AS time, service_mode, run_state, door_state,
           lag(service_mode || run_state || door_state) OVER (ORDER BY ts) AS previous
    FROM elevator_status
    WHERE elevator_id = '$elevator' AND $__timeFilter(ts)
) s
WHERE previous IS DISTINCT FROM service_mode || run_state || door_state
ORDER BY time
""",
    cols("time:time, service_mode:text, run_state:text, door_state:text"),
    width=24,
    height=7,
    options={"mergeValues": True, "showValue": "never"},
    description=N_(
        "Only the samples where the state changed: a state timeline draws the same,"
        " with a fraction of the rows."
    ),
)

FAULTS = Panel(
    N_("Faults"),
    "table",
    """
SELECT a.started_at AS time, a.code, a.severity, a.state, a.count,
       round(extract(epoch FROM coalesce(a.resolved_at, now()) - a.started_at) / 60, 1) AS minutes,
       coalesce(nullif(a.summaries ->> $__bw_locale, ''), a.summary) AS summary, a.id AS alert
FROM alert a
WHERE a.kind = 'elevator' AND a.device_id = '$elevator' AND $__timeFilter(a.started_at)
ORDER BY a.started_at DESC
LIMIT 200
""",
    cols(
        "time:time, code:text, severity:text, state:text, count:number, minutes:number,"
        " summary:text, alert:number"
    ),
    links=(("alert", ALERT_PAGE),),
    time_from="30d",
    description=N_(
        "The summary in the board's language where the rule wrote it in every language,"
        " else as stored (the deployment's language)."
    ),
)

RUNS_PER_DAY = Panel(
    N_("Runs per day"),
    "barchart",
    """
SELECT $__timeGroupAlias(ts, '1d'), max(run_count) - min(run_count) AS runs
FROM elevator_stats
WHERE elevator_id = '$elevator' AND $__timeFilter(ts)
GROUP BY 1 ORDER BY 1
""",
    cols("time:time, runs:number"),
    format="time_series",
    time_from="30d",
    description=N_("From the terminal's cumulative run counter (elevator stats messages)."),
)

USAGE = Panel(
    N_("Usage per hour"),
    "timeseries",
    """
SELECT bucket AS time,
       running_samples::float8 / nullif(samples, 0) AS running,
       person_samples::float8 / nullif(samples, 0) AS occupied,
       door_open_samples::float8 / nullif(samples, 0) AS door_open
FROM elevator_status_hourly
WHERE elevator_id = '$elevator' AND $__timeFilter(bucket)
ORDER BY 1
""",
    cols("time:time, running:number, occupied:number, door_open:number"),
    format="time_series",
    time_from="7d",
    unit="percentunit",
)

VIBRATION = Panel(
    N_("Vibration RMS per hour (health trend)"),
    "timeseries",
    """
SELECT bucket AS time, avg_vibration_rms AS mean, max_vibration_rms AS max
FROM elevator_status_hourly
WHERE elevator_id = '$elevator' AND $__timeFilter(bucket)
ORDER BY 1
""",
    cols("time:time, mean:number, max:number"),
    format="time_series",
    time_from="30d",
    unit="m/s²",
    description=N_(
        "Elevators.md, health trend: drift against the elevator's own baseline feeds the risk score."
    ),
)

RISK = Panel(
    N_("Risk score and maintenance interval over time"),
    "timeseries",
    """
SELECT computed_at AS time, risk_score, interval_days
FROM maintenance_plan
WHERE elevator_id = '$elevator' AND $__timeFilter(computed_at)
ORDER BY computed_at
""",
    cols("time:time, risk_score:number, interval_days:number"),
    format="time_series",
    time_from="90d",
    description=N_(
        "Elevators.md, on-demand maintenance: R < 0.25 -> 30 days, < 0.50 -> 21,"
        " < 0.75 -> 15, else 7 days and a targeted inspection; recomputed daily."
    ),
    options={"legend": {"displayMode": "list", "placement": "bottom"}},
    requires=("maintenance_plan",),
)

DASHBOARD = Dashboard(
    uid="bw-elevator",
    title=N_("brightwatch · Elevator"),
    description=N_(
        "One elevator: status timeline, faults, runs per day, risk score and interval,"
        " usage and vibration."
    ),
    panels=(LATEST, STATUS_TIMELINE, FAULTS, RUNS_PER_DAY, RISK, USAGE, VIBRATION),
    variables=(ELEVATOR,),
    # the status timeline reads raw samples: a day by default, trends carry their own range
    time_from="now-24h",
)
