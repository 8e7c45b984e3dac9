"""Kitchen drill-down: one kitchen's cameras, violations and evidence."""

from __future__ import annotations

from brightwatch.dashboards.boards.common import HYGIENE_POINTS, NOT_DISMISSED, NOT_HYGIENE
from brightwatch.dashboards.model import ALERT_PAGE, Dashboard, Panel, Variable, cols
from brightwatch.i18n import N_

SITE = Variable("site", N_("Kitchen"), "SELECT site_id FROM site WHERE kind = 'kitchen' ORDER BY 1")

# violation points, not a score: the one hygiene score is the statistics' (issue 15:
# every page and list shows the same one; GET /api/v1/stats/kitchens)
SCORE = Panel(
    N_("Violation points (90 days)"),
    "stat",
    f"""
SELECT coalesce({HYGIENE_POINTS}, 0)::int AS points
FROM alert a
WHERE a.kind = 'kitchen' AND a.site_id = '$site' AND a.started_at >= now() - interval '90 days'
  AND a.code NOT IN {NOT_HYGIENE} AND {NOT_DISMISSED}
""",
    cols("points:number"),
    width=6,
    height=6,
    thresholds=((None, "green"), (10, "yellow"), (25, "orange"), (40, "red")),
    description=N_(
        "T1 10, T2 5, T3 1 points per violation not dismissed. The hygiene score and grade"
        " are the statistics' (red/black list, public page)."
    ),
)

CAMERAS = Panel(
    N_("Cameras"),
    "table",
    """
SELECT c.camera_id AS camera, c.name, c.work_area, c.is_public AS public,
       p.availability, p.last_seen AS time,
       (SELECT count(*) FROM evidence ev WHERE ev.site_id = c.site_id AND ev.camera_id = c.camera_id
          AND $__timeFilter(ev.captured_at)) AS evidence_pictures
FROM camera c
LEFT JOIN device_presence p ON p.device_kind = 'camera' AND p.device_key = c.site_id || '/' || c.camera_id
WHERE c.site_id = '$site'
ORDER BY c.camera_id
""",
    cols(
        "camera:text, name:text, work_area:text, public:bool, availability:text, time:time,"
        " evidence_pictures:number"
    ),
    width=18,
    height=6,
)

VIOLATIONS_PER_DAY = Panel(
    N_("Violations per day by code"),
    "timeseries",
    f"""
SELECT $__timeGroupAlias(a.started_at, '1d'), a.code AS metric, count(*) AS value
FROM alert a
WHERE a.kind = 'kitchen' AND a.site_id = '$site' AND $__timeFilter(a.started_at)
  AND {NOT_DISMISSED}
GROUP BY 1, 2 ORDER BY 1, 2
""",
    cols("time:time, metric:text, value:number"),
    format="time_series",
)

VIOLATIONS = Panel(
    N_("Violations and rectification"),
    "table",
    f"""
SELECT a.started_at AS time, a.device_id AS camera, a.code, a.severity AS tier, a.state,
       a.resolved_at AS closed_at,
       round(extract(epoch FROM coalesce(a.resolved_at, now()) - a.started_at) / 3600, 1) AS hours_open,
       a.id AS alert
FROM alert a
WHERE a.kind = 'kitchen' AND a.site_id = '$site' AND $__timeFilter(a.started_at) AND {NOT_DISMISSED}
ORDER BY a.started_at DESC
LIMIT 200
""",
    cols(
        "time:time, camera:text, code:text, tier:text, state:text, closed_at:time,"
        " hours_open:number, alert:number"
    ),
    links=(("alert", ALERT_PAGE),),
    width=24,
)

RECTIFICATION = Panel(
    N_("Rectification cases"),
    "table",
    """
SELECT r.detected_at AS time, r.id AS case_id, r.camera_id AS camera, r.code, r.tier, r.state,
       r.plan_due_at, r.fix_due_at, r.card, r.closed_at
FROM review r
WHERE r.site_id = '$site' AND r.decision = 'confirm' AND $__timeFilter(r.detected_at)
ORDER BY r.detected_at DESC
LIMIT 200
""",
    cols(
        "time:time, case_id:number, camera:text, code:text, tier:text, state:text,"
        " plan_due_at:time, fix_due_at:time, card:text, closed_at:time"
    ),
    width=24,
    description=N_(
        "Kitchens.md: T1 plan within 2 h and re-check after 72 h, yellow card after 5 days"
        " overdue, red after 10; T2 fix within 3 days."
    ),
    requires=("review",),
)

DASHBOARD = Dashboard(
    uid="bw-kitchen",
    title=N_("brightwatch · Kitchen"),
    description=N_("One kitchen: violation points, cameras, violations by code, rectification."),
    panels=(SCORE, CAMERAS, VIOLATIONS_PER_DAY, VIOLATIONS, RECTIFICATION),
    variables=(SITE,),
    time_from="now-30d",
)
