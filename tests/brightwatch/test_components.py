"""What `brightwatch serve --components ...` starts: the components and the upkeep beside them."""

from __future__ import annotations

import ast
from pathlib import Path

from brightwatch.components import runs
from brightwatch.components.alerts import fleet_rollup_loop

ROOT = Path(__file__).resolve().parents[2]


def test_the_fleet_rollup_runs_wherever_the_alerts_component_runs() -> None:
    # dashboards.rollup.loop, in one replica at a time (tests/brightwatch/test_replicas.py)
    assert runs(["alerts"])["fleet_rollup"] is fleet_rollup_loop
    assert list(runs(["ingest", "alerts"])) == ["ingest", "alerts", "fleet_rollup"]
    assert "fleet_rollup" not in runs(["ingest"])


def test_the_alerts_package_imports_no_dashboards() -> None:
    found = []
    for path in sorted((ROOT / "alerts").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.startswith("dashboards")]
    assert found == []
