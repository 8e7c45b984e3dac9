"""`brightwatch registry import FILE`: firms, sites, cameras and elevators from TOML or CSV.

TOML: arrays of tables `[[firms]]`, `[[sites]]`, `[[cameras]]`, `[[elevators]]`, each
with its id fields (`firm_id`, `site_id`, `site_id` + `camera_id`, `elevator_id`) and
the record's fields. CSV: one record per row; a `type` column (firm, site, camera,
elevator) says what each row is, or, without it, the id columns do; cells holding lists
or tables (zones, operating_hours, thresholds, ...) are JSON; empty cells are unset.
Everything is validated first and written in one transaction: all or nothing.

Licence register (CSV, 食品经营许可证 register): recognised by a `licence_number` column
(or 许可证编号). Columns, English or Chinese header:

    licence_number 许可证编号 (the kitchen's site_id), name 名称, operator 经营者,
    address 地址, district 辖区, kitchen_type 主体业态

kitchen_type is a code (restaurant, delivery_only, school_canteen, canteen,
central_kitchen, other) or its Chinese name (餐馆, 网络餐饮(仅外卖), 学校食堂, 单位食堂,
中央厨房, 其他). Each row becomes a kitchen; a known kitchen gets only these fields
updated. Every bad row is reported (line and reason) and then nothing is imported.
"""

from __future__ import annotations

import csv
import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from pydantic import BaseModel, ValidationError

from brightwatch.contract.ids import InvalidIdentifier, check_id
from brightwatch.registry import store
from brightwatch.registry.models import CameraRecord, ElevatorRecord, FirmRecord, SiteRecord

ORDER = ("firm", "site", "camera", "elevator")
ID_FIELDS = {
    "firm": ("firm_id",),
    "site": ("site_id",),
    "camera": ("site_id", "camera_id"),
    "elevator": ("elevator_id",),
}
MODELS: dict[str, type[BaseModel]] = {
    "firm": FirmRecord,
    "site": SiteRecord,
    "camera": CameraRecord,
    "elevator": ElevatorRecord,
}
TOML_TABLES = {"firms": "firm", "sites": "site", "cameras": "camera", "elevators": "elevator"}


class ImportError_(ValueError):
    """A file that cannot be imported; the message says where and why."""


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORDER, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORDER, 0))

    def summary(self) -> str:
        return (
            ", ".join(
                f"{k}s: {self.created[k]} created, {self.updated[k]} updated"
                for k in ORDER
                if self.created[k] or self.updated[k]
            )
            or "nothing to import"
        )


@dataclass
class Entry:
    kind: str
    ids: tuple[str, ...]
    record: BaseModel
    where: str


def _parse(kind: str, raw: dict[str, Any], where: str) -> Entry:
    raw = dict(raw)
    ids = []
    for f in ID_FIELDS[kind]:
        value = raw.pop(f, None)
        if value in (None, ""):
            raise ImportError_(f"{where}: {kind} without {f}")
        try:
            ids.append(check_id(str(value), f))
        except InvalidIdentifier as exc:
            raise ImportError_(f"{where}: {exc}") from None
    try:
        record = MODELS[kind].model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or kind}: {e['msg']}" for e in exc.errors()
        )
        raise ImportError_(f"{where}: {problems}") from None
    return Entry(kind, tuple(ids), record, where)


def _toml_entries(path: Path) -> list[Entry]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ImportError_(f"{path}: not valid TOML: {exc}") from None
    unknown = set(doc) - set(TOML_TABLES)
    if unknown:
        raise ImportError_(
            f"{path}: unknown tables {sorted(unknown)}; expected {sorted(TOML_TABLES)}"
        )
    entries = []
    for table, kind in TOML_TABLES.items():
        items = doc.get(table, [])
        if not isinstance(items, list):
            raise ImportError_(f"{path}: [{table}] must be an array of tables ([[{table}]])")
        for i, raw in enumerate(items, 1):
            entries.append(_parse(kind, raw, f"{path.name} [[{table}]] #{i}"))
    return entries


def _csv_kind(row: dict[str, str]) -> str | None:
    if row.get("type"):
        return row["type"].strip().lower()
    if row.get("elevator_id"):
        return "elevator"
    if row.get("camera_id"):
        return "camera"
    if row.get("site_id"):
        return "site"
    if row.get("firm_id"):
        return "firm"
    return None


def _csv_entries(path: Path) -> list[Entry]:
    entries = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            for line_no, row in enumerate(csv.DictReader(f), 2):
                where = f"{path.name} line {line_no}"
                kind = _csv_kind(row)
                if kind not in MODELS:
                    raise ImportError_(
                        f"{where}: cannot tell the record type (type={row.get('type')!r})"
                    )
                fields = set(ID_FIELDS[kind]) | set(MODELS[kind].model_fields)
                raw: dict[str, Any] = {}
                for key, value in row.items():
                    if key is None or key == "type" or value is None or value.strip() == "":
                        continue
                    if key not in fields:
                        continue  # columns of other record types in a mixed file
                    value = value.strip()
                    if value[:1] in "[{":
                        try:
                            raw[key] = json.loads(value)
                        except json.JSONDecodeError:
                            raise ImportError_(f"{where}: {key} is not valid JSON") from None
                    else:
                        raw[key] = value
                entries.append(_parse(kind, raw, where))
    except UnicodeDecodeError:
        raise ImportError_(f"{path}: not UTF-8 text") from None
    return entries


LICENCE_COLUMNS = {
    "licence_number": "licence_number",
    "许可证编号": "licence_number",
    "name": "name",
    "名称": "name",
    "operator": "operator",
    "经营者": "operator",
    "address": "address",
    "地址": "address",
    "district": "district",
    "辖区": "district",
    "kitchen_type": "kitchen_type",
    "主体业态": "kitchen_type",
}
LICENCE_REQUIRED = ("licence_number", "name", "kitchen_type")


def _is_licence_register(path: Path) -> bool:
    """Whether a CSV file is a licence register (its header names a licence number)."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f), [])
    return any(LICENCE_COLUMNS.get(h.strip()) == "licence_number" for h in header)


def _licence_row(row: dict[str, str], where: str) -> Entry:
    """One register row as a kitchen entry; ImportError_ says what is wrong with it."""
    raw = {
        LICENCE_COLUMNS[k.strip()]: (v or "").strip()
        for k, v in row.items()
        if k is not None and k.strip() in LICENCE_COLUMNS
    }
    missing = [c for c in LICENCE_REQUIRED if not raw.get(c)]
    if missing:
        raise ImportError_(f"{where}: missing {', '.join(missing)}")
    site_id = raw.pop("licence_number")
    return _parse("site", {"site_id": site_id, "kind": "kitchen", **raw}, where)


def _licence_entries(path: Path) -> list[Entry]:
    """All rows of a licence register, or ImportError_ listing every bad row."""
    entries: list[Entry] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            for line_no, row in enumerate(csv.DictReader(f), 2):
                where = f"{path.name} line {line_no}"
                try:
                    entry = _licence_row(row, where)
                except ImportError_ as exc:
                    problems.append(str(exc))
                    continue
                if entry.ids[0] in seen:
                    problems.append(f"{where}: licence {entry.ids[0]} repeats {seen[entry.ids[0]]}")
                    continue
                seen[entry.ids[0]] = where
                entries.append(Entry("licensed_kitchen", entry.ids, entry.record, where))
    except UnicodeDecodeError:
        raise ImportError_(f"{path}: not UTF-8 text") from None
    if problems:
        raise ImportError_(f"{len(problems)} bad rows, nothing imported:\n" + "\n".join(problems))
    return entries


def read_entries(path: Path) -> list[Entry]:
    if not path.is_file():
        raise ImportError_(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return _toml_entries(path)
    if suffix == ".csv":
        if _is_licence_register(path):
            return _licence_entries(path)
        return _csv_entries(path)
    raise ImportError_(f"{path}: expected a .toml or .csv file")


def _table(kind: str) -> str:
    """The record type an entry counts as (a licence register row is a site)."""
    return "site" if kind == "licensed_kitchen" else kind


def import_entries(conn: psycopg.Connection[Any], entries: Iterable[Entry]) -> ImportResult:
    result = ImportResult()
    ordered = sorted(entries, key=lambda e: ORDER.index(_table(e.kind)))
    with conn.transaction():
        for e in ordered:
            try:
                if e.kind == "licensed_kitchen":
                    created = store.upsert_licensed_kitchen(conn, e.ids[0], e.record, "import")  # type: ignore[arg-type]
                elif e.kind == "firm":
                    created = store.upsert_firm(conn, e.ids[0], e.record, "import")  # type: ignore[arg-type]
                elif e.kind == "site":
                    created = store.upsert_site(conn, e.ids[0], e.record, "import")  # type: ignore[arg-type]
                elif e.kind == "camera":
                    created = store.upsert_camera(conn, e.ids[0], e.ids[1], e.record, "import")  # type: ignore[arg-type]
                else:
                    created = store.upsert_elevator(conn, e.ids[0], e.record, "import")  # type: ignore[arg-type]
            except store.RegistryError as exc:
                raise ImportError_(f"{e.where}: {exc}") from None
            (result.created if created else result.updated)[_table(e.kind)] += 1
    return result


def import_file(conn: psycopg.Connection[Any], path: Path) -> ImportResult:
    return import_entries(conn, read_entries(path))
