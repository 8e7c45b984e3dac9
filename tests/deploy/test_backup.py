"""`brightwatch backup create|verify|restore` on a private PostgreSQL: rows made by the
service code (an elevator, a status sample, an alert and its rescue ticket with an
attachment, a kitchen alert with evidence), backed up, restored into a fresh database and
a fresh data folder, and read back through the API; damaged archives and non-empty
targets refused with nothing touched; an older schema upgraded by the restore."""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from brightwatch import backup
from brightwatch.alerts.evidence import records
from brightwatch.alerts.tickets.attachments import attach
from brightwatch.api.app import create_app
from brightwatch.api.auth import create_token
from brightwatch.cli import main
from brightwatch.db import migrate as migrations
from brightwatch.embedded import EmbeddedPostgres
from brightwatch.ingest.writer import BatchWriter
from brightwatch.registry.importer import import_file
from brightwatch.settings import Settings
from brightwatch.wiring import build_parts, build_runtime
from tests.ingest.test_writer import status_sample
from tests.review.support import jpeg, raise_violation
from tests.support.alerts import fire_trapped

ELEVATOR = "31104403002019000001"
REGISTRY = f"""
[[firms]]
firm_id = "F1"
name = "Lift Care"

[[sites]]
site_id = "K1"
name = "Canteen No. 3"
district = "Futian"

[[cameras]]
site_id = "K1"
camera_id = "cam1"

[[elevators]]
elevator_id = "{ELEVATOR}"
firm_id = "F1"
site_id = "K1"
"""
AT = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
PDF = b"%PDF-1.4\n% a repair report\n%%EOF\n"


def _cli(args: list[str], settings: Settings | None = None) -> Result:
    env = {}
    if settings is not None:
        env = {
            "BW_DATABASE_URL": settings.database_url.get_secret_value(),
            "BW_DATA_DIR": str(settings.data_dir),
        }
    return CliRunner().invoke(main, args, env=env)


def _fill(settings: Settings, tmp_path: Path) -> dict[str, Any]:
    """Rows and files the way the components make them; what to look for afterwards."""
    url = settings.database_url.get_secret_value()
    reg = tmp_path / "registry.toml"
    reg.write_text(REGISTRY)
    with psycopg.connect(url) as conn:
        import_file(conn, reg)
        BatchWriter("test").write(conn, [status_sample(ELEVATOR, 1, AT)], [], [])
        _, token = create_token(conn, "supervisor", None, None)
    trapped = fire_trapped(settings, ELEVATOR, AT)  # opens the rescue ticket too
    parts = build_parts(settings)
    with psycopg.connect(url, autocommit=True) as conn:
        kitchen = raise_violation(conn, parts.alert_store, "RODENT", "K1", "cam1", "T1", AT)
        assert kitchen is not None and kitchen.alert.id is not None
        with conn.transaction():
            stored = records.save(
                conn,
                settings.data_dir,
                site_id="K1",
                camera_id="cam1",
                ts_ms=int(AT.timestamp() * 1000),
                jpeg=jpeg(7),
                width=320,
                height=240,
                code="RODENT",
                boxes=[{"label": "rat", "score": 0.9, "box": [40, 60, 120, 110]}],
                model="rat@1",
                zone="floor",
                rule="RODENT: 2 of 5 frames",
                alert_id=kitchen.alert.id,
            )
        ticket = conn.execute(
            "SELECT id FROM ticket WHERE %s = ANY(alert_ids)", (trapped,)
        ).fetchone()
        assert ticket is not None, "the P1 alert opened no rescue ticket"
        with conn.transaction():
            attached = attach(
                parts.tickets,
                conn,
                ticket[0],
                actor="admin",
                firm_id=None,
                name="report.pdf",
                data=PDF,
                note=None,
            )
    return {
        "token": token,
        "alert": trapped,
        "kitchen_alert": kitchen.alert.id,
        "evidence": stored,
        "ticket": ticket[0],
        "attachment": attached["id"],
    }


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1"
            ).fetchall()
        ]
        return {
            t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # type: ignore[index]
            for t in tables
        }


def _empty_database(pg_server: EmbeddedPostgres) -> str:
    return pg_server.create_database(f"bw_restore_{uuid.uuid4().hex[:10]}")


def _restored_settings(settings: Settings, url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=url,
        mqtt_url=settings.mqtt_url.get_secret_value(),
        topic_root=settings.topic_root,
        data_dir=data_dir,
        instance=settings.instance,
    )


def test_backup_and_restore_into_a_fresh_database(
    settings: Settings, pg_server: EmbeddedPostgres, tmp_path: Path
) -> None:
    made = _fill(settings, tmp_path)
    source = settings.database_url.get_secret_value()
    model = settings.data_dir / "models" / "kitchen.onnx"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"a trained model")
    archive = tmp_path / "backups" / "bw.tar"
    done = _cli(["backup", "create", "--out", str(archive), "--folder", "models"], settings)
    assert done.exit_code == 0, done.output
    assert "backup written" in done.output and "0 warnings" in done.output
    assert [p.name for p in archive.parent.iterdir()] == ["bw.tar"]  # no temporaries left

    checked = _cli(["backup", "verify", str(archive)])
    assert checked.exit_code == 0 and "intact" in checked.output, checked.output
    manifest = backup.verify(archive)
    newest = migrations.available_migrations("native")[-1]
    assert manifest["schema_version"] == f"{newest.version}_{newest.name}"
    assert manifest["flavor"] == "native" and manifest["timescaledb_version"] is None
    evidence_member = "files/" + made["evidence"].path
    assert manifest["members"][evidence_member]["sha256"] == made["evidence"].sha256

    target, data_dir = _empty_database(pg_server), tmp_path / "restored-data"
    restored = _cli(
        ["backup", "restore", str(archive), "--database-url", target, "--data-dir", str(data_dir)]
    )
    assert restored.exit_code == 0, restored.output
    assert "files: 3 written" in restored.output  # the picture, the ticket's PDF, the model
    assert (data_dir / "models" / "kitchen.onnx").read_bytes() == b"a trained model"

    before = _counts(source)
    assert before["alert"] == 2 and before["ticket"] == 1 and before["evidence"] == 1
    assert before["elevator"] == 1 and before["api_token"] == 1
    assert sum(v for t, v in before.items() if t.startswith("elevator_status_p")) == 1
    assert _counts(target) == before

    # the restored system serves the same alert, picture and report, with the old token
    app = create_app(build_runtime(_restored_settings(settings, target, data_dir)))
    auth = {"Authorization": f"Bearer {made['token']}"}
    with TestClient(app, raise_server_exceptions=False) as client:
        alerts = client.get(f"/api/v1/alerts?device_id={ELEVATOR}", headers=auth).json()
        assert [(a["id"], a["code"]) for a in alerts["items"]] == [
            (made["alert"], "TRAPPED_OUT_ZONE")
        ]
        picture = client.get(f"/api/v1/evidence/{made['evidence'].id}.jpg", headers=auth)
        assert picture.status_code == 200 and picture.content == jpeg(7)
        report = client.get(
            f"/api/v1/tickets/{made['ticket']}/attachments/{made['attachment']}", headers=auth
        )
        assert report.status_code == 200 and report.content == PDF
    assert (data_dir / made["evidence"].path).read_bytes() == jpeg(7)

    # a non-empty database is refused without --force, untouched; with it, replaced
    again = _cli(["backup", "restore", str(archive), "--database-url", source])
    assert again.exit_code == 1 and "not empty" in again.output, again.output
    assert _counts(source) == before
    forced = _cli(
        ["backup", "restore", str(archive), "--database-url", target]
        + ["--data-dir", str(data_dir), "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert "files: 0 written, 3 already there" in forced.output
    assert _counts(target) == before


def _damage(archive: Path, member: str) -> None:
    """Flip one byte in the middle of `member`'s data."""
    with tarfile.open(archive) as tar:
        info = tar.getmember(member)
    with archive.open("r+b") as f:
        f.seek(info.offset_data + info.size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_a_damaged_archive_is_refused_and_nothing_is_touched(
    settings: Settings, pg_server: EmbeddedPostgres, tmp_path: Path
) -> None:
    made = _fill(settings, tmp_path)
    good = tmp_path / "good.tar"
    backup.create(settings.database_url.get_secret_value(), settings.data_dir, good)
    target, data_dir = _empty_database(pg_server), tmp_path / "restored-data"

    flipped = tmp_path / "flipped.tar"
    flipped.write_bytes(good.read_bytes())
    _damage(flipped, "files/" + made["evidence"].path)
    cut = tmp_path / "cut.tar"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with tarfile.open(good) as tar:  # cut short just before the manifest
        no_manifest = tmp_path / "no-manifest.tar"
        no_manifest.write_bytes(good.read_bytes()[: tar.getmember(backup.MANIFEST).offset])
    dump_flipped = tmp_path / "dump.tar"
    dump_flipped.write_bytes(good.read_bytes())
    _damage(dump_flipped, backup.DUMP)
    for bad, why in (
        (flipped, "does not match its checksum"),
        (cut, "not a readable tar archive"),
        (no_manifest, "no manifest"),
        (dump_flipped, "does not match its checksum"),
    ):
        checked = _cli(["backup", "verify", str(bad)])
        assert checked.exit_code == 1 and why in checked.output, checked.output
        refused = _cli(
            ["backup", "restore", str(bad), "--database-url", target, "--data-dir", str(data_dir)]
        )
        assert refused.exit_code == 1, refused.output
        assert "damaged" in refused.output and "nothing was changed" in refused.output
        assert not data_dir.exists()
        with psycopg.connect(target) as conn:
            assert backup.user_relations(conn) == []

    # a manifest that lies about a member is caught too
    forged = tmp_path / "forged.tar"
    _edit_manifest(good, forged, lambda m: m["members"].pop("files/" + made["evidence"].path))
    assert "not in the manifest" in _cli(["backup", "verify", str(forged)]).output


def _edit_manifest(src: Path, dst: Path, edit: Callable[[dict[str, Any]], object]) -> None:
    with tarfile.open(src) as old, tarfile.open(dst, "w") as new:
        for m in old.getmembers():
            data = old.extractfile(m).read()  # type: ignore[union-attr]
            if m.name == backup.MANIFEST:
                doc = json.loads(data)
                edit(doc)
                data = json.dumps(doc).encode()
                m.size = len(data)
            new.addfile(m, io.BytesIO(data))


def test_a_timescale_backup_needs_its_timescale_version(
    pg_server: EmbeddedPostgres, db_url: str, tmp_path: Path
) -> None:
    """TimescaleDB's catalogs come back only on the extension version they were dumped
    on: a target that cannot offer it is refused before anything changes."""
    good, ts = tmp_path / "good.tar", tmp_path / "ts.tar"
    backup.create(db_url, tmp_path / "data", good)
    _edit_manifest(good, ts, lambda m: m.update(timescaledb_version="2.19.3"))
    target, data_dir = _empty_database(pg_server), tmp_path / "restored"
    refused = _cli(
        ["backup", "restore", str(ts), "--database-url", target, "--data-dir", str(data_dir)]
    )
    assert refused.exit_code == 1 and "needs TimescaleDB 2.19.3" in refused.output
    with psycopg.connect(target) as conn:
        assert backup.user_relations(conn) == []


def test_an_older_schema_is_upgraded_by_the_restore(
    pg_server: EmbeddedPostgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backup taken by an older release (one migration fewer) comes back migrated."""
    every = migrations.available_migrations
    source = _empty_database(pg_server)
    with monkeypatch.context() as older:
        older.setattr(migrations, "available_migrations", lambda flavor: every(flavor)[:-1])
        migrations.migrate(source)
    newest = every("native")[-1]
    archive = tmp_path / "old.tar"
    made = backup.create(source, tmp_path / "data", archive)
    assert made.manifest["schema_version"] == "{0.version}_{0.name}".format(every("native")[-2])

    target = _empty_database(pg_server)
    result = backup.restore(archive, target, tmp_path / "restored", jobs=2)
    assert result.migrations == [f"{newest.version}_{newest.name}"]
    with psycopg.connect(target) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migration")]
    assert sorted(versions) == [m.version for m in every("native")]


def test_missing_client_tools_are_named(pg_server: EmbeddedPostgres, tmp_path: Path) -> None:
    with pytest.raises(backup.BackupError, match="pg_dump for PostgreSQL 99 not found"):
        backup.find_client("pg_dump", 99)
    found = backup.find_client("pg_dump", pg_server_major(pg_server))
    assert found.major >= pg_server_major(pg_server)


def pg_server_major(pg_server: EmbeddedPostgres) -> int:
    with psycopg.connect(pg_server.url()) as conn:
        return conn.info.server_version // 10000
