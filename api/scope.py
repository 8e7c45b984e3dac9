"""The one room that decides what a caller may see or do, given its role, firm and site.

The role matrix (interfaces spec, HTTP): tokens carry one role, `admin`, `supervisor`,
`firm` (bound to one firm) or `operator` (bound to one site). A firm token sees only its
firm's elevators and tickets (and those elevators' alerts), an operator token only its
site (its kitchen, the kitchen's alerts, evidence and cases); anything else is 404 for
them, never 403, so existence is not revealed. Admins and supervisors see everything,
except a supervisor bound to a district (`token create --role supervisor --district D`,
issue 15): it sees only that district's elevators, sites, alerts, tickets, reviews and
evidence; lists leave the others out and one object outside it is 404
(`outside_district`, checked for every authenticated request in api/deps.py).

An elevator is in the district registered on it, or, without one, in its site's; an
alert in its elevator's (elevator alerts) or its site's; a ticket in the district copied
onto it when it opened; a review and its evidence in their site's.

Which roles reach a route at all is `require(...)` (api/deps.py); who the token is,
api/auth.py. Every other decision on a caller's role, firm or site is a function here,
and routes call it: tests/api/test_scope_room.py fails on a role check anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg

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


def district_of(who: Principal) -> str | None:
    """The district a supervisor token is bound to; None: no district limit."""
    return who.district if who.role == "supervisor" else None


def may_act(who: Principal) -> bool:
    """Supervisors and admins act on alerts (`POST /api/v1/alerts/{id}/ack`, `resolve`:
    supervisor, admin); firms and operators only read them."""
    return who.role in ("admin", "supervisor")


def may_see_notifications(who: Principal) -> bool:
    """The notifications sent about an alert, with their receivers and targets
    (`GET /api/v1/alerts/{id}/notifications`: supervisor, admin): the bureau's routing,
    not the firms' or the kitchens'."""
    return who.role in ("admin", "supervisor")


# ------------------------------------------------------------------ elevators and alerts


def _elevator_district(alias: str) -> str:
    """SQL: the district of the `elevator` row `alias` (its own, else its site's)."""
    return (
        f"coalesce(nullif({alias}.district, ''),"  # noqa: S608
        f" (SELECT sd.district FROM site sd WHERE sd.site_id = {alias}.site_id), '')"
    )


def _alert_in_district(alias: str) -> str:
    """SQL with one parameter (the district): the `alert` row `alias` is in it."""
    return (
        f"(CASE WHEN {alias}.kind = 'elevator' THEN EXISTS (SELECT 1 FROM elevator de"  # noqa: S608
        f" WHERE de.elevator_id = {alias}.device_id AND {_elevator_district('de')} = %s)"
        f" ELSE EXISTS (SELECT 1 FROM site ds WHERE ds.site_id = {alias}.site_id"
        " AND ds.district = %s) END)"
    )


def elevator_scope(who: Principal, alias: str = "e") -> tuple[str, list[Any]]:
    """Condition on an `elevator` row aliased `alias`: a firm sees its own elevators
    ("supervisor, admin, firm (own)"), an operator its site's, a district supervisor its
    district's."""
    if who.role == "firm":
        return f"{alias}.firm_id = %s", [who.firm_id]
    if who.role == "operator":
        return f"{alias}.site_id = %s", [who.site_id]
    district = district_of(who)
    if district is not None:
        return f"{_elevator_district(alias)} = %s", [district]
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
    district = district_of(who)
    if district is not None:
        return _alert_in_district(alias), [district, district]
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
    (own)"), an operator its site's, a district supervisor its district's."""
    if who.role == "firm":
        return f"{alias}.firm_id = %s", [who.firm_id]
    if who.role == "operator":
        return f"{alias}.site_id = %s", [who.site_id]
    district = district_of(who)
    if district is not None:
        return f"{alias}.district = %s", [district]
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
    are written): an operator sees its own site, a district supervisor its district's."""
    if who.role == "operator":
        return f"{alias}.site_id = %(scope_site)s", {"scope_site": who.site_id}
    district = district_of(who)
    if district is not None:
        return f"{alias}.district = %(scope_district)s", {"scope_district": district}
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


# ------------------------------------------------------------------ districts


def stats_district(who: Principal, district: str | None) -> str | None:
    """The district statistics cover: a district supervisor its own (asking for another is
    404), any other caller the district it asked for (None: the whole city)."""
    bound = district_of(who)
    if bound is None:
        return district
    if district is not None and district != bound:
        raise not_found()
    return bound


def review_scope(who: Principal, alias: str = "r") -> tuple[str, list[Any]]:
    """Condition on a `review` row (the review queue): a district supervisor sees its
    district's kitchens' cases; an operator its site's."""
    if who.role == "operator":
        return f"{alias}.site_id = %s", [who.site_id]
    district = district_of(who)
    if district is not None:
        return (
            f"EXISTS (SELECT 1 FROM site rs WHERE rs.site_id = {alias}.site_id"  # noqa: S608
            " AND rs.district = %s)",
            [district],
        )
    return "TRUE", []


# the objects a path names, and the district each is in (one parameter: its id); a path
# naming none of them (a token, a firm, a silence) is not bound to a district
_DISTRICT_OF_PATH: dict[str, str] = {
    "site_id": "SELECT district FROM site WHERE site_id = %s",
    "elevator_id": f"SELECT {_elevator_district('e')} FROM elevator e WHERE e.elevator_id = %s",  # noqa: S608
    "ticket_id": "SELECT district FROM ticket WHERE id = %s",
    "review_id": "SELECT s.district FROM review r JOIN site s USING (site_id) WHERE r.id = %s",
    "evidence_id": "SELECT s.district FROM evidence v JOIN site s USING (site_id) WHERE v.id = %s",
    "alert_id": (
        f"SELECT coalesce((SELECT {_elevator_district('e')} FROM elevator e"  # noqa: S608
        " WHERE a.kind = 'elevator' AND e.elevator_id = a.device_id),"
        " (SELECT s.district FROM site s WHERE a.kind = 'kitchen' AND s.site_id = a.site_id))"
        " FROM alert a WHERE a.id = %s"
    ),
}


TEXT_IDS = ("site_id", "elevator_id")


def _bigint(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 18


def outside_district(
    conn: psycopg.Connection[Any],
    who: Principal,
    path: Mapping[str, object],
    asked_district: str | None = None,
) -> bool:
    """Whether a district supervisor's request names something outside its district: an
    object in the path (unknown objects count as outside: 404 either way), the district
    in the path (`/districts/{district}/...`) or the `district` it asked for. Always
    False for every other caller."""
    bound = district_of(who)
    if bound is None:
        return False
    if any(d is not None and d != bound for d in (path.get("district"), asked_district)):
        return True
    for name, sql in _DISTRICT_OF_PATH.items():
        given = path.get(name)
        if given is None:
            continue
        value = str(given)  # a route's convertor (`{alert_id:int}`) gives an int
        if name.endswith("_id") and name not in TEXT_IDS and not _bigint(value):
            return True  # the route would answer 422; nothing of the district is named
        row = conn.execute(sql, (value,)).fetchone()
        if row is None or row[0] != bound:
            return True
    return False
