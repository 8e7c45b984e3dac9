"""The committed Grafana JSON and provisioning files are what the generator writes, and
they hold together: datasource, variables, layout, the paths compose.yaml mounts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from brightwatch.dashboards.boards import ALL
from brightwatch.dashboards.model import DATASOURCE_UID
from brightwatch.dashboards.render import CONTAINER_DASHBOARDS, SCHEMA_VERSION, rendered_files

REPO = Path(__file__).resolve().parents[2]


def test_committed_files_are_up_to_date() -> None:
    for rel, text in rendered_files(ALL).items():
        path = REPO / "dashboards" / rel
        assert path.exists(), f"{rel} missing: run `brightwatch dashboards export`"
        assert path.read_text() == text, f"{rel} is stale: run `brightwatch dashboards export`"
    on_disk = {p.name for p in (REPO / "dashboards" / "json").glob("*.json")}
    assert on_disk == {f"{d.uid}.json" for d in ALL}


def test_export_command_writes_the_files(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "brightwatch", "dashboards", "export", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for rel, text in rendered_files(ALL).items():
        assert (tmp_path / rel).read_text() == text


def test_dashboard_json_is_consistent() -> None:
    for d in ALL:
        doc = json.loads((REPO / "dashboards" / "json" / f"{d.uid}.json").read_text())
        assert doc["uid"] == d.uid and doc["schemaVersion"] == SCHEMA_VERSION
        variables = {v["name"] for v in doc["templating"]["list"]}
        ids = [p["id"] for p in doc["panels"]]
        assert len(ids) == len(set(ids))
        for p in doc["panels"]:
            g = p["gridPos"]
            assert g["x"] >= 0 and g["x"] + g["w"] <= 24 and g["h"] > 0
            assert p["datasource"]["uid"] == DATASOURCE_UID
            for t in p["targets"]:
                assert t["datasource"]["uid"] == DATASOURCE_UID and t["rawQuery"]
                used = set(re.findall(r"\$\{?(\w+)", t["rawSql"])) - {"__"}
                used = {u for u in used if not u.startswith("__")}
                assert used <= variables, f"{d.uid}/{p['title']}: undefined {used - variables}"


def test_provisioning() -> None:
    ds = yaml.safe_load((REPO / "dashboards/provisioning/datasources/brightwatch.yaml").read_text())
    (source,) = ds["datasources"]
    assert source["uid"] == DATASOURCE_UID and source["type"] == "grafana-postgresql-datasource"
    # secrets come from Grafana's environment, set by compose.yaml from .env
    assert source["secureJsonData"]["password"].startswith("$")
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    grafana_env = compose["services"]["grafana"]["environment"]
    for ref in re.findall(
        r"\$(\w+)", (REPO / "dashboards/provisioning/datasources/brightwatch.yaml").read_text()
    ):
        assert ref in grafana_env, f"{ref} is not set for the grafana service"
    prov = yaml.safe_load(
        (REPO / "dashboards/provisioning/dashboards/brightwatch.yaml").read_text()
    )
    assert prov["providers"][0]["options"]["path"] == CONTAINER_DASHBOARDS
    assert (
        f"./dashboards/json:{CONTAINER_DASHBOARDS}:ro" in compose["services"]["grafana"]["volumes"]
    )
