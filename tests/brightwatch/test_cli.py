"""The CLI as a user runs it: a subprocess with BW_ variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from brightwatch.api.auth import authenticate

ROOT = Path(__file__).resolve().parents[2]


def bw(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "brightwatch", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_is_idempotent_on_a_fresh_database(pg_server) -> None:  # type: ignore[no-untyped-def]
    url = pg_server.create_database("bw_cli_migrate")
    first = bw("migrate", env={"BW_DATABASE_URL": url})
    assert first.returncode == 0, first.stderr
    assert "applied" in first.stdout and "0001_registry" in first.stdout
    second = bw("migrate", env={"BW_DATABASE_URL": url})
    assert second.returncode == 0 and "applied 0" in second.stdout


def test_token_create_prints_token_last(db_url: str) -> None:
    out = bw(
        "token", "create", "--role", "firm", "--firm-id", "F7", env={"BW_DATABASE_URL": db_url}
    )
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip().splitlines()[-1]
    with psycopg.connect(db_url) as conn:
        who = authenticate(conn, token)
        assert who is not None and who.role == "firm" and who.firm_id == "F7"
        stored = conn.execute("SELECT token_hash FROM api_token").fetchone()[0]
        assert token.encode() not in bytes(stored)
    refused = bw("token", "create", "--role", "firm", env={"BW_DATABASE_URL": db_url})
    assert refused.returncode == 2 and "firm-id" in refused.stderr


def test_bad_setting_stops_with_the_name(db_url: str) -> None:
    out = bw("migrate", env={"BW_DATABASE_URL": db_url, "BW_HTTP_ADDR": "nowhere"})
    assert out.returncode == 2 and "BW_HTTP_ADDR" in out.stderr and "Traceback" not in out.stderr


def test_database_password_not_printed_on_failure() -> None:
    out = bw("migrate", env={"BW_DATABASE_URL": "postgresql://bw:s3cr3t@127.0.0.1:1/bw"})
    assert out.returncode == 1 and "s3cr3t" not in out.stderr + out.stdout


def test_registry_import_reports_errors(db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "reg.toml"
    f.write_text('[[elevators]]\nelevator_id = "E1"\nfirm_id = "GHOST"\n')
    out = bw("registry", "import", str(f), env={"BW_DATABASE_URL": db_url})
    assert out.returncode == 2 and "GHOST" in out.stderr and "nothing stored" in out.stderr
