"""The firms on standby for a district (elevators.md: the nearest other firm takes a
rescue its own firm did not accept in time): read and replace a district's ranking.

The ticket desk reads the ranking (alerts/tickets/store.py `_next_firm`); it is set here,
by `PUT /api/v1/districts/{district}/standby-firms` (api/routes/districts.py), never by
hand-written SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from brightwatch.registry.store import RegistryError

MAX_STANDBY_FIRMS = 20  # a ranking to try in turn, not a directory


def standby_firms(conn: psycopg.Connection[Any], district: str) -> list[str]:
    """The district's standby firms, first tried first."""
    rows = conn.execute(
        "SELECT firm_id FROM district_standby_firm WHERE district = %s ORDER BY rank",
        (district,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _check_ranking(conn: psycopg.Connection[Any], firm_ids: Sequence[str]) -> None:
    """No firm twice, not too many, every firm registered: a ranking the desk can use."""
    if len(set(firm_ids)) != len(firm_ids):
        raise RegistryError("a firm appears twice in the standby ranking")
    if len(firm_ids) > MAX_STANDBY_FIRMS:
        raise RegistryError(f"at most {MAX_STANDBY_FIRMS} standby firms per district")
    known = {
        str(r[0])
        for r in conn.execute(
            "SELECT firm_id FROM firm WHERE firm_id = ANY(%s)", (list(firm_ids),)
        ).fetchall()
    }
    missing = [f for f in firm_ids if f not in known]
    if missing:
        raise RegistryError(f"firm not registered: {', '.join(missing)}")


def set_standby_firms(
    conn: psycopg.Connection[Any], district: str, firm_ids: Sequence[str]
) -> list[str]:
    """Replace the district's ranking (the order given is the order tried); returns the
    previous ranking, for the audit trail. An empty list clears it."""
    if not 1 <= len(district) <= 100:
        raise RegistryError("a district is 1 to 100 characters")
    _check_ranking(conn, firm_ids)
    # the ranking is replaced whole under the district's lock, so two concurrent
    # replacements cannot interleave their ranks
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('district_standby_firm:' || %s))", (district,)
    )
    before = standby_firms(conn, district)
    conn.execute("DELETE FROM district_standby_firm WHERE district = %s", (district,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO district_standby_firm (district, rank, firm_id) VALUES (%s, %s, %s)",
            [(district, rank, firm) for rank, firm in enumerate(firm_ids, start=1)],
        )
    return before
