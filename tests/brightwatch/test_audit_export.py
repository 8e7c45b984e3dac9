"""`brightwatch audit export` (issue 15): alert, ticket, review and registry changes in
one stream ordered by time, within [since, until), as CSV or JSON lines. Each trail gets
one row inside the window and one just outside it."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.types.json import Jsonb

from brightwatch.cli import main

pytestmark = pytest.mark.timeout(120)

T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
SINCE, UNTIL = T0, T0 + timedelta(hours=10)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _seed(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
    """The trails as the service writes them, at known times."""
    alert_id = conn.execute(
        "INSERT INTO alert (kind, code, severity, state, device_id, site_id, fingerprint,"
        " started_at, updated_at, last_raised_at) VALUES ('kitchen', 'NO_MASK', 'T2',"
        " 'firing', 'K1/cam1', 'K1', 'fp', %s, %s, %s) RETURNING id",
        (at(0), at(0), at(0)),
    ).fetchone()[0]  # type: ignore[index]
    review_id = conn.execute(
        "INSERT INTO review (alert_id, fingerprint, site_id, camera_id, code, tier, state,"
        " detected_at, created_at, updated_at, decision, decided_at, decided_by, decision_note)"
        " VALUES (%s, 'fp', 'K1', 'cam1', 'NO_MASK', 'T2', 'rectifying', %s, %s, %s,"
        " 'confirm', %s, 'supervisor:2', '口罩未戴') RETURNING id",
        (alert_id, at(1), at(1), at(3), at(3)),
    ).fetchone()[0]  # type: ignore[index]
    conn.execute(
        "INSERT INTO rectification (review_id, submitted_at, submitted_by, note)"
        " VALUES (%s, %s, 'operator:3:K1', '已整改')",
        (review_id, at(5)),
    )
    events = [  # (hours, action, details): -1 and 10 are outside [since, until)
        (-1, "raised", {}),
        (1, "raised", {}),
        (2, "review_queued", {"review_id": review_id, "tier": "T2"}),
        (10, "resolved", {}),
    ]
    for hours, action, details in events:
        conn.execute(
            "INSERT INTO alert_event (alert_id, at, action, actor) VALUES (%s, %s, %s, 'rules')"
            if not details
            else "INSERT INTO alert_event (alert_id, at, action, actor, details)"
            " VALUES (%s, %s, %s, 'review', %s)",
            (alert_id, at(hours), action) + ((Jsonb(details),) if details else ()),
        )
    ticket_id = conn.execute(
        "INSERT INTO ticket (type, state, elevator_id, trigger, created_at, updated_at)"
        " VALUES ('rescue', 'accepted', 'E1', 'TRAPPED', %s, %s) RETURNING id",
        (at(4), at(4)),
    ).fetchone()[0]  # type: ignore[index]
    conn.execute(
        "INSERT INTO ticket_event (ticket_id, at, actor, action, from_state, to_state, firm_id)"
        " VALUES (%s, %s, 'firm:4:F1', 'accept', 'dispatched', 'accepted', 'F1'),"
        " (%s, %s, 'firm:4:F1', 'arrive', 'accepted', 'arrived', 'F1')",
        (ticket_id, at(4), ticket_id, at(11)),
    )
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, object_type, object_id, details) VALUES"
        " (%s, 'admin:1', 'update', 'site', 'K1', %s), (%s, 'cli', 'revoke', 'token', '7', '{}'),"
        " (%s, 'admin:1', 'create', 'firm', 'F9', '{}')",
        (at(6), Jsonb({"district": "福田区"}), at(7), at(-2)),
    )


EXPECTED = [  # (source, action, object_type) in time order inside the window
    ("alert", "raised", "alert"),  # 1 h
    ("review", "review_queued", "review"),  # 2 h
    ("review", "decision_confirm", "review"),  # 3 h
    ("ticket", "accept", "ticket"),  # 4 h
    ("review", "rectification_submitted", "review"),  # 5 h
    ("registry", "update", "site"),  # 6 h
    ("admin", "revoke", "token"),  # 7 h
]


@pytest.fixture
def seeded(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    with psycopg.connect(db_url) as conn:
        _seed(conn)
    monkeypatch.setenv("BW_DATABASE_URL", db_url)
    return db_url


def _export(*args: str) -> str:
    done = CliRunner().invoke(
        main, ["audit", "export", "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), *args]
    )
    assert done.exit_code == 0, done.output
    return done.stdout


def test_jsonl_holds_every_trail_in_order(seeded: str) -> None:
    rows = [json.loads(line) for line in _export("--format", "jsonl").splitlines()]
    assert [(r["source"], r["action"], r["object_type"]) for r in rows] == EXPECTED
    times = [datetime.fromisoformat(r["at"]) for r in rows]
    assert times == sorted(times) and all(SINCE <= t < UNTIL for t in times)
    decision = rows[2]
    assert decision["actor"] == "supervisor:2"
    assert decision["details"]["note"] == "口罩未戴" and decision["details"]["tier"] == "T2"
    assert rows[3]["details"]["to_state"] == "accepted"
    assert rows[5]["details"] == {"district": "福田区"} and rows[5]["object_id"] == "K1"
    assert set(rows[0]) == {
        "at",
        "source",
        "actor",
        "action",
        "object_type",
        "object_id",
        "details",
    }


def test_csv_to_a_file(seeded: str, tmp_path: Path) -> None:
    out = tmp_path / "audit.csv"
    _export("--format", "csv", "--out", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["source"], r["action"], r["object_type"]) for r in rows] == EXPECTED
    assert json.loads(rows[5]["details"]) == {"district": "福田区"}
    assert rows[1]["object_id"] == str(json.loads(rows[1]["details"])["review_id"])


def test_window_is_checked() -> None:
    done = CliRunner().invoke(
        main, ["audit", "export", "--since", UNTIL.isoformat(), "--until", SINCE.isoformat()]
    )
    assert done.exit_code == 2 and "--until" in done.output


def test_a_registry_import_is_in_the_trail(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BW_DATABASE_URL", db_url)
    registry = tmp_path / "audit-registry.toml"
    registry.write_text('[[firms]]\nfirm_id = "F-AUDIT"\nname = "审计维保公司"\n', encoding="utf-8")
    before = datetime.now(UTC) - timedelta(seconds=1)
    done = CliRunner().invoke(main, ["registry", "import", str(registry)])
    assert done.exit_code == 0, done.output
    done = CliRunner().invoke(
        main,
        [
            "audit", "export", "--since", before.isoformat(),
            "--until", (datetime.now(UTC) + timedelta(seconds=1)).isoformat(), "--format", "jsonl",
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    mine = [r for r in rows if r["action"] == "registry.import"]
    assert len(mine) == 1, rows
    assert mine[0]["source"] == "registry" and mine[0]["object_id"] == "audit-registry.toml"
    assert mine[0]["details"]["created"]["firm"] == 1
