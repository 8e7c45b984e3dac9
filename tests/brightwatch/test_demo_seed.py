"""The demo's city: Chinese names and addresses over Futian, Nanshan and Luohu, and a
maintenance history that spreads the due dates over the cycle (issue 14: 49 of 50
elevators were due on the same day)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import psycopg

from brightwatch.demo import DISTRICTS, FIRMS, seed_registry


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_the_city_reads_as_shenzhen_and_maintenance_is_staggered(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        registry = seed_registry(conn, elevators=50, kitchens=3)
        again = seed_registry(conn, elevators=50, kitchens=3)  # a restarted demo
        assert again == registry
        sites = conn.execute("SELECT kind, name, address, district FROM site").fetchall()
        elevators = conn.execute("SELECT address, district FROM elevator").fetchall()
        firms = conn.execute("SELECT name FROM firm").fetchall()
        done = conn.execute(
            "SELECT elevator_id, completed_at FROM ticket WHERE type = 'on_demand'"
        ).fetchall()
        cameras = conn.execute("SELECT site_id, camera_id, is_public FROM camera").fetchall()
    assert all(_cjk(name) for (name,) in firms) and len(firms) == len(FIRMS)
    assert all(_cjk(name) and _cjk(address) for _, name, address, _ in sites)
    assert {d for *_, d in sites} == set(DISTRICTS)
    assert Counter(d for _, d in elevators).keys() == set(DISTRICTS)
    buildings = {address for kind, _, address, _ in sites if kind == "building"}
    assert len(buildings) >= 6  # not one address for the whole city
    assert len({address for address, _ in elevators}) == 50  # each car its own
    # one routine maintenance per elevator (not doubled by the restart), 1 to 13 days ago
    assert len(done) == 50
    now = datetime.now(UTC)
    ages = Counter((now - at).days for _, at in done)
    assert set(ages) <= set(range(0, 14)) and len(ages) >= 12
    assert max(ages.values()) <= 5  # no day holds more than a handful
    assert ("K001", "cam2", False) in cameras and ("K001", "cam1", True) in cameras
