"""SQL conditions that confine firm and operator tokens to their own objects."""

from __future__ import annotations

from typing import Any

from brightwatch.api.auth import Principal


def elevator_scope(who: Principal, alias: str = "e") -> tuple[str, list[Any]]:
    """Condition on an `elevator` row aliased `alias`."""
    if who.role == "firm":
        return f"{alias}.firm_id = %s", [who.firm_id]
    if who.role == "operator":
        return f"{alias}.site_id = %s", [who.site_id]
    return "TRUE", []


def alert_scope(who: Principal, alias: str = "a") -> tuple[str, list[Any]]:
    """Condition on an `alert` row: a firm sees its elevators' alerts, an operator its site's."""
    if who.role == "firm":
        return (
            f"({alias}.kind = 'elevator' AND EXISTS (SELECT 1 FROM elevator se"  # noqa: S608
            f" WHERE se.elevator_id = {alias}.device_id AND se.firm_id = %s))",
            [who.firm_id],
        )
    if who.role == "operator":
        return f"{alias}.site_id = %s", [who.site_id]
    return "TRUE", []
