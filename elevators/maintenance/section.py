"""The maintenance plan, explained, for an elevator's detail (API and console).

`maintenance_section(conn, elevator_id)` returns `{"maintenance": {...}}` for
`api.routes.elevators.DETAIL_SECTIONS`: the current plan (interval and why, next due
date, risk score, every factor with its x, weight, contribution, inputs and explanation,
the eligibility checks, overrides, the statutory calendar, the inputs used), the
on-demand status, and the plans before it (how the interval changed).
"""

from __future__ import annotations

from typing import Any

import psycopg

from brightwatch.elevators.maintenance import store


def explained(row: dict[str, Any]) -> dict[str, Any]:
    """A stored plan as the people reading it need it."""
    outcome = (row.get("inputs") or {}).get("outcome", {})
    factors = [
        {
            "factor": f.get("name"),
            "x": f.get("value"),
            "weight": f.get("weight"),
            "contribution": f.get("contribution"),
            "explain": f.get("explain"),
            "missing": f.get("missing", False),
            "inputs": f.get("inputs", {}),
        }
        for f in row.get("factors") or []
    ]
    return {
        "id": row["id"],
        "computed_at": row["computed_at"],
        "reason": row["reason"],
        "next_due_at": row["next_due_at"],
        "interval_days": row["interval_days"],
        "interval_reason": row["interval_reason"],
        "risk_score": row["risk_score"],
        "score_formula": "R = Σ weight × x",
        "targeted_inspection": bool(outcome.get("targeted_inspection")),
        "eligible": row["eligible"],
        "eligibility": row.get("eligibility") or [],
        "factors": factors,
        "overrides": outcome.get("overrides") or [],
        "calendar": row.get("calendar") or {},
        "tickets_requested": outcome.get("tickets") or [],
        "inputs": (row.get("inputs") or {}).get("data", {}),
    }


def maintenance_section(conn: psycopg.Connection[Any], elevator_id: str) -> dict[str, Any]:
    latest = store.latest_plan(conn, elevator_id)
    if latest is None:
        return {"maintenance": {"plan": None, "on_demand": None, "history": []}}
    outcome = (latest.get("inputs") or {}).get("outcome", {})
    return {
        "maintenance": {
            "plan": explained(latest),
            "on_demand": outcome.get("on_demand"),
            "history": store.plan_history(conn, elevator_id),
        }
    }
