"""The table-driven scenario suite: one trace file per scenario (tests/elevators/scenarios).

Each file holds a terminal's messages and the alerts they must raise, with times; every
catalogue code and every harmless look-alike has at least one file. Adding a case means
adding a file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from brightwatch.contract.codes import ELEVATOR_CATALOGUE
from brightwatch.edge.elevator_sim.trace import load
from tests.elevators.harness import check, replay_trace

SCENARIOS = Path(__file__).parent / "scenarios"
FILES = sorted(SCENARIOS.glob("*.jsonl"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario(path: Path) -> None:
    trace = load(path)
    outcome = replay_trace(trace)
    problems = check(trace, outcome)
    assert not problems, f"{path.name}: " + "; ".join(problems)
    if trace.lookalike:
        faults = [f.event.code for f in outcome.raises() if f.event.severity != "INFO"]
        assert not faults, f"look-alike {path.name} raised {faults}"


def test_every_catalogue_code_has_a_scenario() -> None:
    covered = {e.code for p in FILES for e in load(p).expect}
    assert set(ELEVATOR_CATALOGUE) <= covered, sorted(set(ELEVATOR_CATALOGUE) - covered)


def test_lookalikes_exist() -> None:
    lookalikes = [p.stem for p in FILES if load(p).lookalike]
    assert len(lookalikes) >= 5, lookalikes
