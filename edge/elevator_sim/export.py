"""Write every simulator scenario as a trace file (ground truth for the rule tests).

    python -m edge.elevator_sim.export tests/elevators/scenarios

writes `sim_<scenario>.jsonl` per scenario; the rule tests replay them and check that
they are still what the simulator produces.
"""

from __future__ import annotations

import sys
from pathlib import Path

from brightwatch.edge.elevator_sim.scenarios import list_scenarios, load_scenario, to_trace
from brightwatch.edge.elevator_sim.trace import dumps


def export(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in list_scenarios():
        path = folder / f"sim_{name}.jsonl"
        path.write_text(dumps(to_trace(load_scenario(name))), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    for path in export(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
