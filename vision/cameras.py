"""One camera's rule configuration from the fleet settings, the registry row (zones,
schedules, work area, the site's time zone and hours) and `[vision.cameras."<site>/<cam>"]`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from pydantic import ValidationError

from brightwatch.i18n import DEFAULT_LOCALE
from brightwatch.vision.rules.config import CameraConfig, ConfirmRule, ZoneDef
from brightwatch.vision.settings import VisionSettings
from brightwatch.vision.store import CameraKey, CameraRow

log = logging.getLogger(__name__)


def _zones(raw: list[dict[str, Any]], where: str) -> dict[str, ZoneDef]:
    out: dict[str, ZoneDef] = {}
    for item in raw:
        # the registry validated these (registry.models.Zone); TOML ones are checked here
        try:
            name, kind = str(item["name"]), str(item["kind"])
            polygon = tuple((float(x), float(y)) for x, y in item["polygon"])
            hours = tuple(dict(h) for h in item.get("hours") or ())
            if len(polygon) < 3 or not all(0 <= v <= 1 for p in polygon for v in p):
                raise ValueError("a polygon needs 3+ points within 0..1")
            if any(not {"open", "close"} <= set(h) for h in hours):
                raise ValueError("hours need open and close")
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("%s: zone %r ignored: %s", where, item.get("name"), exc)
            continue
        out[name] = ZoneDef(name, kind, polygon, hours)
    return out


def registration_times(
    conn: psycopg.Connection[Any], keys: Sequence[CameraKey]
) -> dict[CameraKey, int]:
    """When each camera was registered (ms since the epoch): the start of the silence of
    a camera that never connects."""
    rows = conn.execute(
        "SELECT site_id, camera_id, (extract(epoch FROM created_at) * 1000)::bigint FROM camera"
        " WHERE (site_id, camera_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
        ([k[0] for k in keys], [k[1] for k in keys]),
    ).fetchall()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def unwatched_kitchen_cameras(
    conn: psycopg.Connection[Any], known: Sequence[CameraKey], limit: int = 10_000
) -> list[CameraKey]:
    """Registered kitchen cameras with no rule state saved and not known to the worker:
    those that never sent anything, to be watched for CAMERA_OFFLINE all the same."""
    rows = conn.execute(
        "SELECT c.site_id, c.camera_id FROM camera c JOIN site s USING (site_id)"
        " WHERE s.kind = 'kitchen'"
        " AND NOT EXISTS (SELECT 1 FROM vision_rule_state v"
        "                 WHERE v.site_id = c.site_id AND v.camera_id = c.camera_id)"
        " AND (c.site_id, c.camera_id) NOT IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
        " ORDER BY c.created_at LIMIT %s",
        ([k[0] for k in known], [k[1] for k in known], limit),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def build_config(
    settings: VisionSettings,
    key: CameraKey,
    row: CameraRow | None,
    locale: str = DEFAULT_LOCALE,
    registered_at: int | None = None,
) -> CameraConfig:
    site_id, camera_id = key
    where = f"camera {site_id}/{camera_id}"
    override = settings.cameras.get(f"{site_id}/{camera_id}")
    zones = _zones(override.zones if override else [], where)
    if row is not None:
        zones.update(_zones(row.zones, where))  # the registry, edited live, wins by name
    schedules: dict[str, Any] = {
        **(row.schedules if row else {}),
        **(override.schedules if override else {}),
    }
    rules = dict(settings.rules)
    for code, given in (override.rules if override else {}).items():
        if code in rules:
            try:
                rules[code] = ConfirmRule.model_validate({**rules[code].model_dump(), **given})
            except ValidationError as exc:
                log.warning("%s: rule %s override ignored: %s", where, code, exc.errors()[0]["msg"])
    return CameraConfig(
        site_id=site_id,
        camera_id=camera_id,
        rules=rules,
        classes=settings.classes,
        attributes=settings.attributes,
        health=settings.health,
        zones=tuple(zones.values()),
        work_area=(override.work_area if override and override.work_area else None)
        or (row.work_area if row else None),
        timezone=row.timezone if row else "Asia/Shanghai",
        operating_hours=tuple(
            schedules.get("operating_hours") or (row.operating_hours if row else ())
        ),
        night_hours=schedules.get("night_hours") or (row.night_hours if row else None),
        working_hours=tuple(schedules.get("working_hours") or ()),
        offline_after_s=settings.offline_after_s,
        district=row.district if row else "",
        input=(override.input if override and override.input else None) or settings.input,
        locale=locale,
        registered_at=registered_at,
    )
