"""Idempotent upserts of registry records."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from brightwatch.registry.models import CameraRecord, ElevatorRecord, FirmRecord, SiteRecord


class RegistryError(ValueError):
    """A record that refers to something not registered, or otherwise cannot be stored."""


def _jsonable(model: Any) -> Any:
    return model.model_dump(mode="json")


def _created(cur: psycopg.Cursor[Any]) -> bool:
    row = cur.fetchone()
    return bool(row and row[0])


def upsert_firm(
    conn: psycopg.Connection[Any], firm_id: str, rec: FirmRecord, by: str = "api"
) -> bool:
    cur = conn.execute(
        """
        INSERT INTO firm (firm_id, name, credit_rating, credit_score, webhook_url, contact, registered_by)
        VALUES (%s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (firm_id) DO UPDATE SET
            name = EXCLUDED.name, credit_rating = EXCLUDED.credit_rating,
            credit_score = EXCLUDED.credit_score, webhook_url = EXCLUDED.webhook_url,
            contact = EXCLUDED.contact, updated_at = now()
        RETURNING (xmax = 0)
        """,
        (
            firm_id,
            rec.name,
            rec.credit_rating,
            rec.credit_score,
            str(rec.webhook_url) if rec.webhook_url else None,
            Jsonb(rec.contact),
            by,
        ),
    )
    return _created(cur)


def upsert_site(
    conn: psycopg.Connection[Any], site_id: str, rec: SiteRecord, by: str = "api"
) -> bool:
    d = _jsonable(rec)
    cur = conn.execute(
        """
        INSERT INTO site (site_id, kind, name, operator, address, district, timezone,
                          operating_hours, night_hours, management_score, extra, registered_by,
                          kitchen_type)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (site_id) DO UPDATE SET
            kind = EXCLUDED.kind, kitchen_type = EXCLUDED.kitchen_type, name = EXCLUDED.name, operator = EXCLUDED.operator,
            address = EXCLUDED.address, district = EXCLUDED.district, timezone = EXCLUDED.timezone,
            operating_hours = EXCLUDED.operating_hours, night_hours = EXCLUDED.night_hours,
            management_score = EXCLUDED.management_score, extra = EXCLUDED.extra, updated_at = now()
        RETURNING (xmax = 0)
        """,
        (
            site_id,
            rec.kind,
            rec.name,
            rec.operator,
            rec.address,
            rec.district,
            rec.timezone,
            Jsonb(d["operating_hours"]),
            Jsonb(d["night_hours"]),
            rec.management_score,
            Jsonb(rec.extra),
            by,
            rec.kitchen_type,
        ),
    )
    return _created(cur)


def upsert_licensed_kitchen(
    conn: psycopg.Connection[Any], site_id: str, rec: SiteRecord, by: str = "import"
) -> bool:
    """A kitchen from the licence register: only the register's fields (name, operator,
    address, district, kitchen type) are written, so that re-importing the register keeps
    what was registered otherwise (opening hours, time zone, cameras' settings)."""
    try:
        with conn.transaction():
            cur = conn.execute(
                """
                INSERT INTO site (site_id, kind, kitchen_type, name, operator, address, district,
                                  registered_by)
                VALUES (%s, 'kitchen', %s, %s, %s, %s, %s, %s)
                ON CONFLICT (site_id) DO UPDATE SET
                    kitchen_type = EXCLUDED.kitchen_type, name = EXCLUDED.name,
                    operator = EXCLUDED.operator, address = EXCLUDED.address,
                    district = EXCLUDED.district, updated_at = now()
                WHERE site.kind = 'kitchen'
                RETURNING (xmax = 0)
                """,
                (site_id, rec.kitchen_type, rec.name, rec.operator, rec.address, rec.district, by),
            )
            row = cur.fetchone()
    except psycopg.errors.CheckViolation:
        raise RegistryError(f"site {site_id}: kitchen_type not accepted") from None
    if row is None:
        raise RegistryError(f"site {site_id} is registered, but not as a kitchen")
    return bool(row[0])


def upsert_camera(
    conn: psycopg.Connection[Any], site_id: str, camera_id: str, rec: CameraRecord, by: str = "api"
) -> bool:
    d = _jsonable(rec)
    try:
        with conn.transaction():
            cur = conn.execute(
                """
                INSERT INTO camera (site_id, camera_id, name, work_area, is_public, zones, schedules,
                                    settings, registered_by)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (site_id, camera_id) DO UPDATE SET
                    name = EXCLUDED.name, work_area = EXCLUDED.work_area,
                    is_public = EXCLUDED.is_public, zones = EXCLUDED.zones,
                    schedules = EXCLUDED.schedules, settings = EXCLUDED.settings, updated_at = now()
                RETURNING (xmax = 0)
                """,
                (
                    site_id,
                    camera_id,
                    rec.name,
                    rec.work_area,
                    rec.is_public,
                    Jsonb(d["zones"]),
                    Jsonb(rec.schedules),
                    Jsonb(rec.settings),
                    by,
                ),
            )
            return _created(cur)
    except psycopg.errors.ForeignKeyViolation:
        raise RegistryError(f"site {site_id} is not registered") from None


def upsert_elevator(
    conn: psycopg.Connection[Any], elevator_id: str, rec: ElevatorRecord, by: str = "api"
) -> bool:
    try:
        with conn.transaction():
            cur = conn.execute(
                """
                INSERT INTO elevator (elevator_id, firm_id, standby_firm_id, site_id, address, district,
                                      user_unit, floor_min, floor_max, rated_speed, install_year,
                                      inspection_valid_until, thresholds, registered_by)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (elevator_id) DO UPDATE SET
                    firm_id = EXCLUDED.firm_id, standby_firm_id = EXCLUDED.standby_firm_id,
                    site_id = EXCLUDED.site_id, address = EXCLUDED.address,
                    district = EXCLUDED.district, user_unit = EXCLUDED.user_unit,
                    floor_min = EXCLUDED.floor_min, floor_max = EXCLUDED.floor_max,
                    rated_speed = EXCLUDED.rated_speed, install_year = EXCLUDED.install_year,
                    inspection_valid_until = EXCLUDED.inspection_valid_until,
                    thresholds = EXCLUDED.thresholds,
                    registered_by = CASE WHEN elevator.registered_by = 'auto'
                                         THEN EXCLUDED.registered_by ELSE elevator.registered_by END,
                    updated_at = now()
                RETURNING (xmax = 0)
                """,
                (
                    elevator_id,
                    rec.firm_id,
                    rec.standby_firm_id,
                    rec.site_id,
                    rec.address,
                    rec.district,
                    rec.user_unit,
                    rec.floor_min,
                    rec.floor_max,
                    rec.rated_speed,
                    rec.install_year,
                    rec.inspection_valid_until,
                    Jsonb(rec.thresholds),
                    by,
                ),
            )
            return _created(cur)
    except psycopg.errors.ForeignKeyViolation as exc:
        detail = exc.diag.message_detail or ""
        for column, value in (
            ("firm_id", rec.firm_id),
            ("standby_firm_id", rec.standby_firm_id),
            ("site_id", rec.site_id),
        ):
            if value and f"({column})=" in detail:
                what = "site" if column == "site_id" else "firm"
                raise RegistryError(f"{column}: {what} {value} is not registered") from None
        raise RegistryError("elevator refers to an unregistered firm or site") from None
