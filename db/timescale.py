"""TimescaleDB sized for the configured fleet, and its jobs kept without churn.

Two halves:

- `plan_for(fleet)`: a pure function from the fleet size and the database node's memory
  to the chunk interval, the columnstore settings and the policies' intervals; `plan_sql`
  writes it out as the statements an operator could run by hand (what the tests check).
- `apply_plan(conn, plan)`: reconciles a TimescaleDB database with a plan. Each job is
  added only when missing and altered only when its setting differs, so a restart keeps
  the jobs' ids, run history and any tuning done with `alter_job` (issue 16 (e): every
  start used to drop and re-create the retention jobs).

Chunk interval rule (TimescaleDB's "Size hypertable chunks": the chunks being written,
indexes included, should fit in 25 % of main memory): one chunk of each of the three
telemetry hypertables together holds `CHUNK_MEMORY_SHARE` of the node's memory, at the
measured bytes per row (table + indexes, plain PostgreSQL, bench/RESULTS.md) and the rows
per elevator and day of the reporting rates in interfaces.md (measured on the simulator,
bench/capacity.py). The interval is rounded down to a divisor or multiple of a day (so
chunks stay aligned with days and with the hourly rollup) between 1 hour and 7 days.

May import: psycopg and the standard library.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: the settings import this module's plans, not psycopg
    import psycopg

log = logging.getLogger(__name__)

TIME_SERIES_TABLES = ("elevator_status", "elevator_event", "elevator_stats")
HOURLY_ROLLUP = "elevator_status_hourly"

# 2.18.0 renamed compression to columnstore (the option names used here); before 2.19.0 a
# batch INSERT ... ON CONFLICT DO NOTHING with one row already in a compressed chunk stored
# nothing (seen on 2.17.2, issue 16 (a)): ingest's duplicate fallback would lose replays
MIN_VERSION = (2, 19, 0)

CHUNK_MEMORY_SHARE = 0.25
# measured: bytes per stored status row, table + primary-key index, plain PostgreSQL,
# rows of the simulated fleet stored through ingest's writer (bench/capacity.py, capacity
# section of bench/RESULTS.md: 234.1 B; stats rows 197.7 B, counted at the status size)
BYTES_PER_ROW = 234.1
# rows per elevator and day at interfaces.md's reporting rates (every change, 5 s while
# running, 60 s while idle; stats every 600 s), measured on the residential-traffic
# simulator by bench/capacity.py: 15,180 status + 145 stats rows; events are rare (a
# margin of 10)
ROWS_PER_ELEVATOR_DAY = 15_180 + 145 + 10

# chunk intervals allowed: divisors of a day, then whole days up to a week
_LADDER = tuple(timedelta(hours=h) for h in (1, 2, 3, 4, 6, 8, 12)) + tuple(
    timedelta(days=d) for d in (1, 2, 3, 7)
)


@dataclass(frozen=True)
class Fleet:
    """What the sizing depends on (brightwatch.settings.FleetSettings gives it)."""

    elevators: int
    db_memory_bytes: int
    raw_retention_days: int = 400
    compress_after: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class Plan:
    chunk_interval: timedelta
    compress_after: timedelta
    drop_after: timedelta
    segmentby: str = "elevator_id"
    orderby: str = "ts DESC, seq DESC"


def chunk_interval(elevators: int, db_memory_bytes: int) -> timedelta:
    """The longest allowed interval whose chunks (all three tables) fit the memory share."""
    per_day = max(1, elevators) * ROWS_PER_ELEVATOR_DAY * BYTES_PER_ROW
    fits = timedelta(days=CHUNK_MEMORY_SHARE * db_memory_bytes / per_day)
    chosen = _LADDER[0]
    for step in _LADDER:
        if step <= fits:
            chosen = step
    return chosen


def plan_for(fleet: Fleet) -> Plan:
    interval = chunk_interval(fleet.elevators, fleet.db_memory_bytes)
    hour_bytes = fleet.elevators * ROWS_PER_ELEVATOR_DAY * BYTES_PER_ROW / 24
    if hour_bytes > CHUNK_MEMORY_SHARE * fleet.db_memory_bytes:
        log.warning(
            "an hour of telemetry of %d elevators (%.1f GB) exceeds %d %% of the database"
            " node's memory: give it more memory (BW_FLEET__DB_MEMORY_GB) or split the fleet",
            fleet.elevators,
            hour_bytes / 1e9,
            int(CHUNK_MEMORY_SHARE * 100),
        )
    # a chunk is compressed only once it is wholly past `compress_after`, and a chunk
    # being written must never be compressed: at least one interval behind
    compress_after = max(fleet.compress_after, interval)
    return Plan(
        chunk_interval=interval,
        compress_after=compress_after,
        drop_after=timedelta(days=fleet.raw_retention_days),
    )


def interval_sql(value: timedelta) -> str:
    """A PostgreSQL interval literal in whole days, or hours below a day."""
    seconds = int(value.total_seconds())
    if seconds % 86_400 == 0:
        return f"{seconds // 86_400} days"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hours"
    return f"{seconds} seconds"


def plan_sql(plan: Plan) -> list[str]:
    """The plan as statements, for a database with none of it yet (also what `apply_plan`
    runs for a missing piece). Option and function names of TimescaleDB >= 2.18."""
    out: list[str] = []
    for t in TIME_SERIES_TABLES:
        out.append(
            f"SELECT set_chunk_time_interval('{t}', interval '{interval_sql(plan.chunk_interval)}')"
        )
        out.append(
            f"ALTER TABLE {t} SET (timescaledb.enable_columnstore = true,"
            f" timescaledb.segmentby = '{plan.segmentby}',"
            f" timescaledb.orderby = '{plan.orderby}')"
        )
        out.append(
            f"CALL add_columnstore_policy('{t}',"
            f" after => interval '{interval_sql(plan.compress_after)}', if_not_exists => true)"
        )
        out.append(
            f"SELECT add_retention_policy('{t}',"
            f" interval '{interval_sql(plan.drop_after)}', if_not_exists => true)"
        )
    return out


# ---------------------------------------------------------------- reconciliation


@dataclass(frozen=True)
class Job:
    job_id: int
    table: str
    kind: str  # "retention" | "columnstore"
    interval: timedelta | None  # drop_after / compress_after from the job's config


@dataclass(frozen=True)
class Action:
    kind: str  # "add" | "alter" | "replace" | "keep"
    job: str  # "retention" | "columnstore"
    table: str
    interval: timedelta
    job_id: int | None = None


def job_actions(
    existing: list[Job], tables: tuple[str, ...], kind: str, wanted: timedelta
) -> list[Action]:
    """What to do so each table has exactly the wanted job: add it when missing, alter it
    when its interval differs, keep it otherwise (a retention job is altered in place; a
    columnstore job's `after` can only be changed by replacing it, per the docs of
    add_columnstore_policy)."""
    out: list[Action] = []
    for t in tables:
        found = [j for j in existing if j.table == t and j.kind == kind]
        if not found:
            out.append(Action("add", kind, t, wanted))
        elif found[0].interval == wanted:
            out.append(Action("keep", kind, t, wanted, found[0].job_id))
        else:
            change = "alter" if kind == "retention" else "replace"
            out.append(Action(change, kind, t, wanted, found[0].job_id))
    return out


_JOBS = """
SELECT job_id, hypertable_name,
       CASE proc_name WHEN 'policy_retention' THEN 'retention' ELSE 'columnstore' END,
       coalesce(config->>'drop_after', config->>'compress_after')::interval
FROM timescaledb_information.jobs
WHERE proc_name IN ('policy_retention', 'policy_compression')
  AND hypertable_name = ANY(%s)
ORDER BY job_id
"""


def existing_jobs(conn: psycopg.Connection[Any]) -> list[Job]:
    return [
        Job(int(r[0]), str(r[1]), str(r[2]), r[3])
        for r in conn.execute(_JOBS, (list(TIME_SERIES_TABLES),)).fetchall()
    ]


def run_action(conn: psycopg.Connection[Any], a: Action) -> None:
    value = interval_sql(a.interval)
    if a.kind == "keep":
        return
    log.info("timescale: %s %s job of %s (%s)", a.kind, a.job, a.table, value)
    if a.job == "retention":
        if a.kind == "add":
            conn.execute(
                "SELECT add_retention_policy(%s::regclass, %s::interval, if_not_exists => true)",
                (a.table, value),
            )
        else:
            conn.execute(
                "SELECT alter_job(%s, config => jsonb_set(config, '{drop_after}', to_jsonb(%s::text)))"
                " FROM timescaledb_information.jobs WHERE job_id = %s",
                (a.job_id, value, a.job_id),
            )
        return
    if a.kind == "replace":
        conn.execute("CALL remove_columnstore_policy(%s::regclass, if_exists => true)", (a.table,))
    conn.execute(
        "CALL add_columnstore_policy(%s::regclass, after => %s::interval, if_not_exists => true)",
        (a.table, value),
    )


def reconcile_retention(conn: psycopg.Connection[Any], drop_after: timedelta) -> list[Action]:
    actions = job_actions(existing_jobs(conn), TIME_SERIES_TABLES, "retention", drop_after)
    for a in actions:
        run_action(conn, a)
    return actions


def apply_plan(conn: psycopg.Connection[Any], plan: Plan) -> list[str]:
    """Bring a TimescaleDB database to `plan`; returns what changed (for the log)."""
    changed: list[str] = []
    current = dict(
        conn.execute(
            "SELECT hypertable_name, time_interval FROM timescaledb_information.dimensions"
            " WHERE hypertable_name = ANY(%s) AND dimension_number = 1",
            (list(TIME_SERIES_TABLES),),
        ).fetchall()
    )
    for t in TIME_SERIES_TABLES:
        if current.get(t) != plan.chunk_interval:
            # affects chunks created from now on; existing chunks keep their bounds
            conn.execute(
                "SELECT set_chunk_time_interval(%s::regclass, %s::interval)",
                (t, interval_sql(plan.chunk_interval)),
            )
            changed.append(f"{t}: chunk interval {interval_sql(plan.chunk_interval)}")
    jobs = existing_jobs(conn)
    for a in job_actions(
        jobs, TIME_SERIES_TABLES, "columnstore", plan.compress_after
    ) + job_actions(jobs, TIME_SERIES_TABLES, "retention", plan.drop_after):
        run_action(conn, a)
        if a.kind != "keep":
            changed.append(f"{a.table}: {a.kind} {a.job} job ({interval_sql(a.interval)})")
    return changed


def parse_version(text: str) -> tuple[int, ...]:
    """'2.19.3' -> (2, 19, 3); '2.20.0-dev' -> (2, 20, 0); unreadable -> ()."""
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", text.strip())
    return tuple(int(g) for g in m.groups() if g is not None) if m else ()


def version_problem(version: str) -> str | None:
    """Why this TimescaleDB version must not be used, or None."""
    found = parse_version(version)
    if len(found) >= 2 and found + (0,) * (3 - len(found)) >= MIN_VERSION:
        return None
    want = ".".join(map(str, MIN_VERSION))
    return (
        f"TimescaleDB {version} is too old: {want} or later is required (the columnstore"
        " settings need 2.18, and before 2.19.0 a batch INSERT ... ON CONFLICT DO NOTHING"
        " with one row already in a compressed chunk stored nothing, so a terminal"
        " replaying more than 7 days of data lost it). Upgrade the image, then run"
        " ALTER EXTENSION timescaledb UPDATE in every database"
    )
