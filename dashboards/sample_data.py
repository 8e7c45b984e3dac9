"""Generated history for exercising the dashboards' queries (tests, `bench.dashboards`).

quality.md, queries: 30 days of 1,000 elevators and 100 cameras. Generated inside
PostgreSQL with generate_series, so filling a database takes seconds. The hourly rollup
holds all 30 days of every elevator; raw status samples (the status timeline) cover the
last day of every elevator at 5-minute spacing and the last 7 days of the first few at
60 s, which is what a drill-down reads (queries go through the (elevator_id, ts) key).
Native PostgreSQL flavour (the rollup is a table there; on TimescaleDB it is a
continuous aggregate filled from raw rows).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg

from brightwatch.contract.codes import ELEVATOR_CATALOGUE, KITCHEN_CATALOGUE

log = logging.getLogger(__name__)

DISTRICTS = ("Futian", "Luohu", "Nanshan", "Bao'an", "Longgang")
WORK_AREAS = ("cooking", "cutting", "serving", "washing", "special_room", "storage")


@dataclass(frozen=True)
class Size:
    elevators: int = 1000
    cameras: int = 100
    days: int = 30
    firms: int = 10
    detailed_elevators: int = 5  # raw samples every 60 s for 7 days


def _codes(catalogue: dict[str, Any]) -> tuple[list[str], list[str]]:
    codes = sorted(catalogue)
    return codes, [str(catalogue[c].severity) for c in codes]


def _parameters(size: Size) -> dict[str, object]:
    """The placeholders every step's SQL reads (psycopg %(name)s)."""
    el_codes, el_sev = _codes(ELEVATOR_CATALOGUE)
    ki_codes, ki_sev = _codes(KITCHEN_CATALOGUE)
    return {
        "n_el": size.elevators,
        "n_cam": size.cameras,
        "n_kit": max(1, size.cameras * 2 // 5),
        "n_firm": size.firms,
        "days": size.days,
        "detailed": size.detailed_elevators,
        "districts": list(DISTRICTS),
        "areas": list(WORK_AREAS),
        "el_codes": el_codes,
        "el_sev": el_sev,
        "ki_codes": ki_codes,
        "ki_sev": ki_sev,
    }


# A step: what the log says, then SQL run with the parameters ("; " separates statements).
# The steps run in the order listed: later ones read the rows earlier ones wrote.
Step = tuple[str, str]

_START: list[Step] = [
    ("seed", "SELECT setseed(0.42)"),  # the same history every time
    (
        "partitions",
        "SELECT bw_ensure_daily_partitions(t, (now() - make_interval(days => %(days)s + 1))::date,"
        " (now() + interval '1 day')::date)"
        " FROM unnest(ARRAY['elevator_status', 'elevator_event', 'elevator_stats']) AS t",
    ),
]

_REGISTRY: list[Step] = [
    (
        "firms",
        "INSERT INTO firm (firm_id, name, credit_rating, credit_score)"
        " SELECT format('F%%s', lpad(i::text, 2, '0')), format('Firm %%s', i),"
        " (ARRAY['A','B','C'])[1 + i %% 3], 60 + (i * 7) %% 40"
        " FROM generate_series(0, %(n_firm)s - 1) i",
    ),
    (
        "kitchens",
        "INSERT INTO site (site_id, kind, name, operator, address, district, operating_hours)"
        " SELECT format('K%%s', lpad(i::text, 3, '0')), 'kitchen', format('Kitchen %%s', i),"
        " format('Catering %%s', i), format('%%s Food Street', i),"
        " (%(districts)s::text[])[1 + i %% 5],"
        ' \'[{"days": "daily", "open": "06:00", "close": "22:00"}]\'::jsonb'
        " FROM generate_series(0, %(n_kit)s - 1) i",
    ),
    (
        "cameras",
        "INSERT INTO camera (site_id, camera_id, name, work_area, is_public)"
        " SELECT format('K%%s', lpad((i %% %(n_kit)s)::text, 3, '0')), format('cam%%s', i),"
        " format('Camera %%s', i), (%(areas)s::text[])[1 + i %% 6], i %% 6 <> 5"
        " FROM generate_series(0, %(n_cam)s - 1) i",
    ),
    (
        "elevators",
        "INSERT INTO elevator (elevator_id, firm_id, address, district, user_unit, floor_min,"
        " floor_max, rated_speed, install_year)"
        " SELECT format('E%%s', lpad(i::text, 5, '0')),"
        " format('F%%s', lpad((i %% %(n_firm)s)::text, 2, '0')), format('%%s Tower Road', i),"
        " (%(districts)s::text[])[1 + i %% 5], format('Property %%s', i %% 50), -1, 10 + i %% 20,"
        " 1.0 + (i %% 3) * 0.5, 1995 + i %% 30"
        " FROM generate_series(0, %(n_el)s - 1) i",
    ),
]

_ELEVATOR_HISTORY: list[Step] = [
    (
        "hourly rollup",
        "INSERT INTO elevator_status_hourly SELECT e.elevator_id, b.bucket, 60,"
        " (20 * (0.3 + 0.7 * sin(pi() * extract(hour FROM b.bucket) / 24)))::int,"
        " (25 * (0.3 + 0.7 * sin(pi() * extract(hour FROM b.bucket) / 24)))::int,"
        " 10, 0, e.rated_speed, 30 + random() * 20, 0.05 + random() * 0.05,"
        " 0.1 + random() * 0.1, b.bucket, b.bucket + interval '59 minutes'"
        " FROM elevator e CROSS JOIN generate_series(date_trunc('hour', now())"
        " - make_interval(days => %(days)s), date_trunc('hour', now()), interval '1 hour') b(bucket)"
        # in the order the service writes them: hour by hour
        " ORDER BY b.bucket, e.elevator_id",
    ),
    (
        "fleet rollup",
        "SELECT bw_refresh_fleet_hourly(now() - make_interval(days => %(days)s + 1),"
        " now() + interval '1 hour')",
    ),
    (
        "raw status (1 day, all elevators)",
        "INSERT INTO elevator_status (elevator_id, ts, seq, received_at, service_mode,"
        " run_state, direction, floor, door_zone, door_state, has_person, speed, load_pct,"
        " power_source, safety_circuit, vibration_rms)"
        " SELECT e.elevator_id, t.ts, row_number() OVER (PARTITION BY e.elevator_id ORDER BY t.ts),"
        " t.ts + interval '80 milliseconds',"
        " CASE WHEN random() < 0.01 THEN 'inspection' ELSE 'normal' END,"
        " CASE WHEN random() < 0.35 THEN 'running' ELSE 'stopped' END, 'none',"
        " (random() * 10)::int, true, CASE WHEN random() < 0.1 THEN 'open' ELSE 'closed' END,"
        " random() < 0.4, 0, 30, 'mains', 'closed', 0.05 + random() * 0.05"
        " FROM elevator e CROSS JOIN generate_series(now() - interval '1 day', now(),"
        " interval '5 minutes') t(ts)"
        " WHERE e.elevator_id >= format('E%%s', lpad(%(detailed)s::text, 5, '0'))"
        " ORDER BY t.ts, e.elevator_id",
    ),
    (
        "raw status (7 days, detailed elevators)",
        "INSERT INTO elevator_status (elevator_id, ts, seq, received_at, service_mode,"
        " run_state, direction, floor, door_zone, door_state, has_person, speed, load_pct,"
        " power_source, safety_circuit, vibration_rms)"
        " SELECT format('E%%s', lpad(i::text, 5, '0')), t.ts,"
        " row_number() OVER (PARTITION BY i ORDER BY t.ts), t.ts + interval '80 milliseconds',"
        " CASE WHEN random() < 0.01 THEN 'inspection' ELSE 'normal' END,"
        " CASE WHEN random() < 0.35 THEN 'running' ELSE 'stopped' END, 'none',"
        " (random() * 10)::int, true, CASE WHEN random() < 0.1 THEN 'open' ELSE 'closed' END,"
        " random() < 0.4, 0, 30, 'mains', 'closed', 0.05 + random() * 0.05"
        " FROM generate_series(0, %(detailed)s - 1) i CROSS JOIN"
        " generate_series(now() - interval '7 days', now(), interval '60 seconds') t(ts)",
    ),
    (
        "stats",
        "INSERT INTO elevator_stats (elevator_id, ts, seq, received_at, run_count, run_hours,"
        " door_cycles, distance_km)"
        " SELECT e.elevator_id, t.ts, n, t.ts, 100000 + n * (40 + length(e.elevator_id)),"
        " 5000 + n, 200000 + n * 90, 3000 + n * 0.4"
        " FROM elevator e CROSS JOIN LATERAL (SELECT ts, row_number() OVER (ORDER BY ts) AS n"
        " FROM generate_series(now() - make_interval(days => %(days)s), now(), interval '6 hours')"
        " ts) t ORDER BY t.ts, e.elevator_id",
    ),
]

_DEVICE_PRESENCE: list[Step] = [
    (
        "presence",
        "INSERT INTO device_presence (device_kind, device_key, device_id, availability,"
        " availability_at, last_seen, last_ts, last_seq, messages, seq_gaps, last_status)"
        " SELECT 'elevator', elevator_id, elevator_id,"
        " CASE WHEN random() < 0.02 THEN 'offline' ELSE 'online' END, now() - interval '1 day',"
        " now() - random() * interval '120 seconds', now() - random() * interval '125 seconds',"
        " 1000, 5000, (random() * 3)::int,"
        " jsonb_build_object('service_mode', 'normal', 'run_state', 'stopped', 'floor', 3,"
        " 'door_state', 'closed')"
        " FROM elevator",
    ),
    (
        "camera presence",
        "INSERT INTO device_presence (device_kind, device_key, device_id, site_id, availability,"
        " availability_at, last_seen, last_ts, messages)"
        " SELECT 'camera', site_id || '/' || camera_id, camera_id, site_id,"
        " CASE WHEN random() < 0.05 THEN 'offline' ELSE 'online' END, now() - interval '1 day',"
        " now() - random() * interval '10 seconds', now() - random() * interval '11 seconds', 50000"
        " FROM camera",
    ),
]

_ALERTS: list[Step] = [
    (
        "elevator alerts",
        # summaries as long as the rules write them (elevators.summaries), in both languages
        "INSERT INTO alert (kind, code, severity, state, device_id, fingerprint, started_at,"
        " updated_at, last_raised_at, resolved_at, summary, summaries)"
        " SELECT 'elevator', (%(el_codes)s::text[])[c], (%(el_sev)s::text[])[c],"
        " CASE WHEN g.i %% 97 = 0 THEN 'firing' WHEN g.i %% 89 = 0 THEN 'acknowledged'"
        " ELSE 'resolved' END,"
        " format('E%%s', lpad((g.i %% %(n_el)s)::text, 5, '0')), format('fp-e-%%s', g.i), g.at,"
        " g.at, g.at, CASE WHEN g.i %% 97 = 0 OR g.i %% 89 = 0 THEN NULL"
        " ELSE g.at + (5 + random() * 40) * interval '1 minute' END, g.zh,"
        " jsonb_build_object('zh-CN', g.zh, 'en', format('%%s at floor %%s: stopped outside the"
        " door zone with a person inside for 30 s', (%(el_codes)s::text[])[c], g.floor))"
        " FROM (SELECT i, now() - random() * make_interval(days => %(days)s) AS at,"
        " 1 + (i * 7) %% array_length(%(el_codes)s::text[], 1) AS c, 1 + i %% 30 AS floor,"
        " format('%%s 故障，%%s 层：停在门区外，轿厢内有人，已持续 30 秒',"
        " (%(el_codes)s::text[])[1 + (i * 7) %% array_length(%(el_codes)s::text[], 1)], 1 + i %% 30) AS zh"
        " FROM generate_series(1, %(n_el)s * 5) i) g",
    ),
    (
        "drill-down alerts",
        # the detailed elevators fault every day, so their drill-down always has faults
        "INSERT INTO alert (kind, code, severity, state, device_id, fingerprint, started_at,"
        " updated_at, last_raised_at, resolved_at, summary)"
        " SELECT 'elevator', 'DOOR_CLOSE_FAIL', 'P2', 'resolved',"
        " format('E%%s', lpad(i::text, 5, '0')), format('fp-d-%%s-%%s', i, d),"
        " now() - make_interval(days => d, hours => 3), now() - make_interval(days => d, hours => 3),"
        " now() - make_interval(days => d, hours => 3), now() - make_interval(days => d, hours => 2),"
        " 'door did not close within 30 s'"
        " FROM generate_series(0, %(detailed)s - 1) i CROSS JOIN generate_series(0, %(days)s - 1) d",
    ),
    (
        "kitchen alerts",
        "INSERT INTO alert (kind, code, severity, state, device_id, site_id, fingerprint,"
        " started_at, updated_at, last_raised_at, resolved_at, summary, labels, summaries)"
        " SELECT 'kitchen', (%(ki_codes)s::text[])[c], (%(ki_sev)s::text[])[c],"
        " CASE WHEN g.i %% 13 = 0 THEN 'firing' ELSE 'resolved' END, format('cam%%s', cam),"
        " format('K%%s', lpad((cam %% %(n_kit)s)::text, 3, '0')), format('fp-k-%%s', g.i), g.at,"
        " g.at, g.at, CASE WHEN g.i %% 13 = 0 THEN NULL ELSE g.at + interval '2 hours' END,"
        " format('%%s 违规，位置 K%%s/cam%%s', (%(ki_codes)s::text[])[c], cam %% %(n_kit)s, cam),"
        " CASE WHEN g.i %% 7 = 0 THEN '{\"review\": \"dismissed\"}'::jsonb ELSE '{}'::jsonb END,"
        " jsonb_build_object('zh-CN', format('%%s 违规，位置 K%%s/cam%%s', (%(ki_codes)s::text[])[c],"
        " cam %% %(n_kit)s, cam), 'en', format('%%s at K%%s/cam%%s', (%(ki_codes)s::text[])[c],"
        " cam %% %(n_kit)s, cam))"
        " FROM (SELECT i, i %% %(n_cam)s AS cam, now() - random() * make_interval(days => %(days)s) AS at,"
        " 1 + (i * 5) %% array_length(%(ki_codes)s::text[], 1) AS c"
        " FROM generate_series(1, %(n_cam)s * 20) i) g",
    ),
    (
        "evidence",
        "INSERT INTO evidence (site_id, camera_id, alert_id, captured_at, path, sha256,"
        " size_bytes, width, height, code, boxes, model)"
        " SELECT a.site_id, a.device_id, a.id, a.started_at, format('evidence/%%s.jpg', a.id),"
        " md5(a.id::text), 120000, 1920, 1080, a.code, '[]', 'coco@1'"
        " FROM alert a WHERE a.kind = 'kitchen'",
    ),
]

_QUEUES: list[Step] = [
    (
        "dead letters",
        "INSERT INTO dead_letter (received_at, topic, payload, payload_size, reason, worker)"
        " SELECT now() - random() * make_interval(days => %(days)s),"
        " format('bw/elevators/E%%s/status', lpad((i %% %(n_el)s)::text, 5, '0')), '\\x00',"
        " 1, (ARRAY['invalid JSON: unexpected byte', 'schema: missing field seq',"
        " 'unknown device: quarantined', 'payload too large'])[1 + i %% 4], 'ingest-0'"
        " FROM generate_series(1, 3000) i",
    ),
    (
        "queues",
        "INSERT INTO outbox (topic, payload, published_at) SELECT 'bw/alerts/elevator/E00001',"
        " '\\x7b7d', CASE WHEN i %% 10 = 0 THEN NULL ELSE now() END FROM generate_series(1, 200) i;"
        " INSERT INTO delivery (channel, target, payload, state) SELECT 'webhook',"
        " 'http://127.0.0.1:9/hook', '{}', (ARRAY['pending', 'delivered', 'failed'])[1 + i %% 3]"
        " FROM generate_series(1, 90) i",
    ),
]

# tables later parts of the service add: filled when the schema has them (table, what, sql)
_LATER_TABLES: list[tuple[str, str, str]] = [
    (
        "ticket",
        "rescue tickets",
        "INSERT INTO ticket (type, state, elevator_id, address, district, firm_id, trigger,"
        " alert_id, confirmed_at, created_at, updated_at, dispatched_at, accepted_at,"
        " arrived_at, completed_at, result)"
        " SELECT 'rescue', 'completed', a.device_id, e.address, e.district, e.firm_id, a.code,"
        " a.id, a.started_at, a.started_at, a.started_at, a.started_at,"
        " a.started_at + interval '2 minutes', a.started_at + (8 + random() * 30) * interval '1 minute',"
        " a.started_at + interval '50 minutes', 'released_in_service'"
        " FROM alert a JOIN elevator e ON e.elevator_id = a.device_id"
        " WHERE a.kind = 'elevator' AND a.code IN ('TRAPPED_OUT_ZONE', 'TRAPPED_IN_ZONE')",
    ),
    (
        "ticket",
        "maintenance tickets",
        "INSERT INTO ticket (type, state, elevator_id, address, district, firm_id, trigger,"
        " due_at, created_at, updated_at)"
        " SELECT (ARRAY['on_demand', 'quarterly', 'half_yearly', 'yearly'])[1 + (i / 7) %% 4],"
        " (ARRAY['dispatched', 'accepted', 'arrived', 'completed'])[1 + i %% 4],"
        " e.elevator_id, e.address, e.district, e.firm_id, 'DUE_DATE',"
        " now() + ((i %% 40) - 10) * interval '1 day', now() - interval '3 days', now()"
        " FROM generate_series(0, %(n_el)s - 1) i"
        " JOIN elevator e ON e.elevator_id = format('E%%s', lpad(i::text, 5, '0'))",
    ),
    (
        "maintenance_plan",
        "maintenance plans",
        "INSERT INTO maintenance_plan (elevator_id, computed_at, reason, eligible, eligibility,"
        " risk_score, factors, interval_days, interval_reason, next_due_at, calendar, inputs)"
        " SELECT e.elevator_id, d, 'daily', true, '[]', r, '[]',"
        " CASE WHEN r < 0.25 THEN 30 WHEN r < 0.5 THEN 21 WHEN r < 0.75 THEN 15 ELSE 7 END,"
        " 'risk score', d + interval '15 days', '{}', '{}'"
        " FROM elevator e CROSS JOIN generate_series(now() - make_interval(days => %(days)s),"
        " now(), interval '1 day') d CROSS JOIN LATERAL (SELECT (0.2 + 0.6 * random())"
        " + 0 * length(e.elevator_id) AS r) x"
        " WHERE e.elevator_id < format('E%%s', lpad(%(detailed)s::text, 5, '0'))",
    ),
    (
        "review",
        "reviews",
        "INSERT INTO review (alert_id, fingerprint, site_id, camera_id, code, tier, state,"
        " detected_at, created_at, updated_at, presented_at, decision, decided_at, decided_by,"
        " decision_seconds, plan_due_at, fix_due_at, closed_at, card)"
        " SELECT a.id, a.fingerprint, a.site_id, a.device_id, a.code,"
        " CASE WHEN a.severity IN ('T1', 'T2', 'T3') THEN a.severity ELSE 'T3' END,"
        " CASE WHEN a.id %% 11 = 0 THEN 'pending_review' WHEN a.labels->>'review' = 'dismissed'"
        " THEN 'dismissed' WHEN a.state = 'resolved' THEN 'closed' ELSE 'rectifying' END,"
        " a.started_at, a.started_at, a.started_at, a.started_at + interval '1 minute',"
        " CASE WHEN a.id %% 11 = 0 THEN NULL WHEN a.labels->>'review' = 'dismissed'"
        " THEN 'dismiss' ELSE 'confirm' END,"
        " CASE WHEN a.id %% 11 = 0 THEN NULL ELSE a.started_at + interval '1 minute' END,"
        " 'supervisor:1', CASE WHEN a.id %% 11 = 0 THEN NULL ELSE 1 + random() * 6 END,"
        " a.started_at + interval '2 hours', a.started_at + interval '3 days',"
        " CASE WHEN a.state = 'resolved' THEN a.started_at + interval '2 hours' END,"
        " CASE WHEN a.id %% 5 = 0 THEN 'yellow' WHEN a.id %% 17 = 0 THEN 'red' END"
        " FROM alert a WHERE a.kind = 'kitchen'",
    ),
]

_COUNTED = (
    "elevator",
    "camera",
    "elevator_status",
    "elevator_status_hourly",
    "elevator_stats",
    "alert",
    "evidence",
    "dead_letter",
)


def generate(conn: psycopg.Connection[Any], size: Size = Size()) -> dict[str, int]:
    """Fill a freshly migrated (empty) database. Returns row counts per table."""
    flavor = conn.execute("SELECT value FROM schema_setting WHERE key = 'flavor'").fetchone()
    if not flavor or flavor[0] != "native":
        raise RuntimeError("sample data is generated for the native flavour only")
    parameters = _parameters(size)
    for what, sql in _steps_for(conn):
        log.info("sample data: %s", what)
        for statement in sql.split("; "):
            conn.execute(statement, parameters)
    conn.commit()
    conn.execute("ANALYZE")
    return _row_counts(conn)


def _steps_for(conn: psycopg.Connection[Any]) -> list[Step]:
    steps = _START + _REGISTRY + _ELEVATOR_HISTORY + _DEVICE_PRESENCE + _ALERTS + _QUEUES
    for table, what, sql in _LATER_TABLES:
        present = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
        if present and present[0]:
            steps.append((what, sql))
    return steps


def _row_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    counts = {}
    for table in _COUNTED:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        counts[table] = int(row[0]) if row else 0
    return counts
