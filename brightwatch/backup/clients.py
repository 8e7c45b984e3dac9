"""pg_dump and pg_restore matching a server's major version, how to call them without
showing the password, and the server facts a backup records."""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import conninfo

from brightwatch.backup.archive import BackupError

_VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


@dataclass(frozen=True, order=True)
class Client:
    major: int
    version: str
    path: Path


def _candidate_dirs() -> list[Path]:
    """Debian's per-version folders, then the pgserver wheel's binaries (PATH comes last)."""
    dirs = [Path(d) for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"))]
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.origin:
        dirs.append(Path(spec.origin).parent / "pginstall" / "bin")
    return dirs


def _client_version(path: Path) -> Client | None:
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = _VERSION_RE.search(out)
    if not m:
        return None
    return Client(int(m.group(1)), f"{m.group(1)}.{m.group(2) or 0}", path)


def find_client(tool: str, server_major: int, pg_bin: Path | None = None) -> Client:
    """`tool` (pg_dump, pg_restore) for a server of `server_major`: the same major version
    when installed, else the oldest newer one (pg_dump refuses a server newer than itself)."""
    if pg_bin is not None:
        paths = [pg_bin / tool]
    else:
        paths = [d / tool for d in _candidate_dirs()]
        on_path = shutil.which(tool)
        if on_path:
            paths.append(Path(on_path))
    found = sorted(
        {c for p in paths if p.exists() and (c := _client_version(p)) is not None},
        key=lambda c: (c.major, c.version, str(c.path)),
    )
    usable = [c for c in found if c.major == server_major] or [
        c for c in found if c.major > server_major
    ]
    if usable:
        return usable[0]
    seen = ", ".join(f"{c.version} ({c.path})" for c in found) or "none"
    raise BackupError(
        f"{tool} for PostgreSQL {server_major} not found (found: {seen}); install the "
        f"PostgreSQL {server_major} client tools (Debian/Ubuntu: postgresql-client-{server_major}, "
        "from apt.postgresql.org when the release lacks it) or name their folder with --pg-bin"
    )


def client_args(database_url: str) -> tuple[str, dict[str, str]]:
    """A connection string without the password, and the environment carrying it, so the
    password never shows in the process list."""
    params = conninfo.conninfo_to_dict(database_url)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return conninfo.make_conninfo("", **{k: str(v) for k, v in params.items()}), env


def server_major(conn: psycopg.Connection[Any]) -> int:
    return conn.info.server_version // 10000


def server_version(conn: psycopg.Connection[Any]) -> str:
    v = conn.info.server_version
    return f"{v // 10000}.{v % 10000}"


def one(conn: psycopg.Connection[Any], query: str, params: Sequence[Any] = ()) -> Any:
    """The first column of the first row (None without rows)."""
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None
