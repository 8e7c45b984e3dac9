"""The SQL adapter: one classified batch into the database in one transaction.

Order inside the transaction: telemetry rows (COPY), device presence, availability,
dead letters, and last the rollup marks (migration 0002: a refresh deleting a mark must
wait for the rows behind it, so the mark row stays locked only for the commit).

Telemetry rows go straight into their table with binary COPY. A duplicate (a broker
redelivery after a crash, a device repeating itself) makes that COPY fail on the
primary key (elevator_id, ts, seq); the batch's rows then take the slower road through
a temporary table and `INSERT ... ON CONFLICT DO NOTHING RETURNING`, which stores the
new ones and names them, so presence counts only what was really stored.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import msgspec
import psycopg
from psycopg import sql

from brightwatch.contract.topics import Channel
from brightwatch.db import deadletters
from brightwatch.db.timeseries import ensure_partitions, hour_bucket
from brightwatch.ingest.classify import AvailabilityReport, DeadLetter, Sample
from brightwatch.ingest.presence import Presence, advance, gap

DeviceKey = tuple[str, str]  # (device_kind, device_key) of device_presence

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableSpec:
    table: str
    stage: str
    columns: tuple[str, ...]
    types: tuple[str, ...]

    def copy_into(self, target: str) -> sql.Composed:
        cols = sql.SQL(", ").join(map(sql.Identifier, self.columns))
        return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(target), cols
        )


STATUS = TableSpec(
    "elevator_status",
    "ingest_stage_status",
    (
        "elevator_id",
        "ts",
        "seq",
        "received_at",
        "service_mode",
        "run_state",
        "direction",
        "floor",
        "door_zone",
        "door_state",
        "has_person",
        "speed",
        "load_pct",
        "power_source",
        "battery_pct",
        "safety_circuit",
        "alarm_button",
        "up_limit",
        "down_limit",
        "car_door_locked",
        "landing_door_locked",
        "vibration_rms",
        "extra",
    ),  # fmt: skip
    (
        "text",
        "timestamptz",
        "int8",
        "timestamptz",
        "text",
        "text",
        "text",
        "int4",
        "bool",
        "text",
        "bool",
        "float4",
        "float4",
        "text",
        "float4",
        "text",
        "bool",
        "bool",
        "bool",
        "bool",
        "bool",
        "float4",
        "jsonb",
    ),  # fmt: skip
)
EVENT = TableSpec(
    "elevator_event",
    "ingest_stage_event",
    ("elevator_id", "ts", "seq", "received_at", "code", "state", "detail", "extra"),
    ("text", "timestamptz", "int8", "timestamptz", "text", "text", "text", "jsonb"),
)
STATS = TableSpec(
    "elevator_stats",
    "ingest_stage_stats",
    (
        "elevator_id",
        "ts",
        "seq",
        "received_at",
        "run_count",
        "run_hours",
        "door_cycles",
        "distance_km",
        "extra",
    ),  # fmt: skip
    (
        "text",
        "timestamptz",
        "int8",
        "timestamptz",
        "int8",
        "float8",
        "int8",
        "float8",
        "jsonb",
    ),  # fmt: skip
)
SPECS = {Channel.STATUS: STATUS, Channel.EVENT: EVENT, Channel.STATS: STATS}

# per-batch scratch tables of the presence update (temporary, emptied at each commit)
STAGE_TABLES = (
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage_keys (device_kind text, device_key text,"
    " device_id text, site_id text) ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage_presence (device_kind text, device_key text,"
    " device_id text, site_id text, last_seen timestamptz, last_ts timestamptz,"
    " last_seq int8, messages int8, seq_gaps int8,"
    " last_status text, last_status_at timestamptz, availability text,"
    " availability_at timestamptz) ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage_batch (device_kind text, device_key text,"
    " last_seen timestamptz, stored int8, first_ts timestamptz, first_seq int8,"
    " last_ts timestamptz, last_seq int8, gaps int8, last_status text,"
    " status_at timestamptz) ON COMMIT DELETE ROWS",
)
KEYS_COPY = "COPY ingest_stage_keys FROM STDIN (FORMAT BINARY)"
BATCH_PRESENCE_COPY = "COPY ingest_stage_batch FROM STDIN (FORMAT BINARY)"
BATCH_PRESENCE_TYPES = (
    "text", "text", "timestamptz", "int8", "timestamptz", "int8", "timestamptz", "int8",
    "int8", "text", "timestamptz",
)  # fmt: skip
# presence.advance for a batch newer than the row: the gap between the row's last seq
# and the batch's first one is added here, the gaps inside the batch were counted in
# Python (u.gaps); a newer status replaces last_status
FAST_PRESENCE_UPDATE = """
UPDATE device_presence p SET
    last_seen = GREATEST(p.last_seen, u.last_seen),
    last_ts = COALESCE(u.last_ts, p.last_ts),
    last_seq = COALESCE(u.last_seq, p.last_seq),
    messages = p.messages + u.stored,
    seq_gaps = p.seq_gaps + u.gaps + CASE
        WHEN u.first_seq IS NULL OR p.last_seq IS NULL THEN 0
        WHEN u.first_seq > p.last_seq THEN u.first_seq - p.last_seq - 1
        WHEN u.first_seq < p.last_seq THEN u.first_seq
        ELSE 0 END,
    last_status = CASE WHEN u.status_at >= p.last_status_at OR p.last_status_at IS NULL
                       THEN COALESCE(u.last_status::jsonb, p.last_status) ELSE p.last_status END,
    last_status_at = CASE WHEN u.status_at >= p.last_status_at OR p.last_status_at IS NULL
                          THEN COALESCE(u.status_at, p.last_status_at) ELSE p.last_status_at END
FROM ingest_stage_batch u
WHERE p.device_kind = u.device_kind AND p.device_key = u.device_key
  AND (u.first_ts IS NULL OR p.last_ts IS NULL OR u.first_ts >= p.last_ts)
RETURNING p.device_kind, p.device_key
"""
INSERT_PRESENCE = """
INSERT INTO device_presence (device_kind, device_key, device_id, site_id, last_seen, last_ts,
    last_seq, messages, seq_gaps, last_status, last_status_at, availability, availability_at)
SELECT device_kind, device_key, device_id, site_id, last_seen, last_ts, last_seq, messages,
       seq_gaps, last_status::jsonb, last_status_at, availability, availability_at
FROM ingest_stage_presence ORDER BY device_kind, device_key
ON CONFLICT DO NOTHING
RETURNING device_kind, device_key
"""
SLOW_PRESENCE_UPDATE = """
UPDATE device_presence p SET
    last_seen = u.last_seen, last_ts = u.last_ts, last_seq = u.last_seq,
    messages = u.messages, seq_gaps = u.seq_gaps,
    last_status = COALESCE(u.last_status::jsonb, p.last_status),
    last_status_at = u.last_status_at,
    availability = u.availability, availability_at = u.availability_at
FROM ingest_stage_presence u
WHERE p.device_kind = u.device_kind AND p.device_key = u.device_key
"""
PRESENCE_COPY = "COPY ingest_stage_presence FROM STDIN (FORMAT BINARY)"
PRESENCE_TYPES = (
    "text", "text", "text", "text", "timestamptz", "timestamptz", "int8", "int8", "int8",
    "text", "timestamptz", "text", "timestamptz",
)  # fmt: skip


def _row(s: Sample) -> tuple[Any, ...]:
    m: Any = s.message
    if s.channel is Channel.STATUS:
        return (
            s.elevator_id, s.ts, s.seq, s.received_at, m.service_mode, m.run_state,
            m.direction, m.floor, m.door_zone, m.door_state, m.has_person, m.speed,
            m.load_pct, m.power_source, m.battery_pct, m.safety_circuit, m.alarm_button,
            m.up_limit, m.down_limit, m.car_door_locked, m.landing_door_locked,
            m.vibration_rms, s.extra,
        )  # fmt: skip
    if s.channel is Channel.EVENT:
        return (s.elevator_id, s.ts, s.seq, s.received_at, m.code, m.state, m.detail, s.extra)
    return (
        s.elevator_id, s.ts, s.seq, s.received_at, m.run_count, m.run_hours,
        m.door_cycles, m.distance_km, s.extra,
    )  # fmt: skip


def status_document(s: Sample) -> str:
    """The status sample as the elevator list shows it (device_presence.last_status):
    the contract's fields and the extra ones, as validated (never the raw bytes), as
    JSON text (staged as text and cast: a jsonb COPY column would quote a str)."""
    if not s.extra:
        return msgspec.json.encode(s.message).decode()
    fields = {k: v for k, v in msgspec.to_builtins(s.message).items() if v is not None}
    return msgspec.json.encode({**s.extra, **fields}).decode()


@dataclass
class WriteResult:
    stored: dict[str, int] = field(default_factory=dict)  # table -> rows stored
    duplicates: int = 0
    dead: list[DeadLetter] = field(default_factory=list)
    availability_changes: int = 0


class PartitionDays:
    """Days whose daily partitions are known to exist, so the check costs nothing normally."""

    def __init__(self) -> None:
        self.known: set[date] = set()

    def ensure(self, conn: psycopg.Connection[Any], days: Iterable[date]) -> None:
        missing = set(days) - self.known
        if not missing:
            return
        # its own short transaction: idempotent, and no partition lock held for the batch
        with conn.transaction():
            created = ensure_partitions(conn, missing)
        if created:
            log.info("created %d daily partitions for %s", created, sorted(missing))
        self.known |= missing


class BatchWriter:
    def __init__(self, worker: str, flood_cap: deadletters.FloodCap | None = None) -> None:
        self.worker = worker
        self.flood_cap = flood_cap
        self.partitions = PartitionDays()
        self._staged_on: int | None = None  # backend pid whose temp tables exist

    def _prepare(self, conn: psycopg.Connection[Any]) -> None:
        pid = conn.info.backend_pid
        if self._staged_on == pid:
            return
        with conn.transaction():
            for spec in SPECS.values():
                conn.execute(
                    sql.SQL(
                        "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DELETE ROWS"
                    ).format(sql.Identifier(spec.stage), sql.Identifier(spec.table))
                )
            for statement in STAGE_TABLES:
                conn.execute(statement)
        self._staged_on = pid

    def write(
        self,
        conn: psycopg.Connection[Any],
        samples: Sequence[Sample],
        availability: Sequence[AvailabilityReport],
        dead: Sequence[DeadLetter],
    ) -> WriteResult:
        """Write one batch; returns what was stored. Raises (nothing committed) on failure."""
        self._prepare(conn)
        result = WriteResult()
        self.partitions.ensure(conn, {s.ts.date() for s in samples})
        with conn.transaction():
            stored = self._insert_samples(conn, samples, result)
            self._update_presence(conn, samples, stored, availability, result)
            self._insert_dead_letters(conn, dead)
            hours = {
                hour_bucket(s.ts)
                for s in {
                    (s.ts.year, s.ts.month, s.ts.day, s.ts.hour): s
                    for s in stored
                    if s.channel is Channel.STATUS
                }.values()
            }
            if hours:
                conn.execute(
                    "INSERT INTO rollup_dirty (bucket) SELECT unnest(%s::timestamptz[])"
                    " ON CONFLICT (bucket) DO UPDATE SET touched_at = now()",
                    (sorted(hours),),
                )
        return result

    # ------------------------------------------------------------------ telemetry

    def _insert_samples(
        self, conn: psycopg.Connection[Any], samples: Sequence[Sample], result: WriteResult
    ) -> list[Sample]:
        by_channel: dict[Channel, dict[tuple[str, datetime, int], Sample]] = defaultdict(dict)
        for s in samples:  # a repeat inside the batch: the first one wins
            by_channel[s.channel].setdefault((s.elevator_id, s.ts, s.seq), s)
        stored: list[Sample] = []
        for channel, unique in by_channel.items():
            spec = SPECS[channel]
            rows = list(unique.values())
            new = self._copy_rows(conn, spec, rows)
            stored.extend(new)
            result.stored[spec.table] = len(new)
        result.duplicates = len(samples) - len(stored)
        return stored

    def _copy_rows(
        self, conn: psycopg.Connection[Any], spec: TableSpec, rows: list[Sample]
    ) -> list[Sample]:
        try:
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(spec.copy_into(spec.table)) as copy,
            ):
                copy.set_types(list(spec.types))
                for s in rows:
                    copy.write_row(_row(s))
            return rows
        except psycopg.errors.UniqueViolation:
            pass  # some are stored already: find out which
        with conn.cursor() as cur:
            with cur.copy(spec.copy_into(spec.stage)) as copy:
                copy.set_types(list(spec.types))
                for s in rows:
                    copy.write_row(_row(s))
            cur.execute(
                sql.SQL(
                    "INSERT INTO {} SELECT * FROM {} ON CONFLICT DO NOTHING"
                    " RETURNING elevator_id, ts, seq"
                ).format(sql.Identifier(spec.table), sql.Identifier(spec.stage))
            )
            inserted = {(r[0], r[1], r[2]) for r in cur.fetchall()}
            cur.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(spec.stage)))
        return [s for s in rows if s.key in inserted]

    # ------------------------------------------------------------------ presence

    def _update_presence(
        self,
        conn: psycopg.Connection[Any],
        samples: Sequence[Sample],
        stored: Sequence[Sample],
        availability: Sequence[AvailabilityReport],
        result: WriteResult,
    ) -> None:
        """One presence update per device of the batch.

        The common case, a device whose messages in this batch are all newer than
        what its row holds, is one set-based UPDATE whose SET clause continues the gap
        count of `presence.advance` from the stored last seq (the row lock is taken by
        the UPDATE itself, and the condition re-checked on the newest row version).
        Devices it does not apply to (first sight, late messages, availability
        reports) are locked, computed with `presence.advance` and written row by row.
        """
        seen: dict[DeviceKey, datetime] = {}
        devices: dict[DeviceKey, tuple[str, str | None]] = {}
        for s in samples:
            key = ("elevator", s.elevator_id)
            if key not in seen or s.received_at > seen[key]:
                seen[key] = s.received_at
            devices[key] = (s.elevator_id, None)
        for a in availability:
            key = (a.device.kind.value, a.device.device_key)
            if key not in seen or a.received_at > seen[key]:
                seen[key] = a.received_at
            devices[key] = (a.device.device_id, a.device.site_id)
        if not devices:
            return
        per_device: dict[DeviceKey, list[tuple[datetime, int]]] = defaultdict(list)
        newest_status: dict[DeviceKey, Sample] = {}
        for s in stored:
            key = ("elevator", s.elevator_id)
            per_device[key].append((s.ts, s.seq))
            if s.channel is Channel.STATUS:
                best = newest_status.get(key)
                if best is None or (s.ts, s.seq) > (best.ts, best.seq):
                    newest_status[key] = s
        reports: dict[DeviceKey, list[AvailabilityReport]] = defaultdict(list)
        for a in availability:
            reports[(a.device.kind.value, a.device.device_key)].append(a)

        slow = set(reports)
        fast = [k for k in sorted(devices) if k not in slow]
        if fast:
            slow |= self._presence_fast(conn, fast, per_device, newest_status, seen)
        if slow:
            self._presence_slow(
                conn,
                {k: devices[k] for k in slow},
                per_device,
                newest_status,
                seen,
                reports,
                result,
            )

    def _presence_fast(
        self,
        conn: psycopg.Connection[Any],
        keys: list[DeviceKey],
        per_device: dict[DeviceKey, list[tuple[datetime, int]]],
        newest_status: dict[DeviceKey, Sample],
        seen: dict[DeviceKey, datetime],
    ) -> set[DeviceKey]:
        """The set-based update; returns the devices it did not apply to."""
        with conn.cursor() as cur:
            with cur.copy(BATCH_PRESENCE_COPY) as copy:
                copy.set_types(list(BATCH_PRESENCE_TYPES))
                for key in keys:
                    items = per_device.get(key, ())
                    first_ts = first_seq = last_ts = last_seq = None
                    internal = 0
                    if len(items) == 1:  # the common case: one message per device per batch
                        first_ts, first_seq = last_ts, last_seq = items[0]
                    elif items:
                        items = sorted(items)
                        first_ts, first_seq = items[0]
                        last_ts, last_seq = items[-1]
                        previous = first_seq
                        for _, seq in items[1:]:
                            internal += gap(previous, seq)
                            previous = seq
                    status = newest_status.get(key)
                    copy.write_row(
                        (
                            key[0],
                            key[1],
                            seen[key],
                            len(items),
                            first_ts,
                            first_seq,
                            last_ts,
                            last_seq,
                            internal,
                            status_document(status) if status else None,
                            status.ts if status else None,
                        )  # fmt: skip
                    )
            # index lookups, not a hash of the whole table: a batch touches a few thousand
            # of a city's 200,000 presence rows, and the scratch table has no statistics
            cur.execute("SET LOCAL enable_hashjoin = off")
            cur.execute("SET LOCAL enable_mergejoin = off")
            cur.execute(FAST_PRESENCE_UPDATE, binary=True)
            done = {(r[0], r[1]) for r in cur.fetchall()}
        return {k for k in keys if k not in done}

    def _presence_slow(
        self,
        conn: psycopg.Connection[Any],
        devices: dict[DeviceKey, tuple[str, str | None]],
        per_device: dict[DeviceKey, list[tuple[datetime, int]]],
        newest_status: dict[DeviceKey, Sample],
        seen: dict[DeviceKey, datetime],
        reports: dict[DeviceKey, list[AvailabilityReport]],
        result: WriteResult,
    ) -> None:
        def compute(
            keys: list[DeviceKey],
            prior: dict[DeviceKey, tuple[Presence, str | None, datetime | None]],
        ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
            rows: list[tuple[Any, ...]] = []
            log_rows: list[tuple[Any, ...]] = []
            for key in keys:
                before, state, state_at = prior.get(key, (Presence(), None, None))
                after = advance(before, per_device.get(key, ()), seen[key])
                status_doc, status_at = None, after.last_status_at
                status = newest_status.get(key)
                if status is not None and (status_at is None or status.ts >= status_at):
                    status_doc, status_at = status_document(status), status.ts
                for a in sorted(reports.get(key, ()), key=lambda r: r.received_at):
                    if state_at is not None and a.received_at < state_at:
                        # older than the state stored (another ingest replica wrote a
                        # newer report first): the newer state stays
                        continue
                    if a.availability != state:  # the log records transitions, not repeats
                        log_rows.append(
                            (key[0], key[1], devices[key][1], a.availability, a.received_at)
                        )
                    state, state_at = a.availability, a.received_at
                rows.append(
                    (
                        key[0],
                        key[1],
                        *devices[key],
                        after.last_seen,
                        after.last_ts,
                        after.last_seq,
                        after.messages,
                        after.seq_gaps,
                        status_doc,
                        status_at,
                        state,
                        state_at,
                    )  # fmt: skip
                )
            return rows, log_rows

        def stage(cur: psycopg.Cursor[Any], rows: list[tuple[Any, ...]]) -> None:
            cur.execute("TRUNCATE ingest_stage_presence")
            with cur.copy(PRESENCE_COPY) as copy:
                copy.set_types(list(PRESENCE_TYPES))
                for row in rows:
                    copy.write_row(row)

        keys = sorted(devices)
        log_rows: list[tuple[Any, ...]] = []
        with conn.cursor() as cur:
            # first sight: the whole row is inserted; a device another worker created
            # in the meantime is left to the locked path below
            rows, logs = compute(keys, {})
            stage(cur, rows)
            cur.execute(INSERT_PRESENCE, binary=True)
            created = {(r[0], r[1]) for r in cur.fetchall()}
            log_rows += [r for r in logs if (r[0], r[1]) in created]
            rest = [k for k in keys if k not in created]
            if rest:
                prior = self._lock_presence(conn, {k: devices[k] for k in rest})
                rows, logs = compute(rest, prior)
                stage(cur, rows)
                cur.execute(SLOW_PRESENCE_UPDATE)
                log_rows += logs
            if log_rows:
                result.availability_changes += len(log_rows)
                cur.executemany(
                    "INSERT INTO availability_log (device_kind, device_key, site_id, availability,"
                    " received_at) VALUES (%s, %s, %s, %s, %s)",
                    log_rows,
                )

    def _lock_presence(
        self,
        conn: psycopg.Connection[Any],
        devices: dict[tuple[str, str], tuple[str, str | None]],
    ) -> dict[tuple[str, str], tuple[Presence, str | None, datetime | None]]:
        """The presence rows of `devices`, locked in key order (so two workers never
        deadlock on them); rows are created first for devices seen for the first time."""
        with conn.cursor() as cur:
            with cur.copy(KEYS_COPY) as copy:
                copy.set_types(["text", "text", "text", "text"])
                for (kind, key), (device_id, site_id) in devices.items():
                    copy.write_row((kind, key, device_id, site_id))
            found = self._select_for_update(cur)
            if len(found) < len(devices):
                cur.execute(
                    "INSERT INTO device_presence (device_kind, device_key, device_id, site_id)"
                    " SELECT * FROM ingest_stage_keys ORDER BY 1, 2 ON CONFLICT DO NOTHING"
                )
                found = self._select_for_update(cur)
        return found

    def _select_for_update(
        self, cur: psycopg.Cursor[Any]
    ) -> dict[tuple[str, str], tuple[Presence, str | None, datetime | None]]:
        cur.execute(
            """
            SELECT p.device_kind, p.device_key, p.last_seen, p.last_ts, p.last_seq, p.messages,
                   p.seq_gaps, p.last_status_at, p.availability, p.availability_at
            FROM device_presence p
            JOIN ingest_stage_keys k
              ON p.device_kind = k.device_kind AND p.device_key = k.device_key
            ORDER BY p.device_kind, p.device_key
            FOR UPDATE OF p
            """,
            binary=True,
        )
        return {
            (r[0], r[1]): (Presence(r[2], r[3], r[4], r[5], r[6], r[7]), r[8], r[9])
            for r in cur.fetchall()
        }

    # ------------------------------------------------------------------ dead letters

    def _insert_dead_letters(
        self, conn: psycopg.Connection[Any], dead: Sequence[DeadLetter]
    ) -> None:
        deadletters.insert(conn, dead, self.worker, "ingest", self.flood_cap)
