"""The kitchens list: each kitchen's record as plainly defined (one subquery per figure
over all of the kitchen's cases, REFERENCE_SQL), served through the partial indexes of
migration 0115 (api/routes/kitchens.py)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.rows import dict_row

from brightwatch.alerts.review.workflow import CARD_ORDER, OPEN_CASE
from brightwatch.api.routes.kitchens import KITCHEN_SQL, OPEN_STATES
from brightwatch.dashboards.sample_data import Size, generate

CREDIT_START = 100  # alerts.review settings' default, which the client fixture keeps

# the list's figures as the issue defines them, before migration 0115
REFERENCE_SQL = """
SELECT s.site_id,
       (SELECT count(*) FROM camera c WHERE c.site_id = s.site_id) AS cameras,
       (SELECT count(*) FROM device_presence p WHERE p.device_kind = 'camera'
            AND p.site_id = s.site_id AND p.availability = 'online') AS cameras_online,
       (SELECT count(*) FROM review r WHERE r.site_id = s.site_id AND r.state = ANY(%(open)s))
            AS open_cases,
       (SELECT count(*) FROM review r WHERE r.site_id = s.site_id
            AND r.state = 'pending_review') AS pending_reviews,
       (SELECT array_agg(DISTINCT r.card) FROM review r WHERE r.site_id = s.site_id
            AND r.state = ANY(%(open)s) AND r.card IS NOT NULL) AS open_cards,
       (SELECT max(r.detected_at) FROM review r WHERE r.site_id = s.site_id
            AND r.decision = 'confirm') AS last_violation_at,
       %(start)s + COALESCE((SELECT sum(l.delta) FROM credit_ledger l
            WHERE l.site_id = s.site_id), 0) AS credit_points
FROM site s WHERE s.kind = 'kitchen' ORDER BY s.site_id
"""


@pytest.fixture
def kitchens(db_url: str) -> list[dict[str, Any]]:
    """Sample kitchens with every open state and card, and credit ledgers (one kitchen
    below zero); the reference figures of each."""
    with psycopg.connect(db_url) as conn:
        generate(conn, Size(elevators=10, cameras=12, days=8, firms=2, detailed_elevators=1))
        conn.execute(
            "UPDATE review SET state = (%(open)s::text[])[1 + id %% 5],"
            " card = (ARRAY[NULL, 'yellow', 'red', 'inspection'])[1 + id %% 4]"
            " WHERE state = 'rectifying'",
            {"open": sorted(OPEN_CASE)},
        )
        conn.execute(
            "INSERT INTO credit_ledger (site_id, at, delta, reason, actor)"
            " SELECT site_id, now(), CASE WHEN n = 0 THEN -500 ELSE -n END, 'test', 'test'"
            " FROM (SELECT site_id, row_number() OVER (ORDER BY site_id) - 1 AS n FROM site"
            " WHERE kind = 'kitchen') k CROSS JOIN generate_series(1, 3)"
        )
        conn.execute("ANALYZE")
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                REFERENCE_SQL, {"open": sorted(OPEN_CASE), "start": CREDIT_START}
            ).fetchall()
    for row in rows:
        row["credit_points"] = max(0, int(row["credit_points"]))
        row["open_cards"] = sorted(row["open_cards"] or [], key=CARD_ORDER.index)
    return rows


def _figures(item: dict[str, Any]) -> dict[str, Any]:
    at = item["last_violation_at"]
    return {
        **{k: v for k, v in item.items() if k in FIGURES},
        "last_violation_at": datetime.fromisoformat(at) if isinstance(at, str) else at,
    }


FIGURES = (
    "site_id",
    "cameras",
    "cameras_online",
    "open_cases",
    "pending_reviews",
    "open_cards",
    "last_violation_at",
    "credit_points",
)


def test_the_list_serves_each_kitchens_record_as_defined(
    kitchens: list[dict[str, Any]],
    client: TestClient,
    make_token,  # type: ignore[no-untyped-def]
) -> None:
    admin = make_token("admin")
    served = client.get("/api/v1/kitchens", headers=admin).json()["items"]
    assert [_figures(k) for k in served] == [_figures(k) for k in kitchens]
    # the sample reaches every branch: several open cards, a queue, a kitchen at zero
    assert any(len(k["open_cards"]) > 1 for k in kitchens)
    assert any(k["pending_reviews"] for k in kitchens)
    assert any(k["credit_points"] == 0 for k in kitchens)
    assert any(0 < k["credit_points"] < CREDIT_START for k in kitchens)
    site = kitchens[0]["site_id"]
    one = client.get(f"/api/v1/kitchens/{site}", headers=admin).json()
    assert _figures(one) == _figures(kitchens[0])


def test_pages_join_up_to_the_whole_list(
    kitchens: list[dict[str, Any]],
    client: TestClient,
    make_token,  # type: ignore[no-untyped-def]
) -> None:
    admin = make_token("admin")
    seen: list[str] = []
    after: str | None = None
    for _ in range(len(kitchens)):
        query = {"limit": 2, **({"after": after} if after else {})}
        page = client.get("/api/v1/kitchens", params=query, headers=admin).json()
        seen += [k["site_id"] for k in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == [k["site_id"] for k in kitchens]


def test_the_open_case_index_holds_the_workflows_open_states(db_url: str) -> None:
    """Migration 0115 wrote the open states into the index; the workflow owns them."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'review_site_open'"
        ).fetchone()
    assert row is not None
    assert set(re.findall(r"'([a-z_]+)'::text", row[0])) == {s.value for s in OPEN_CASE}
    assert set(re.findall(r"'([a-z_]+)'", OPEN_STATES)) == {s.value for s in OPEN_CASE}


def test_a_prepared_list_reads_the_partial_indexes(
    kitchens: list[dict[str, Any]], db_url: str
) -> None:
    """A generic plan (what a prepared statement settles on) can use the partial indexes
    only when the list's conditions visibly imply their predicates."""
    sql = KITCHEN_SQL.format(open_states=OPEN_STATES, where="TRUE")
    sql = sql.replace("%(start)s", "$1").replace("%(limit)s", "$2")
    with psycopg.connect(db_url) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute("SET enable_seqscan = off")  # the sample is small enough to scan
        conn.execute(f"PREPARE kitchens(integer, integer) AS {sql}")
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN EXECUTE kitchens(100, 100)"))
    for index in ("review_site_open", "review_site_pending", "review_site_confirmed"):
        assert index in plan, plan
