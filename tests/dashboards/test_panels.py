"""Every panel's SQL, macros and variables expanded as Grafana would, run against a real
database filled with generated history: it must return rows of the declared shape."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest
from psycopg.types.json import Jsonb

from brightwatch.dashboards.boards import ALL
from brightwatch.dashboards.model import Column
from brightwatch.dashboards.runner import panel_queries, run

PANELS = [(d, p) for d in ALL for p in d.panels]


def _kind_ok(column: Column, value: object) -> bool:
    if value is None:
        return True  # a null cell is still the right column
    if column.kind == "time":
        # $__timeGroup gives epoch seconds (numeric), which Grafana reads as time
        return isinstance(value, dt.datetime | float | int | Decimal)
    if column.kind == "number":
        return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if column.kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, str)


@pytest.mark.parametrize(
    ("dashboard", "panel"), PANELS, ids=[f"{d.uid}:{p.title}" for d, p in PANELS]
)
def test_panel_query_returns_declared_shape(
    history_url: str, generated_at: dt.datetime, dashboard, panel
) -> None:  # type: ignore[no-untyped-def]
    with psycopg.connect(history_url) as conn:
        for table in panel.requires:
            present = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
            assert present and present[0], f"table {table} is missing from the migrations"
        conn.execute("SET default_transaction_read_only = on")  # what Grafana's role gets
        query = next(q for q in panel_queries(conn, dashboard, generated_at) if q.panel is panel)
        names, rows, _ = run(conn, query.sql)
    assert names == [c.name for c in panel.columns], query.sql
    assert len(rows) >= panel.min_rows, f"no rows from generated history:\n{query.sql}"
    for row in rows:
        for column, value in zip(panel.columns, row, strict=True):
            assert _kind_ok(column, value), f"{column.name}={value!r} is not {column.kind}"
    if panel.format == "time_series":
        times = [r[0] for r in rows]
        assert times == sorted(times), "time series must be ordered by time"
        assert all(r[0] is not None for r in rows)
    non_null = {c.name for c in panel.columns for r in rows if r[names.index(c.name)] is not None}
    assert non_null == set(names), f"columns always null: {set(names) - non_null}"


def test_every_dashboard_has_panels_and_a_unique_uid() -> None:
    assert len({d.uid for d in ALL}) == len(ALL) == 4
    assert all(d.panels for d in ALL)


def test_a_fault_reads_in_the_boards_language(db_url: str) -> None:
    """The elevator board's fault table shows the summary in the board's language where
    the rule wrote it in every language (`alert.summaries`), else as stored."""
    from brightwatch.dashboards.boards.elevator import DASHBOARD, FAULTS

    now = dt.datetime.now(dt.UTC)
    at = now - dt.timedelta(hours=1)
    both = {"zh-CN": "TRAPPED_OUT_ZONE 非平层困人，3 层", "en": "TRAPPED_OUT_ZONE at floor 3"}
    with psycopg.connect(db_url) as conn:
        conn.execute("INSERT INTO elevator (elevator_id) VALUES ('E1')")
        for code, summaries in (("TRAPPED_OUT_ZONE", both), ("DOOR_CLOSE_FAIL", {})):
            conn.execute(
                "INSERT INTO alert (kind, code, severity, state, device_id, fingerprint,"
                " started_at, updated_at, last_raised_at, summary, summaries) VALUES"
                " ('elevator', %s, 'P1', 'firing', 'E1', %s, %s, %s, %s, %s, %s)",
                (code, code, at, at, at, summaries.get("zh-CN", "门关不上"), Jsonb(summaries)),
            )
        for locale, want in (("en", both["en"]), ("zh-CN", both["zh-CN"])):
            query = next(
                q for q in panel_queries(conn, DASHBOARD, now, locale) if q.panel is FAULTS
            )
            names, rows, _ = run(conn, query.sql)
            said = {r[names.index("code")]: r[names.index("summary")] for r in rows}
            assert said == {"TRAPPED_OUT_ZONE": want, "DOOR_CLOSE_FAIL": "门关不上"}, locale
