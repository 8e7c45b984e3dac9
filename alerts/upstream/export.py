"""Alerts with their upstream platform's code, as JSON lines or CSV.

One record per alert that started in [since, until) and whose kind the platform covers,
oldest first: `id, platform, upstream_code, mapped, code, name_zh, kind, severity, state,
device_id, site_id, started_at, resolved_at, count, summary` (times in ISO 8601 UTC).
An alert whose code the platform has no number for is written with an empty
`upstream_code` and `mapped = false`, and counted in the report's `unmapped` by code.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import psycopg

from brightwatch.alerts.upstream.registry import PlatformMapping
from brightwatch.contract.codes import catalogue_entry

FIELDS = (
    "id",
    "platform",
    "upstream_code",
    "mapped",
    "code",
    "name_zh",
    "kind",
    "severity",
    "state",
    "device_id",
    "site_id",
    "started_at",
    "resolved_at",
    "count",
    "summary",
)


@dataclass
class ExportReport:
    written: int = 0
    mapped: int = 0
    unmapped: Counter[str] = field(default_factory=Counter)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def records(
    conn: psycopg.Connection[Any], mapping: PlatformMapping, since: datetime, until: datetime
) -> Iterator[dict[str, Any]]:
    with conn.cursor(name="bw_alert_export") as cur:  # server-side: any number of alerts
        cur.itersize = 2000
        cur.execute(
            "SELECT id, kind, code, severity, state, device_id, site_id, started_at, resolved_at,"
            " count, summary, details FROM alert"
            " WHERE started_at >= %s AND started_at < %s AND kind = ANY(%s) ORDER BY started_at, id",
            (since, until, list(mapping.kinds)),
        )
        for (
            id_,
            kind,
            code,
            sev,
            state,
            device,
            site,
            started,
            resolved,
            count,
            summary,
            details,
        ) in cur:
            upstream = mapping.upstream_code(code, details)
            entry = catalogue_entry(kind, code)
            yield {
                "id": id_,
                "platform": mapping.name,
                "upstream_code": upstream or "",
                "mapped": upstream is not None,
                "code": code,
                "name_zh": entry.name_zh if entry else "",
                "kind": kind,
                "severity": sev,
                "state": state,
                "device_id": device,
                "site_id": site,
                "started_at": _iso(started),
                "resolved_at": _iso(resolved),
                "count": count,
                "summary": summary,
            }


def export_alerts(
    conn: psycopg.Connection[Any],
    mapping: PlatformMapping,
    since: datetime,
    until: datetime,
    out: IO[str],
    fmt: str = "jsonl",
) -> ExportReport:
    report = ExportReport()
    writer = csv.DictWriter(out, fieldnames=FIELDS) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    for r in records(conn, mapping, since, until):
        if writer is not None:
            writer.writerow({**r, "mapped": "true" if r["mapped"] else "false"})
        else:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
        report.written += 1
        if r["mapped"]:
            report.mapped += 1
        else:
            report.unmapped[
                r["code"] if r["code"] != "MODE_CHANGE" else "MODE_CHANGE (mode unknown)"
            ] += 1
    return report
