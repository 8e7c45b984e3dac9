"""The kitchen statistics in SQL (definitions and formula: alerts.stats.__doc__)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from brightwatch.alerts.review.workflow import OPEN_CASE
from brightwatch.alerts.stats.settings import StatsSettings

# a day is rolled up once it has been over this long (late availability messages)
ROLLUP_LAG = timedelta(hours=1)
# the current day's provisional row stands for "up to now" when it is at most this old
PROVISIONAL_FRESH = timedelta(minutes=15)
OPEN_CASES = sorted(state.value for state in OPEN_CASE)

# one row per kitchen: the counts and hours everything else is made of
KITCHENS = """
k AS (
    SELECT s.site_id, s.name, s.district, COALESCE(s.kitchen_type, 'other') AS kitchen_type
    FROM site s
    WHERE s.kind = 'kitchen' AND {where}
)"""
# constant SQL put together from parts; every value is a parameter
KITCHEN_BASE = (
    KITCHENS  # noqa: S608
    + """, days AS (
    -- the window cut at UTC midnights
    SELECT d::date AS day, d AS day_start, GREATEST(d, %(since)s) AS a,
           LEAST(d + interval '1 day', %(horizon)s) AS b
    FROM generate_series(date_trunc('day', %(since)s::timestamptz, 'UTC'), %(horizon)s::timestamptz,
                         interval '1 day') AS d
), camera_days AS (
    -- from the camera's registration or its first message, whichever is earlier: the
    -- hours before it existed are not expected of it
    SELECT c.site_id, c.camera_id, s.operating_hours, s.timezone, days.day, days.day_start,
           GREATEST(days.a, reg.at) AS a, days.b
    FROM camera c JOIN k USING (site_id) JOIN site s USING (site_id)
    CROSS JOIN LATERAL (
        SELECT LEAST(c.created_at, (SELECT min(received_at) FROM availability_log
                                    WHERE device_kind = 'camera'
                                      AND device_key = c.site_id || '/' || c.camera_id)) AS at
    ) reg
    CROSS JOIN days
    WHERE GREATEST(days.a, reg.at) < days.b
), cams AS (
    SELECT cd.site_id, cd.camera_id,
           sum(COALESCE(r.online_h, (live.h).online_h)) AS online_h,
           sum(COALESCE(r.operating_online_h, (live.h).operating_online_h)) AS operating_online_h,
           sum(COALESCE(r.operating_h, (live.h).operating_h)) AS operating_h
    FROM camera_days cd
    LEFT JOIN camera_hours_daily r
        ON r.site_id = cd.site_id AND r.camera_id = cd.camera_id AND r.day = cd.day
       AND cd.a = cd.day_start
       AND (   (r.complete AND cd.b = cd.day_start + interval '1 day')   -- a whole day
            -- the current day up to now: its provisional row, when fresh enough
            OR (NOT r.complete AND cd.b = %(now)s AND r.until_at <= cd.b AND r.until_at >= cd.b - %(fresh)s))
    LEFT JOIN LATERAL (
        -- computed only where no rolled-up row serves (a one-time filter, no call otherwise)
        SELECT bw_camera_hours(cd.site_id, cd.camera_id, cd.operating_hours, cd.timezone, cd.a, cd.b) AS h
        WHERE r.day IS NULL
        OFFSET 0
    ) live ON true
    GROUP BY cd.site_id, cd.camera_id
), cam AS (
    SELECT k.site_id,
           count(c.camera_id) AS cameras,
           COALESCE(sum(c.operating_online_h), 0) AS camera_hours,
           COALESCE(sum(c.online_h), 0) AS online_hours,
           COALESCE(sum(c.operating_h), 0) AS expected_hours
    FROM k LEFT JOIN cams c USING (site_id)
    GROUP BY k.site_id
), rv AS (
    SELECT r.site_id,
           count(*) FILTER (WHERE r.decision = 'confirm' AND r.detected_at >= %(since)s AND r.detected_at < %(until)s) AS confirmed,
           count(*) FILTER (WHERE r.decision = 'confirm' AND r.tier = 'T1' AND r.detected_at >= %(since)s AND r.detected_at < %(until)s) AS confirmed_t1,
           count(*) FILTER (WHERE r.decision = 'confirm' AND r.tier = 'T2' AND r.detected_at >= %(since)s AND r.detected_at < %(until)s) AS confirmed_t2,
           count(*) FILTER (WHERE r.decision = 'confirm' AND r.tier = 'T3' AND r.detected_at >= %(since)s AND r.detected_at < %(until)s) AS confirmed_t3,
           count(*) FILTER (WHERE r.decided_at >= %(since)s AND r.decided_at < %(until)s) AS decided,
           count(*) FILTER (WHERE r.decision = 'dismiss' AND r.decided_at >= %(since)s AND r.decided_at < %(until)s) AS dismissed,
           count(*) FILTER (WHERE r.fix_due_at >= %(since)s AND r.fix_due_at < %(until)s
                              AND (r.fix_due_at <= %(now)s OR r.rectified_at IS NOT NULL)) AS rectification_due,
           count(*) FILTER (WHERE r.fix_due_at >= %(since)s AND r.fix_due_at < %(until)s
                              AND r.rectified_at <= r.fix_due_at) AS rectified_on_time,
           count(*) FILTER (WHERE r.fix_due_at IS NOT NULL AND r.closed_at >= %(since)s AND r.closed_at < %(until)s) AS closed,
           COALESCE(sum(extract(epoch FROM r.closed_at - r.decided_at)::float / 3600)
               FILTER (WHERE r.fix_due_at IS NOT NULL AND r.closed_at >= %(since)s AND r.closed_at < %(until)s), 0) AS close_hours,
           count(*) FILTER (WHERE r.state = ANY(%(open)s) AND r.card IS NOT NULL) AS open_cards
    FROM review r JOIN k USING (site_id)
    GROUP BY r.site_id
), cards AS (
    SELECT r.site_id, count(*) AS red_cards
    FROM alert_event e JOIN review r ON r.alert_id = e.alert_id JOIN k ON k.site_id = r.site_id
    WHERE e.action = 'card_issued' AND e.details->>'card' IN ('red', 'inspection')
      AND e.at >= %(since)s AND e.at < %(until)s
    GROUP BY r.site_id
), base AS (
    SELECT k.site_id, k.name, k.district, k.kitchen_type, cam.cameras, cam.camera_hours, cam.online_hours, cam.expected_hours,
           COALESCE(rv.confirmed, 0) AS confirmed, COALESCE(rv.confirmed_t1, 0) AS confirmed_t1,
           COALESCE(rv.confirmed_t2, 0) AS confirmed_t2, COALESCE(rv.confirmed_t3, 0) AS confirmed_t3,
           COALESCE(rv.decided, 0) AS decided, COALESCE(rv.dismissed, 0) AS dismissed,
           COALESCE(rv.rectification_due, 0) AS rectification_due,
           COALESCE(rv.rectified_on_time, 0) AS rectified_on_time,
           COALESCE(rv.closed, 0) AS closed, COALESCE(rv.close_hours, 0) AS close_hours,
           COALESCE(rv.open_cards, 0) AS open_cards, COALESCE(cards.red_cards, 0) AS red_cards
    FROM k JOIN cam USING (site_id) LEFT JOIN rv USING (site_id) LEFT JOIN cards USING (site_id)
), scored AS (
    SELECT base.*,
           CASE WHEN camera_hours > 0 THEN confirmed * 1000.0 / camera_hours END AS violations_per_1000h,
           CASE WHEN decided > 0 THEN dismissed::float / decided END AS false_positive_rate,
           CASE WHEN rectification_due > 0 THEN rectified_on_time::float / rectification_due END AS on_time_rate,
           CASE WHEN closed > 0 THEN close_hours / closed END AS mean_hours_to_close,
           CASE WHEN expected_hours > 0 THEN camera_hours / expected_hours END AS online_rate,
           online_hours > 0 AS streaming,
           camera_hours >= %(min_observed)s AS graded,
           CASE WHEN camera_hours >= %(min_observed)s THEN round((100 * (
               %(w_v)s * CASE WHEN camera_hours > 0 THEN GREATEST(0, 1 - (
                   (%(t1)s * confirmed_t1 + %(t2)s * confirmed_t2 + %(t3)s * confirmed_t3) * 1000.0 / camera_hours
               ) / %(saturation)s) ELSE 0 END
             + %(w_r)s * CASE WHEN rectification_due > 0 THEN rectified_on_time::float / rectification_due ELSE 1 END
             + %(w_a)s * CASE WHEN expected_hours > 0 THEN camera_hours / expected_hours ELSE 0 END
           ))::numeric, 1)::float END AS hygiene_score
    FROM base
)
"""
)

KITCHEN_SELECT = """
SELECT scored.*,
       COALESCE(hygiene_score >= %(red_score)s AND COALESCE(online_rate, 0) >= %(red_online)s
        AND confirmed_t1 = 0 AND confirmed_t2 = 0 AND open_cards = 0, false) AS red_list,
       COALESCE(hygiene_score < %(black_score)s, false) OR red_cards > 0 OR NOT streaming
           AS black_list
FROM scored ORDER BY site_id
"""

AGGREGATE_SELECT = """
SELECT {key},
       count(*) AS kitchens,
       count(*) FILTER (WHERE streaming) AS kitchens_streaming,
       count(*) FILTER (WHERE streaming)::float / count(*) AS coverage,
       count(*) FILTER (WHERE graded) AS kitchens_graded,
       sum(cameras)::bigint AS cameras,
       sum(camera_hours)::float AS camera_hours,
       sum(expected_hours)::float AS expected_hours,
       CASE WHEN sum(expected_hours) > 0 THEN sum(camera_hours) / sum(expected_hours) END AS online_rate,
       sum(confirmed)::bigint AS confirmed, sum(confirmed_t1)::bigint AS confirmed_t1,
       sum(confirmed_t2)::bigint AS confirmed_t2, sum(confirmed_t3)::bigint AS confirmed_t3,
       CASE WHEN sum(camera_hours) > 0 THEN sum(confirmed) * 1000.0 / sum(camera_hours) END AS violations_per_1000h,
       sum(decided)::bigint AS decided, sum(dismissed)::bigint AS dismissed,
       CASE WHEN sum(decided) > 0 THEN sum(dismissed)::float / sum(decided) END AS false_positive_rate,
       sum(rectification_due)::bigint AS rectification_due,
       sum(rectified_on_time)::bigint AS rectified_on_time,
       CASE WHEN sum(rectification_due) > 0 THEN sum(rectified_on_time)::float / sum(rectification_due) END AS on_time_rate,
       sum(closed)::bigint AS closed,
       CASE WHEN sum(closed) > 0 THEN sum(close_hours) / sum(closed) END AS mean_hours_to_close,
       round(avg(hygiene_score)::numeric, 1)::float AS hygiene_score,
       sum(red_cards)::bigint AS red_cards
FROM scored {group}
"""

FP_BY_CODE = """
SELECT {key} r.code, count(*) AS decided, count(*) FILTER (WHERE r.decision = 'dismiss') AS dismissed,
       count(*) FILTER (WHERE r.decision = 'dismiss')::float / count(*) AS rate
FROM review r JOIN k USING (site_id)
WHERE r.decided_at >= %(since)s AND r.decided_at < %(until)s
GROUP BY {group_cols} r.code ORDER BY {group_cols} r.code
"""


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime
    now: datetime

    @property
    def horizon(self) -> datetime:
        return min(self.until, self.now)


def _params(window: Window, settings: StatsSettings, extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "since": window.since,
        "until": window.until,
        "now": window.now,
        "horizon": max(window.since, window.horizon),
        "fresh": PROVISIONAL_FRESH,
        "open": OPEN_CASES,
        "w_v": settings.weight_violations,
        "w_r": settings.weight_rectification,
        "w_a": settings.weight_online,
        "t1": settings.tier_weights["T1"],
        "t2": settings.tier_weights["T2"],
        "t3": settings.tier_weights["T3"],
        "saturation": settings.violation_saturation,
        "red_score": settings.red_list_min_score,
        "red_online": settings.red_list_min_online_rate,
        "black_score": settings.black_list_max_score,
        "min_observed": settings.min_observed_hours,
        "covered_online": settings.coverage_min_online_rate,
        **extra,
    }


def _filters(
    site_id: str | None, district: str | None, site_ids: list[str] | None
) -> tuple[str, dict[str, Any]]:
    where: list[str] = ["TRUE"]
    extra: dict[str, Any] = {}
    if site_id is not None:
        where.append("s.site_id = %(site_id)s")
        extra["site_id"] = site_id
    if district is not None:
        where.append("s.district = %(district)s")
        extra["district"] = district
    if site_ids is not None:
        where.append("s.site_id = ANY(%(site_ids)s)")
        extra["site_ids"] = site_ids
    return " AND ".join(where), extra


def _fp(
    conn: psycopg.Connection[Any], cte: str, params: dict[str, Any], key: str | None
) -> dict[Any, dict[str, dict[str, Any]]]:
    select_key = f"k.{key}," if key else ""
    group_cols = f"k.{key}," if key else ""
    sql = "WITH " + cte + FP_BY_CODE.format(key=select_key, group_cols=group_cols)
    out: dict[Any, dict[str, dict[str, Any]]] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(sql, params).fetchall():
            owner = row.pop(key) if key else None
            out.setdefault(owner, {})[row.pop("code")] = row
    return out


def kitchen_stats(
    conn: psycopg.Connection[Any],
    window: Window,
    settings: StatsSettings,
    level: str = "kitchen",
    *,
    site_id: str | None = None,
    district: str | None = None,
    site_ids: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Figures per kitchen, per district or for the city (one row)."""
    where, extra = _filters(site_id, district, site_ids)
    cte = KITCHEN_BASE.format(where=where)
    params = _params(window, settings, extra)
    if level == "kitchen":
        sql = "WITH " + cte + KITCHEN_SELECT
        key = "site_id"
    elif level == "district":
        sql = (
            "WITH "
            + cte
            + AGGREGATE_SELECT.format(key="district", group="GROUP BY district ORDER BY district")
        )
        key = "district"
    elif level == "city":
        sql = (
            "WITH "
            + cte
            + AGGREGATE_SELECT.format(key="'city' AS city", group="HAVING count(*) > 0")
        )
        key = ""
    else:
        raise ValueError(f"level must be kitchen, district or city, not {level!r}")
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql, params).fetchall()
    fp = _fp(conn, KITCHENS.format(where=where), params, key or None)
    for row in rows:
        row["false_positive_rate_by_code"] = fp.get(row[key] if key else None, {})
        if level == "kitchen":
            row["black_list_reasons"] = _black_reasons(row, settings)
    return rows


COVERAGE_SELECT = """
SELECT {key} count(*) AS registered,
       count(*) FILTER (WHERE streaming AND COALESCE(online_rate, 0) >= %(covered_online)s) AS covered
FROM scored {group}
"""
KITCHEN_TYPE_ORDER = (
    "restaurant",
    "delivery_only",
    "school_canteen",
    "canteen",
    "central_kitchen",
    "other",
)


def _rated(row: Mapping[str, Any]) -> dict[str, Any]:
    """registered, covered and their share (None without registered kitchens)."""
    registered, covered = int(row["registered"]), int(row["covered"])
    return {
        "registered": registered,
        "covered": covered,
        "coverage_rate": covered / registered if registered else None,
    }


def kitchen_coverage(
    conn: psycopg.Connection[Any],
    window: Window,
    settings: StatsSettings,
    *,
    district: str | None = None,
) -> dict[str, Any]:
    """Bright-kitchen coverage: registered kitchens, and those covered (streamed in the
    window with an online rate in operating hours of at least
    `coverage_min_online_rate`), in all, per kitchen type and per district."""
    where, extra = _filters(None, district, None)
    params = _params(window, settings, extra)
    cte = "WITH " + KITCHEN_BASE.format(where=where)
    with conn.cursor(row_factory=dict_row) as cur:
        total = cur.execute(cte + COVERAGE_SELECT.format(key="", group=""), params).fetchone()
        by_type = cur.execute(
            cte + COVERAGE_SELECT.format(key="kitchen_type,", group="GROUP BY kitchen_type"),
            params,
        ).fetchall()
        by_district = cur.execute(
            cte
            + COVERAGE_SELECT.format(key="district,", group="GROUP BY district ORDER BY district"),
            params,
        ).fetchall()
    assert total is not None
    types = {r["kitchen_type"]: _rated(r) for r in by_type}
    return {
        **_rated(total),
        "by_type": {
            t: types.get(t, {"registered": 0, "covered": 0, "coverage_rate": None})
            for t in KITCHEN_TYPE_ORDER
        },
        "by_district": [{"district": r["district"], **_rated(r)} for r in by_district],
    }


def default_window(now: datetime, settings: StatsSettings) -> Window:
    """The window a request without `since` gets: whole UTC days (served from the daily
    rollup) up to now. The public page and the lists use the same, so they agree."""
    start = now - timedelta(days=settings.window_days)
    since = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Window(since, now, now)


def kitchen_score(
    conn: psycopg.Connection[Any], site_id: str, now: datetime, settings: StatsSettings
) -> dict[str, Any] | None:
    """The one hygiene score of a kitchen (the formula in alerts.stats.__doc__) over the
    default window, as every page and list shows it: `hygiene_score` is None ("no data")
    below `min_observed_hours` of observed camera time. None: not a kitchen."""
    rows = kitchen_stats(conn, default_window(now, settings), settings, site_id=site_id)
    return rows[0] if rows else None


def _black_reasons(row: Mapping[str, Any], settings: StatsSettings) -> list[str]:
    if not row["black_list"]:
        return []
    reasons = []
    if not row["streaming"]:
        reasons.append("not streaming")
    score = row["hygiene_score"]
    if score is not None and score < settings.black_list_max_score:
        reasons.append(f"hygiene score below {settings.black_list_max_score:g}")
    if row["red_cards"]:
        reasons.append("red card or on-site inspection")
    return reasons


def decision_times(conn: psycopg.Connection[Any], window: Window) -> dict[str, Any]:
    """Review speed: median seconds per decision (kitchens.md: target under 3 s)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT count(*) AS decisions, count(decision_seconds) AS timed,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY decision_seconds) AS median_seconds,"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY decision_seconds) AS p90_seconds"
            " FROM review WHERE decided_at >= %s AND decided_at < %s",
            (window.since, window.until),
        ).fetchone()
    assert row is not None
    return row


ROLLUP_SQL = """
INSERT INTO camera_hours_daily (site_id, camera_id, day, until_at, complete, online_h,
                                operating_online_h, operating_h, computed_at)
SELECT c.site_id, c.camera_id, d::date, x.e, x.complete, h.online_h, h.operating_online_h,
       h.operating_h, %(now)s
FROM camera c JOIN site s USING (site_id)
CROSS JOIN generate_series(%(first)s::timestamptz, %(last)s::timestamptz, interval '1 day') AS d
CROSS JOIN LATERAL (
    SELECT LEAST(d + interval '1 day', %(now)s::timestamptz) AS e,
           d + interval '1 day' <= %(settled)s::timestamptz AS complete
) x
CROSS JOIN LATERAL bw_camera_hours(c.site_id, c.camera_id, s.operating_hours, s.timezone, d, x.e) AS h
WHERE s.kind = 'kitchen'
  -- not rolled up for good, nor provisionally up to this point already
  AND NOT EXISTS (SELECT 1 FROM camera_hours_daily r WHERE r.site_id = c.site_id
                  AND r.camera_id = c.camera_id AND r.day = d::date
                  AND (r.complete OR (r.until_at >= x.e AND NOT x.complete)))
  -- from the camera's registration or its first message, whichever is earlier
  AND d >= LEAST(date_trunc('day', c.created_at, 'UTC'),
                 (SELECT date_trunc('day', min(received_at), 'UTC') FROM availability_log
                  WHERE device_kind = 'camera' AND device_key = c.site_id || '/' || c.camera_id))
ORDER BY d LIMIT %(limit)s
ON CONFLICT (site_id, camera_id, day) DO UPDATE SET
    until_at = EXCLUDED.until_at, complete = EXCLUDED.complete, online_h = EXCLUDED.online_h,
    operating_online_h = EXCLUDED.operating_online_h, operating_h = EXCLUDED.operating_h,
    computed_at = EXCLUDED.computed_at
WHERE NOT camera_hours_daily.complete
"""


def rollup_camera_hours(
    conn: psycopg.Connection[Any], now: datetime, *, days_back: int = 400, limit: int = 5000
) -> int:
    """Roll up camera hours per camera and UTC day (a step of the `alerts` component's
    stats loop): for good once a day has been over for ROLLUP_LAG, provisionally up to
    `now` before that. Returns how many rows were written."""
    utc = now.astimezone(UTC)
    midnight = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    cur = conn.execute(
        ROLLUP_SQL,
        {
            "now": utc,
            "settled": utc - ROLLUP_LAG,
            "first": midnight - timedelta(days=days_back),
            "last": midnight,
            "limit": limit,
        },
    )
    return cur.rowcount
