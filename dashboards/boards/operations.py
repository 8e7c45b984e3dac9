"""Operations board: is the pipeline keeping up?"""

from __future__ import annotations

from brightwatch.dashboards.model import Dashboard, Panel, cols
from brightwatch.i18n import N_

INGEST_RATE = Panel(
    N_("Status samples stored per hour"),
    "timeseries",
    """
SELECT bucket AS time, sum(samples) AS samples
FROM elevator_status_hourly
WHERE $__timeFilter(bucket)
GROUP BY bucket ORDER BY 1
""",
    cols("time:time, samples:number"),
    format="time_series",
)

LAG = Panel(
    N_("Ingest lag now (arrival minus device time)"),
    "stat",
    """
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM last_seen - last_ts)) AS p50_s,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM last_seen - last_ts)) AS p99_s,
       count(*) AS devices_reporting
FROM device_presence
WHERE last_seen > now() - interval '5 minutes' AND last_ts IS NOT NULL
""",
    cols("p50_s:number, p99_s:number, devices_reporting:number"),
    width=8,
    height=5,
    unit="s",
)

GAPS = Panel(
    N_("Devices offline, sequence gaps"),
    "stat",
    """
SELECT count(*) FILTER (WHERE availability = 'offline') AS offline,
       coalesce(sum(seq_gaps), 0) AS missing_messages
FROM device_presence
""",
    cols("offline:number, missing_messages:number"),
    width=8,
    height=5,
)

QUEUES = Panel(
    N_("Outgoing queues"),
    "stat",
    """
SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL AND dead_at IS NULL)
         AS outbox_pending,
       (SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL) AS outbox_dead,
       (SELECT count(*) FROM delivery WHERE state = 'pending') AS deliveries_pending,
       (SELECT count(*) FROM delivery WHERE state = 'failed') AS deliveries_failed
""",
    cols(
        "outbox_pending:number, outbox_dead:number, deliveries_pending:number,"
        " deliveries_failed:number"
    ),
    width=8,
    height=5,
)

DEAD_LETTERS = Panel(
    N_("Dead letters per hour by reason"),
    "timeseries",
    """
SELECT $__timeGroupAlias(received_at, '1h'), split_part(reason, ':', 1) AS metric, count(*) AS value
FROM dead_letter
WHERE $__timeFilter(received_at)
GROUP BY 1, 2 ORDER BY 1, 2
""",
    cols("time:time, metric:text, value:number"),
    format="time_series",
)

LATEST_DEAD = Panel(
    N_("Latest dead letters"),
    "table",
    """
SELECT received_at AS time, topic, reason, payload_size, worker
FROM dead_letter
WHERE $__timeFilter(received_at)
ORDER BY received_at DESC
LIMIT 100
""",
    cols("time:time, topic:text, reason:text, payload_size:number, worker:text"),
)

REVIEW_SPEED = Panel(
    N_("Review queue: waiting, and officers' decision time per hour"),
    "timeseries",
    """
SELECT $__timeGroupAlias(decided_at, '1h'),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY decision_seconds) AS median_s,
       count(*) AS decisions,
       (SELECT count(*) FROM review WHERE state = 'pending_review') AS waiting
FROM review
WHERE decided_at IS NOT NULL AND decision_seconds IS NOT NULL AND $__timeFilter(decided_at)
GROUP BY 1 ORDER BY 1
""",
    cols("time:time, median_s:number, decisions:number, waiting:number"),
    format="time_series",
    description=N_("Kitchens.md: target a median decision under 3 s (Shenzhen: 9 s today)."),
    requires=("review",),
)

DASHBOARD = Dashboard(
    uid="bw-operations",
    title=N_("brightwatch · Operations"),
    description=N_(
        "Ingest rate and lag, device presence, dead letters, outgoing queues, review speed."
    ),
    panels=(LAG, GAPS, QUEUES, INGEST_RATE, DEAD_LETTERS, LATEST_DEAD, REVIEW_SPEED),
    time_from="now-24h",
    refresh="30s",
)
