"""TimescaleDB sized from the fleet (db/timescale.py): the pure plan, its SQL text, and
the reconciliation of jobs (issue 16 item 5 and (e)) against a recorded connection."""

from __future__ import annotations

from datetime import timedelta

import pytest

from brightwatch.db import timescale
from brightwatch.db.timescale import Action, Fleet, Job, job_actions, plan_for, plan_sql
from brightwatch.settings import Settings, timescale_plan
from tests.db.fakes import RecordingConnection

GIB = 2**30


@pytest.mark.parametrize(
    ("elevators", "memory_gib", "expected"),
    [
        (1_000, 16, timedelta(days=1)),
        (1_000, 256, timedelta(days=7)),  # capped at a week
        (10_000, 64, timedelta(hours=8)),
        (100_000, 256, timedelta(hours=4)),
        (300_000, 16, timedelta(hours=1)),  # floor: a smaller node would need < 1 h
    ],
)
def test_chunk_interval_keeps_one_chunk_of_each_table_within_a_quarter_of_memory(
    elevators: int, memory_gib: int, expected: timedelta
) -> None:
    interval = timescale.chunk_interval(elevators, memory_gib * GIB)
    assert interval == expected
    chunk_bytes = (
        elevators * timescale.ROWS_PER_ELEVATOR_DAY * timescale.BYTES_PER_ROW
        * (interval / timedelta(days=1))
    )  # fmt: skip
    if interval > timedelta(hours=1):
        assert chunk_bytes <= 0.25 * memory_gib * GIB
    assert timedelta(days=1) % interval == timedelta(0) or interval % timedelta(days=1) == (
        timedelta(0)
    )


def test_plan_sql_uses_the_columnstore_names_and_the_fleet_interval() -> None:
    plan = plan_for(Fleet(elevators=100_000, db_memory_bytes=256 * GIB, raw_retention_days=365))
    text = "\n".join(plan_sql(plan))
    assert "set_chunk_time_interval('elevator_status', interval '4 hours')" in text
    assert "timescaledb.enable_columnstore = true" in text
    assert "timescaledb.segmentby = 'elevator_id'" in text
    assert "timescaledb.orderby = 'ts DESC, seq DESC'" in text
    assert "CALL add_columnstore_policy('elevator_event', after => interval '7 days'" in text
    assert (
        "add_retention_policy('elevator_stats', interval '365 days', if_not_exists => true)" in text
    )
    # the names deprecated in 2.18.0 are gone
    assert "compress_segmentby" not in text and "add_compression_policy" not in text


def test_a_chunk_is_never_compressed_while_written() -> None:
    plan = plan_for(
        Fleet(elevators=10, db_memory_bytes=256 * GIB, compress_after=timedelta(days=1))
    )
    assert plan.chunk_interval == timedelta(days=7)
    assert plan.compress_after == timedelta(days=7)


def test_settings_give_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BW_FLEET__ELEVATORS", "10000")
    monkeypatch.setenv("BW_FLEET__DB_MEMORY_GB", "64")
    monkeypatch.setenv("BW_INGEST__RAW_RETENTION_DAYS", "90")
    plan = timescale_plan(Settings())
    assert plan.chunk_interval == timedelta(hours=8)
    assert plan.drop_after == timedelta(days=90)


def test_job_actions_add_missing_alter_changed_keep_the_rest() -> None:
    tables = ("a", "b", "c")
    existing = [
        Job(1000, "a", "retention", timedelta(days=400)),
        Job(1001, "b", "retention", timedelta(days=30)),
        Job(1002, "a", "columnstore", timedelta(days=7)),
        Job(1003, "b", "columnstore", timedelta(days=3)),
    ]
    assert job_actions(existing, tables, "retention", timedelta(days=400)) == [
        Action("keep", "retention", "a", timedelta(days=400), 1000),
        Action("alter", "retention", "b", timedelta(days=400), 1001),
        Action("add", "retention", "c", timedelta(days=400)),
    ]
    assert [a.kind for a in job_actions(existing, tables, "columnstore", timedelta(days=7))] == [
        "keep", "replace", "add"
    ]  # fmt: skip


def _jobs_answer(jobs: list[tuple[int, str, str, timedelta]], dims: dict[str, timedelta]) -> object:
    def answer(sql: str, params: object) -> list[tuple[object, ...]] | None:
        if "timescaledb_information.jobs" in sql and sql.lstrip().startswith("SELECT job_id"):
            return list(jobs)
        if "timescaledb_information.dimensions" in sql:
            return list(dims.items())
        return None

    return answer


def test_restart_with_the_same_settings_touches_no_job() -> None:
    """Issue 16 (e): a second start used to remove and re-add every retention job."""
    tables = timescale.TIME_SERIES_TABLES
    jobs = [(1000 + i, t, "retention", timedelta(days=400)) for i, t in enumerate(tables)]
    conn = RecordingConnection(_jobs_answer(jobs, {}))  # type: ignore[arg-type]
    actions = timescale.reconcile_retention(conn, timedelta(days=400))  # type: ignore[arg-type]
    assert {a.kind for a in actions} == {"keep"}
    assert all("timescaledb_information.jobs" in s for s in conn.sql())  # only the lookup


def test_changed_retention_is_altered_in_place_missing_one_added() -> None:
    jobs = [(1000, "elevator_status", "retention", timedelta(days=400))]
    conn = RecordingConnection(_jobs_answer(jobs, {}))  # type: ignore[arg-type]
    timescale.reconcile_retention(conn, timedelta(days=90))  # type: ignore[arg-type]
    writes = [
        (s, p)
        for s, p in conn.statements
        if "timescaledb_information.jobs WHERE" not in s or "alter_job" in s
    ]
    sqls = [s for s, _ in writes]
    assert not any("remove_retention_policy" in s for s in sqls)
    altered = [(s, p) for s, p in writes if "alter_job" in s]
    assert len(altered) == 1 and altered[0][1] == (1000, "90 days", 1000)
    added = [p for s, p in writes if "add_retention_policy" in s]
    assert added == [("elevator_event", "90 days"), ("elevator_stats", "90 days")]


def test_apply_plan_sets_the_interval_only_where_it_differs() -> None:
    plan = plan_for(Fleet(elevators=10_000, db_memory_bytes=64 * GIB))
    tables = timescale.TIME_SERIES_TABLES
    jobs = [(1000 + i, t, "retention", plan.drop_after) for i, t in enumerate(tables)] + [
        (2000 + i, t, "columnstore", plan.compress_after) for i, t in enumerate(tables)
    ]
    dims = {"elevator_status": plan.chunk_interval, "elevator_event": timedelta(days=1),
            "elevator_stats": plan.chunk_interval}  # fmt: skip
    conn = RecordingConnection(_jobs_answer(jobs, dims))  # type: ignore[arg-type]
    changed = timescale.apply_plan(conn, plan)  # type: ignore[arg-type]
    assert changed == ["elevator_event: chunk interval 8 hours"]
    calls = [p for s, p in conn.statements if "set_chunk_time_interval" in s]
    assert calls == [("elevator_event", "8 hours")]


@pytest.mark.parametrize(
    ("version", "refused"),
    [("2.17.2", True), ("2.18.2", True), ("2.19.0", False), ("2.19", False),
     ("2.28.3", False), ("2.20.0-dev", False), ("3.0.0", False), ("garbage", True)],
)  # fmt: skip
def test_versions_before_2_19_are_refused(version: str, refused: bool) -> None:
    problem = timescale.version_problem(version)
    assert (problem is not None) == refused
    if problem:
        assert "2.19.0 or later" in problem and version in problem


def test_the_upkeep_retention_pass_keeps_jobs_that_are_right() -> None:
    """ingest's upkeep calls apply_retention at every start and daily (issue 16 (e))."""
    from datetime import UTC, datetime

    from brightwatch.db.timeseries import apply_retention

    tables = timescale.TIME_SERIES_TABLES
    jobs = [(1000 + i, t, "retention", timedelta(days=400)) for i, t in enumerate(tables)]
    inner = _jobs_answer(jobs, {})

    def answer(sql: str, params: object) -> list[tuple[object, ...]] | None:
        if "FROM schema_setting" in sql:
            return [("timescale",)]
        return inner(sql, params)  # type: ignore[operator]

    conn = RecordingConnection(answer)
    apply_retention(conn, 400, datetime.now(UTC))  # type: ignore[arg-type]
    assert not [s for s in conn.sql() if "remove_" in s or "add_" in s or "alter_job" in s]
