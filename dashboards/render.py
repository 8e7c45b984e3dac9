"""Grafana JSON (schemaVersion 39) and provisioning files from the dashboard descriptions.

Grafana cannot translate a dashboard per user, so every dashboard is rendered once per
language (`i18n.LOCALES`) from the one description: titles, descriptions, variable labels
and column names through the catalogue's `dashboards` domain, a uid suffix per language
(`bw-city-zh`, `bw-city-en`), one provisioned folder per language, and the times in the
deployment's zone (`BW_TIMEZONE`) rather than the viewer's browser.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from brightwatch.dashboards.labels import COLUMN_LABELS
from brightwatch.dashboards.model import DATASOURCE_TYPE, DATASOURCE_UID, Dashboard, Panel, Variable
from brightwatch.i18n import DEFAULT_LOCALE, DEFAULT_TIMEZONE, LOCALES, N_, translator

SCHEMA_VERSION = 39
DATASOURCE = {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}
# where compose.yaml mounts dashboards/json inside the Grafana container; each language's
# set is a folder below it (json/zh-CN, json/en), provisioned into its own Grafana folder
CONTAINER_DASHBOARDS = "/var/lib/grafana/dashboards/brightwatch"
# per language: the uid suffix, and the Grafana folder the set is provisioned into
UID_SUFFIX = {"zh-CN": "zh", "en": "en"}
FOLDERS = {"zh-CN": "明厨亮灶与电梯 (中文)", "en": "English"}


LINK_TITLE = N_("Open in the console")


def uid_of(d: Dashboard, locale: str = DEFAULT_LOCALE) -> str:
    """The dashboard's uid in one language's set (Grafana: 8 to 40 characters)."""
    return f"{d.uid}-{UID_SUFFIX[locale]}"


def _overrides(panel: Panel, locale: str) -> list[dict[str, Any]]:
    """Column names as people read them (headers, legends, axes), by field name, and the
    links of the columns that have one (`Panel.links`)."""
    _ = translator(locale)
    links = dict(panel.links)
    out = []
    for c in panel.columns:
        properties: list[dict[str, Any]] = []
        if c.name in COLUMN_LABELS:
            properties.append({"id": "displayName", "value": _(COLUMN_LABELS[c.name])})
        if c.name in links:
            link = {"title": _(LINK_TITLE), "url": links[c.name], "targetBlank": True}
            properties.append({"id": "links", "value": [link]})
        if properties:
            out.append({"matcher": {"id": "byName", "options": c.name}, "properties": properties})
    return out


def _panel(panel: Panel, panel_id: int, x: int, y: int, locale: str) -> dict[str, Any]:
    _ = translator(locale)
    defaults: dict[str, Any] = {}
    if panel.unit:
        defaults["unit"] = panel.unit
    if panel.thresholds:
        defaults["thresholds"] = {
            "mode": "absolute",
            "steps": [{"value": v, "color": c} for v, c in panel.thresholds],
        }
    if panel.kind == "state-timeline":
        defaults["color"] = {"mode": "palette-classic"}
    extra: dict[str, Any] = {"timeFrom": panel.time_from} if panel.time_from else {}
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": _(panel.title),
        "description": _(panel.description) if panel.description else "",
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": panel.width, "h": panel.height},
        "targets": [
            {
                "refId": "A",
                "datasource": DATASOURCE,
                "editorMode": "code",
                "format": panel.format,
                "rawQuery": True,
                "rawSql": textwrap.dedent(panel.sql_in(locale)).strip(),
            }
        ],
        "fieldConfig": {"defaults": defaults, "overrides": _overrides(panel, locale)},
        "options": dict(panel.options),
        **extra,
    }


def _variable(v: Variable, locale: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": v.name,
        "label": translator(locale)(v.label),
        "type": "query",
        "datasource": DATASOURCE,
        "query": v.sql,
        "definition": v.sql,
        "refresh": 1,  # on dashboard load
        "multi": v.multi,
        "includeAll": v.include_all,
        "sort": 1,
        "hide": 0,
    }
    if v.include_all:
        out["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    return out


def layout(panels: tuple[Panel, ...]) -> list[tuple[Panel, int, int]]:
    """Left to right, wrapping at Grafana's 24 columns."""
    placed, x, y, row_h = [], 0, 0, 0
    for p in panels:
        if x + p.width > 24:
            x, y, row_h = 0, y + row_h, 0
        placed.append((p, x, y))
        x += p.width
        row_h = max(row_h, p.height)
    return placed


def dashboard_json(
    d: Dashboard, locale: str = DEFAULT_LOCALE, zone: str = DEFAULT_TIMEZONE
) -> dict[str, Any]:
    """The Grafana JSON of `d` in `locale`, its times shown in `zone` with Grafana's own
    zone setting (an IANA name), whatever the viewer's browser says."""
    _ = translator(locale)
    return {
        "uid": uid_of(d, locale),
        "title": _(d.title),
        "description": _(d.description),
        "tags": [*d.tags, locale],
        "timezone": zone,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": False,
        "graphTooltip": 1,
        "refresh": d.refresh,
        "time": {"from": d.time_from, "to": "now"},
        "templating": {"list": [_variable(v, locale) for v in d.variables]},
        "annotations": {"list": []},
        "links": [
            {
                # the other dashboards of the same language
                "title": "brightwatch",
                "type": "dashboards",
                "tags": ["brightwatch", locale],
                "asDropdown": True,
            }
        ],
        "panels": [_panel(p, i + 1, x, y, locale) for i, (p, x, y) in enumerate(layout(d.panels))],
    }


DATASOURCE_YAML = f"""\
# Generated by `brightwatch dashboards export`. Grafana reads the values from its own
# environment (compose.yaml sets them from .env): no secret is written here.
apiVersion: 1
datasources:
  - name: brightwatch
    uid: {DATASOURCE_UID}
    type: {DATASOURCE_TYPE}
    access: proxy
    url: $BW_GRAFANA_DB_HOST
    user: $BW_GRAFANA_DB_USER
    isDefault: true
    editable: false
    jsonData:
      database: $BW_GRAFANA_DB_NAME
      sslmode: disable
      postgresVersion: 1600
      timescaledb: true
      maxOpenConns: 10
    secureJsonData:
      password: $BW_GRAFANA_DB_PASSWORD
"""

PROVIDER_YAML = """\
# Generated by `brightwatch dashboards export`: one provider per language, each set of
# dashboards (json/<locale>/) in its own folder.
apiVersion: 1
providers:
"""

PROVIDER = """\
  - name: brightwatch-{locale}
    folder: {folder}
    folderUid: brightwatch-{suffix}
    type: file
    disableDeletion: true
    allowUiUpdates: false
    updateIntervalSeconds: 60
    options:
      path: {path}
      foldersFromFilesStructure: false
"""


def provider_yaml() -> str:
    return PROVIDER_YAML + "".join(
        PROVIDER.format(
            locale=locale,
            folder=json.dumps(FOLDERS[locale], ensure_ascii=False),
            suffix=UID_SUFFIX[locale],
            path=f"{CONTAINER_DASHBOARDS}/{locale}",
        )
        for locale in LOCALES
    )


def rendered_files(
    dashboards: tuple[Dashboard, ...], zone: str = DEFAULT_TIMEZONE
) -> dict[str, str]:
    """Relative path -> file content, everything `export` writes: each dashboard in
    every language, and the provisioning."""
    files = {
        f"json/{locale}/{uid_of(d, locale)}.json": json.dumps(
            dashboard_json(d, locale, zone), indent=2, ensure_ascii=False
        )
        + "\n"
        for locale in LOCALES
        for d in dashboards
    }
    files["provisioning/datasources/brightwatch.yaml"] = DATASOURCE_YAML
    files["provisioning/dashboards/brightwatch.yaml"] = provider_yaml()
    return files


def export(
    out: Path, dashboards: tuple[Dashboard, ...], zone: str = DEFAULT_TIMEZONE
) -> list[Path]:
    """Write every file; dashboards of an earlier export that are no longer rendered
    (a renamed uid, the single-language layout) are removed, or Grafana would keep them."""
    written = []
    for rel, text in rendered_files(dashboards, zone).items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    for stale in set((out / "json").rglob("*.json")) - set(written):
        stale.unlink()
    return written
