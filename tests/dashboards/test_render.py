"""The committed Grafana JSON and provisioning files are what the generator writes, and
they hold together: datasource, variables, layout, the paths compose.yaml mounts; and the
two language sets (zh-CN, en) come from one source: same panels, own uids and folders,
every text of the Chinese set translated, times in the deployment's zone."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from brightwatch.dashboards.boards import ALL
from brightwatch.dashboards.model import ALERT_PAGE, DATASOURCE_UID, LOCALE_MARK
from brightwatch.dashboards.render import (
    CONTAINER_DASHBOARDS,
    FOLDERS,
    SCHEMA_VERSION,
    dashboard_json,
    rendered_files,
    uid_of,
)
from brightwatch.i18n import LOCALES

REPO = Path(__file__).resolve().parents[2]
JSON = REPO / "dashboards" / "json"
HAN = re.compile(r"[\u4e00-\u9fff]")


def committed(locale: str) -> list[dict[str, Any]]:
    return [json.loads((JSON / locale / f"{uid_of(d, locale)}.json").read_text()) for d in ALL]


def texts(doc: dict[str, Any]) -> list[str]:
    """Every text of a dashboard a person reads: titles, descriptions, labels, headers."""
    out = [doc["title"], doc["description"]]
    out += [v["label"] for v in doc["templating"]["list"]]
    for p in doc["panels"]:
        out += [p["title"], p["description"]]
        out += [
            prop["value"]
            for o in p["fieldConfig"]["overrides"]
            for prop in o["properties"]
            if prop["id"] == "displayName"
        ]
        out += [link["title"] for link in _links(p).values() for link in link]
    return [t for t in out if t]


def _links(panel: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A panel's data links by column."""
    return {
        o["matcher"]["options"]: prop["value"]
        for o in panel["fieldConfig"]["overrides"]
        for prop in o["properties"]
        if prop["id"] == "links"
    }


def test_an_alert_row_opens_the_alerts_page_in_the_console() -> None:
    """Every table of alerts (the city's open P1/P2, an elevator's faults, a kitchen's
    violations) links each row's alert to its console page, titled in the board's language."""
    for locale, title in (("zh-CN", "在监管平台打开"), ("en", "Open in the console")):
        linked = {
            (d["uid"], p["title"]): _links(p)
            for d in committed(locale)
            for p in d["panels"]
            # a row per alert (aggregates over alerts have no alert to open)
            if p["targets"][0]["rawSql"].startswith("SELECT a.started_at AS time,")
        }
        assert len(linked) == 3, linked
        for panel, links in linked.items():
            assert links == {"alert": [{"title": title, "url": ALERT_PAGE, "targetBlank": True}]}, (
                panel
            )
            assert ALERT_PAGE == "/#/alerts/${__value.raw}"


def test_committed_files_are_up_to_date() -> None:
    for rel, text in rendered_files(ALL).items():
        path = REPO / "dashboards" / rel
        assert path.exists(), f"{rel} missing: run `brightwatch dashboards export`"
        assert path.read_text() == text, f"{rel} is stale: run `brightwatch dashboards export`"
    on_disk = {str(p.relative_to(JSON)) for p in JSON.rglob("*.json")}
    assert on_disk == {f"{loc}/{uid_of(d, loc)}.json" for loc in LOCALES for d in ALL}


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


@pytest.mark.parametrize("locale", LOCALES)
def test_dashboard_json_is_consistent(locale: str) -> None:
    for d, doc in zip(ALL, committed(locale), strict=True):
        assert doc["uid"] == uid_of(d, locale) and doc["schemaVersion"] == SCHEMA_VERSION
        assert 8 <= len(doc["uid"]) <= 40  # Grafana's uid
        assert doc["timezone"] == "Asia/Shanghai"  # the deployment's zone, not the browser's
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
    # one provider per language, each reading its own folder of the mount into its own
    # Grafana folder
    providers = {p["options"]["path"]: p for p in prov["providers"]}
    assert set(providers) == {f"{CONTAINER_DASHBOARDS}/{loc}" for loc in LOCALES}
    assert {p["folder"] for p in prov["providers"]} == {FOLDERS[loc] for loc in LOCALES}
    assert len({p["folderUid"] for p in prov["providers"]}) == len(LOCALES)
    assert FOLDERS["zh-CN"] == "明厨亮灶与电梯 (中文)"
    assert (
        f"./dashboards/json:{CONTAINER_DASHBOARDS}:ro" in compose["services"]["grafana"]["volumes"]
    )


def _unlocalised(targets: list[dict[str, Any]], locale: str) -> list[dict[str, Any]]:
    return [
        {**t, "rawSql": t["rawSql"].replace(f"->> '{locale}'", f"->> {LOCALE_MARK}")}
        for t in targets
    ]


def test_a_board_asks_for_its_own_language() -> None:
    for locale in LOCALES:
        sql = "\n".join(
            t["rawSql"] for d in committed(locale) for p in d["panels"] for t in p["targets"]
        )
        assert LOCALE_MARK not in sql  # Grafana never sees the mark
        assert f"a.summaries ->> '{locale}'" in sql


def test_both_language_sets_have_the_same_panels_and_queries() -> None:
    zh, en = committed("zh-CN"), committed("en")
    uids = [d["uid"] for d in zh + en]
    assert len(set(uids)) == len(uids) == 2 * len(ALL)
    for a, b in zip(zh, en, strict=True):
        assert a["uid"].endswith("-zh") and b["uid"].endswith("-en")
        assert [p["id"] for p in a["panels"]] == [p["id"] for p in b["panels"]]
        assert [p["gridPos"] for p in a["panels"]] == [p["gridPos"] for p in b["panels"]]
        # the same queries, but for the board's language where a panel asks for it
        # (`LOCALE_MARK`: an alert's summary in the reader's language)
        assert [_unlocalised(p["targets"], "zh-CN") for p in a["panels"]] == [
            _unlocalised(p["targets"], "en") for p in b["panels"]
        ]
        assert a["title"] != b["title"]
        assert [p["title"] for p in a["panels"]] != [p["title"] for p in b["panels"]]
        # the dashboards' links list the dashboards of the same language only
        assert a["links"][0]["tags"] == ["brightwatch", "zh-CN"]
        assert "zh-CN" in a["tags"] and "en" in b["tags"]


def test_every_text_of_the_chinese_set_is_translated() -> None:
    """A title, description, variable label or column name left in English fails."""
    untranslated = [
        f"{doc['uid']}: {text!r}"
        for doc in committed("zh-CN")
        for text in texts(doc)
        if not HAN.search(text)
    ]
    assert not untranslated, "\n".join(untranslated)
    for doc, d in zip(committed("en"), ALL, strict=True):
        assert doc["title"] == d.title and not any(HAN.search(t) for t in texts(doc))


def test_the_zone_is_a_render_parameter() -> None:
    doc = dashboard_json(ALL[0], "en", "Asia/Urumqi")
    assert doc["timezone"] == "Asia/Urumqi" and doc["uid"] == uid_of(ALL[0], "en")
