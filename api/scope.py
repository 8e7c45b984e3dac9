"""The one room that decides what a caller may see or do, given its role, firm and site.

The role matrix (interfaces spec, HTTP): tokens carry one role, `admin`, `supervisor`,
`firm` (bound to one firm) or `operator` (bound to one site). A firm token sees only its
firm's elevators and tickets (and those elevators' alerts), an operator token only its
site (its kitchen, the kitchen's alerts, evidence and cases); anything else is 404 for
them, never 403, so existence is not revealed. Admins and supervisors see everything.

Which roles reach a route at all is `require(...)` (api/deps.py); who the token is,
api/auth.py. Every other decision on a caller's role, firm or site is a function here,
and routes call it: tests/api/test_scope_room.py fails on a role check anywhere else.
"""

from __future__ import annotations

from typing import Any

from brightwatch.alerts.evidence.records import SiteView
from brightwatch.alerts.review.store import HIDDEN_FROM_OPERATORS
from brightwatch.api.auth import Principal
from brightwatch.api.deps import not_found

# ------------------------------------------------------------------ who is bound to what


def firm_of(who: Principal) -> str | None:
    """The firm a firm token is bound to; None for every other role (no firm limit)."""
    return who.firm_id if who.role == "firm" else None


def site_of_operator(who: Principal) -> str | None:
    """The site an operator token is bound to; None for every other role (no site limit)."""
    return who.site_id if who.role == "operator" else None


def may_act(who: Principal) -> bool:
    """Supervisors and admins act on alerts (`POST /api/v1/alerts/{id}/ack`, `resolve`:
    supervisor, admin); firms and operators only read them."""
    return who.role in ("admin", "supervisor")


# ------------------------------------------------------------------ elevators and alerts


def elevator_scope(who: Principal, alias: str = "e") -> tuple[str, list[Any]]:
    """Condition on an `elevator` row aliased `alias`: a firm sees its own elevators
    ("supervisor, admin, firm (own)"), an operator its site's."""
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


def elevator_stats_firm(who: Principal, firm_id: str | None) -> str | None:
    """The firm elevator statistics cover: a firm token its own ("firm (own)"; asking for
    another firm is 404), any other caller the firm it asked for (None: every firm)."""
    if who.role != "firm":
        return firm_id
    if firm_id is not None and firm_id != who.firm_id:
        raise not_found()
    return who.firm_id


# ------------------------------------------------------------------ tickets


def ticket_scope(who: Principal, alias: str = "t") -> tuple[str, list[Any]]:
    """Condition on a `ticket` row: a firm sees its own tickets ("supervisor, admin, firm
    (own)"), an operator its site's."""
    if who.role == "firm":
        return f"{alias}.firm_id = %s", [who.firm_id]
    if who.role == "operator":
        return f"{alias}.site_id = %s", [who.site_id]
    return "TRUE", []


def may_dispatch(who: Principal) -> bool:
    """Choosing the firm of a ticket (dispatch, reassignment) is the bureau's: admin and
    supervisor tokens."""
    return who.role in ("admin", "supervisor")


# ------------------------------------------------------------------ kitchens


def may_see_kitchens(who: Principal) -> bool:
    """Kitchens are the supervisors' and their operators' ("supervisor; operator (own)"):
    a firm token sees none."""
    return who.role != "firm"


def may_see_kitchen(who: Principal, site_id: str) -> bool:
    """One kitchen: an operator its own site only; a firm none."""
    if who.role == "operator":
        return who.site_id == site_id
    return may_see_kitchens(who)


def kitchen_scope(who: Principal, alias: str = "s") -> tuple[str, dict[str, Any]]:
    """Condition on a kitchen `site` row, with named parameters (as the kitchen queries
    are written): an operator sees its own site."""
    if who.role == "operator":
        return f"{alias}.site_id = %(scope_site)s", {"scope_site": who.site_id}
    return "TRUE", {}


def sees_confirmed_cases_only(who: Principal) -> bool:
    """An operator sees its kitchen's confirmed cases, not the unreviewed detections nor
    the dismissed false positives (a detection reaches the kitchen once a supervisor
    confirmed it); supervisors and admins see every case."""
    return who.role == "operator"


def evidence_view(who: Principal) -> SiteView | None:
    """An operator sees its own site's evidence once the case is past review (pending and
    dismissed cases stay hidden, as in the reviews API); None: supervisors and admins see
    all."""
    if who.role != "operator":
        return None
    return SiteView(who.site_id, HIDDEN_FROM_OPERATORS)


def kitchen_stats_site(who: Principal, level: str, site_id: str | None) -> str | None:
    """The site kitchen statistics cover: an operator its own kitchen, at kitchen level
    only (district and city figures are the bureau's; anything else is 404); any other
    caller the site it asked for (None: every site)."""
    if who.role != "operator":
        return site_id
    if level != "kitchen" or (site_id is not None and site_id != who.site_id):
        raise not_found()
    return who.site_id
