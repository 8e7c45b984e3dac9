"""Standby firms per district (issue 15) through the registry: the ranking replaced whole,
read back in rank order (as the ticket desk reads it), refused rankings change nothing.
The API is tests/api/test_district_standby.py."""

from __future__ import annotations

import psycopg
import pytest

from brightwatch.registry.standby import set_standby_firms, standby_firms
from brightwatch.registry.store import RegistryError

pytestmark = pytest.mark.timeout(120)

HOME, OTHER = "福田区", "南山区"


def test_registry_replaces_the_ranking(db_url: str, firms: list[str]) -> None:
    with psycopg.connect(db_url) as conn:
        assert set_standby_firms(conn, HOME, ["F2", "F1"]) == []
        assert standby_firms(conn, HOME) == ["F2", "F1"]
        assert set_standby_firms(conn, HOME, ["F3"]) == ["F2", "F1"]
        assert standby_firms(conn, HOME) == ["F3"]
        assert standby_firms(conn, OTHER) == []
        for wrong, message in ((["F1", "F1"], "twice"), (["F1", "NOPE"], "NOPE")):
            with pytest.raises(RegistryError, match=message):
                set_standby_firms(conn, HOME, wrong)
        assert standby_firms(conn, HOME) == ["F3"], "a refused ranking changes nothing"
        assert set_standby_firms(conn, HOME, []) == ["F3"]
        assert standby_firms(conn, HOME) == []
        # the ticket desk reads the same table, in rank order
        set_standby_firms(conn, HOME, ["F3", "F2"])
        rows = conn.execute(
            "SELECT firm_id FROM district_standby_firm WHERE district = %s ORDER BY rank", (HOME,)
        ).fetchall()
        assert [r[0] for r in rows] == ["F3", "F2"]
