"""The simulator's scenarios against the rules, and the committed traces against the simulator.

`tests/elevators/scenarios/sim_*.jsonl` are written by `python -m edge.elevator_sim.export
tests/elevators/scenarios` from the scenario files and the simulator's ground truth; a
change to the simulator that changes them must be looked at (and the files rewritten).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from brightwatch.edge.elevator_sim.scenarios import list_scenarios, load_scenario, to_trace
from brightwatch.edge.elevator_sim.trace import dumps
from tests.elevators.harness import check, replay_trace

SCENARIOS = Path(__file__).parent / "scenarios"
NAMES = list_scenarios()


@pytest.mark.parametrize("name", NAMES)
def test_committed_trace_is_the_simulators(name: str) -> None:
    path = SCENARIOS / f"sim_{name}.jsonl"
    assert path.is_file(), (
        f"{path.name} missing: run python -m edge.elevator_sim.export {SCENARIOS}"
    )
    fresh = dumps(to_trace(load_scenario(name)))
    assert path.read_text(encoding="utf-8") == fresh, (
        f"{path.name} differs from the simulator's output: rerun the export and review"
    )


@pytest.mark.parametrize("name", NAMES)
def test_scenario_with_another_seed(name: str) -> None:
    """Ground truth does not depend on the one seed the committed trace happens to use."""
    scn = load_scenario(name)
    for seed in (scn.seed + 100, scn.seed + 200):
        trace = to_trace(
            type(scn)(**{**scn.__dict__, "seed": seed}),
            elevator_id="E-SIM-SEED",
        )
        problems = check(trace, replay_trace(trace))
        assert not problems, f"{name} seed {seed}: " + "; ".join(problems)
