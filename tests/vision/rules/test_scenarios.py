"""Table-driven rule scenarios: each file in scenarios/ is a camera, timed frames (objects
with boxes and scores, frame health), availability changes and ticks, and the exact
events expected. Adding a case is adding a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.vision.rules.harness import SCENARIOS, load, run, summary

FILES = sorted(SCENARIOS.glob("*.json"))


def test_there_are_scenarios() -> None:
    assert len(FILES) >= 15


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_scenario(path: Path) -> None:
    spec = load(path)
    got = summary(run(spec))
    want = [dict(e) for e in spec["expect"]]
    # tiers are checked only where the scenario names one
    got = [
        {k: v for k, v in g.items() if k != "tier" or "tier" in w}
        for g, w in zip(got, want, strict=False)
    ] + got[len(want) :]
    assert got == want, spec.get("description", "")


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_scenario_survives_restarts(path: Path) -> None:
    """Saving and restoring the state after every observation changes nothing: a
    restarted worker neither misses nor repeats an event."""
    spec = load(path)
    assert summary(run(spec, restart_every=1)) == summary(run(spec))
