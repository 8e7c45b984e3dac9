"""`brightwatch audit export`: what people and the service did, in one ordered stream.

The rows come from the trails that already exist, none copied: alert history
(alert_event; its rows about a kitchen case are the `review` source), review decisions
and rectifications (review, rectification), ticket history (ticket_event), and the audit
log (audit_log: registry changes through the API and `registry import`, standby firms,
silences, tokens).
Ordered by time, then source, then the row's id, so two exports of one window are equal.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from brightwatch.cli import main, settings_from_env
from brightwatch.commands import connect, iso_time

if TYPE_CHECKING:
    import psycopg

FIELDS = ("at", "source", "actor", "action", "object_type", "object_id", "details")
REGISTRY_OBJECTS = ("firm", "site", "camera", "elevator", "district_standby_firms", "registry")

# one SELECT per trail, each within the window since <= at < until
TRAILS = """
SELECT e.at, CASE WHEN e.details ? 'review_id' THEN 'review' ELSE 'alert' END AS source,
       e.id, e.actor, e.action,
       CASE WHEN e.details ? 'review_id' THEN 'review' ELSE 'alert' END AS object_type,
       CASE WHEN e.details ? 'review_id' THEN e.details->>'review_id' ELSE e.alert_id::text END
           AS object_id,
       jsonb_strip_nulls(jsonb_build_object('alert_id', e.alert_id, 'from_state', e.from_state,
           'to_state', e.to_state, 'note', e.note)) || e.details AS details
  FROM alert_event e WHERE e.at >= %(since)s AND e.at < %(until)s
UNION ALL
SELECT r.decided_at, 'review', r.id, coalesce(r.decided_by, ''), 'decision_' || r.decision,
       'review', r.id::text,
       jsonb_strip_nulls(jsonb_build_object('site_id', r.site_id, 'code', r.code,
           'tier', r.tier, 'note', r.decision_note))
  FROM review r WHERE r.decided_at >= %(since)s AND r.decided_at < %(until)s
UNION ALL
SELECT x.submitted_at, 'review', x.id, x.submitted_by, 'rectification_submitted', 'review',
       x.review_id::text,
       jsonb_strip_nulls(jsonb_build_object('rectification_id', x.id, 'note', x.note))
  FROM rectification x WHERE x.submitted_at >= %(since)s AND x.submitted_at < %(until)s
UNION ALL
SELECT x.decided_at, 'review', x.id, coalesce(x.decided_by, ''), 'rectification_' || x.result,
       'review', x.review_id::text,
       jsonb_strip_nulls(jsonb_build_object('rectification_id', x.id, 'note', x.decision_note))
  FROM rectification x
 WHERE x.result IS NOT NULL AND x.decided_at >= %(since)s AND x.decided_at < %(until)s
UNION ALL
SELECT t.at, 'ticket', t.id, t.actor, t.action, 'ticket', t.ticket_id::text,
       jsonb_strip_nulls(jsonb_build_object('from_state', t.from_state,
           'to_state', t.to_state, 'firm_id', t.firm_id, 'note', t.note)) || t.details
  FROM ticket_event t WHERE t.at >= %(since)s AND t.at < %(until)s
UNION ALL
SELECT l.at, CASE WHEN l.object_type = ANY(%(registry)s) THEN 'registry' ELSE 'admin' END,
       l.id, l.actor, l.action, l.object_type, l.object_id, l.details
  FROM audit_log l WHERE l.at >= %(since)s AND l.at < %(until)s
"""
EXPORT = "SELECT * FROM (" + TRAILS + ") s ORDER BY at, source, id"  # noqa: S608 (constants)


def audit_rows(
    conn: psycopg.Connection[Any], since: datetime, until: datetime
) -> Iterator[dict[str, Any]]:
    """The trail's rows with since <= at < until, in order; read through a server-side
    cursor, so a year's export does not sit in memory."""
    from psycopg.rows import dict_row

    params = {"since": since, "until": until, "registry": list(REGISTRY_OBJECTS)}
    with conn.cursor(name="audit_export", row_factory=dict_row) as cur:
        cur.execute(EXPORT, params)
        for row in cur:
            row.pop("id")
            yield row


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "at": row["at"].isoformat(),
        "details": json.dumps(row["details"], ensure_ascii=False, sort_keys=True),
    }


def write_rows(rows: Iterable[dict[str, Any]], fmt: str, out: IO[str]) -> int:
    """Write the rows as CSV (details as a JSON text) or JSON lines; returns how many."""
    count = 0
    writer = csv.DictWriter(out, FIELDS) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    for row in rows:
        if writer is not None:
            writer.writerow(_flat(row))
        else:
            record = {**row, "at": row["at"].isoformat()}
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("export")
@click.option("--since", required=True, help="From this time on (ISO; UTC when no zone).")
@click.option("--until", default=None, help="Before this time (ISO; default: now).")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file (default: stdout)."
)
def export_command(since: str, until: str | None, fmt: str, out: Path | None) -> None:
    """Alert, ticket, review and registry changes (and token, silence and standby-firm
    actions) in one stream ordered by time; the row count goes to stderr."""
    start = iso_time(since)
    end = iso_time(until) if until else datetime.now(start.tzinfo)
    if end <= start:
        raise click.BadParameter("must be after --since", param_hint="--until")
    import psycopg

    settings = settings_from_env()
    try:
        with connect(settings) as conn:
            if out is None:
                count = write_rows(audit_rows(conn, start, end), fmt, sys.stdout)
            else:
                with out.open("w", encoding="utf-8", newline="") as f:
                    count = write_rows(audit_rows(conn, start, end), fmt, f)
    except psycopg.Error as exc:
        from brightwatch.logs import redact

        click.echo(f"error: {redact(str(exc)).strip()}", err=True)
        sys.exit(1)
    click.echo(f"{count} rows from {start.isoformat()} to {end.isoformat()}", err=True)
