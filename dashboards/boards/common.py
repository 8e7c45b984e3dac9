"""SQL fragments the dashboards share."""

from __future__ import annotations

from brightwatch.contract.codes import CAMERA_HEALTH
from brightwatch.dashboards.model import Variable
from brightwatch.i18n import N_

# districts: '' (not recorded) shows as (none), so "All" really is all
DISTRICT_OF_SITE = "coalesce(nullif(s.district, ''), '(none)')"
DISTRICT_OF_ELEVATOR = "coalesce(nullif(e.district, ''), '(none)')"

DISTRICT = Variable(
    "district",
    N_("District"),
    "SELECT DISTINCT coalesce(nullif(district, ''), '(none)') AS district"
    " FROM (SELECT district FROM site UNION SELECT district FROM elevator) d ORDER BY 1",
    multi=True,
    include_all=True,
)

# kitchens.md: camera faults are operations, not hygiene; dismissed flags never count
NOT_HYGIENE = "(" + ", ".join(f"'{c}'" for c in sorted(CAMERA_HEALTH, reverse=True)) + ")"
NOT_DISMISSED = "coalesce(a.labels->>'review', '') <> 'dismissed'"

# violation points (T1 10, T2 5, T3 1; Fuzhou practice): shown as points, not as a score
# (the one hygiene score is alerts.stats')
HYGIENE_POINTS = "sum(CASE a.severity WHEN 'T1' THEN 10 WHEN 'T2' THEN 5 ELSE 1 END)"
