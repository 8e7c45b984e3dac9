"""Backups: one tar archive holding the database and the files the database refers to.

Layout of an archive (an uncompressed tar, written to a temporary name and renamed):

- `database.pgdump`: a `pg_dump --format=custom` dump, taken in one exported snapshot;
- `files/<path>`: every file an `evidence`, `rectification_file` or `ticket_attachment`
  row of that same snapshot names (paths relative to BW_DATA_DIR; these files are
  content-addressed, so each is checked against the hash its row recorded), plus any
  folder of the data directory asked for by name (`models`, `frames`, ...);
- `manifest.json` (last): when, which brightwatch, the schema version (last applied
  migration), the flavour, the PostgreSQL and TimescaleDB versions, and every member's
  size and SHA-256.

Files are written before their rows (alerts/evidence/files.py), so a row in the snapshot
has its file unless retention removed it since; such a gap is listed in the manifest's
`warnings`, not fatal. Nothing is held in memory whole: the dump and the files stream
through a hash into the archive, and back out into pg_restore and the data folder.

A restore verifies every checksum before touching anything, refuses a database that
already holds tables (unless forced), restores the files, then the database (TimescaleDB:
`timescaledb_pre_restore()` / `timescaledb_post_restore()` around pg_restore, on the same
extension version), then runs the migrations, so an older backup comes back upgraded.

Modules: `archive` (the format, checksums, `verify`), `clients` (pg_dump/pg_restore of
the server's version), `create`, `restore`. The shell: imports the storage layer
(migrations) and `logs`, never the settings: the `brightwatch backup` commands pass them.
"""

from brightwatch.backup.archive import (
    DUMP,
    MANIFEST,
    BackupError,
    CorruptArchive,
    TargetNotEmpty,
    verify,
)
from brightwatch.backup.clients import Client, find_client
from brightwatch.backup.create import Created, create
from brightwatch.backup.restore import Restored, restore, user_relations

__all__ = [
    "DUMP",
    "MANIFEST",
    "BackupError",
    "Client",
    "CorruptArchive",
    "Created",
    "Restored",
    "TargetNotEmpty",
    "create",
    "find_client",
    "restore",
    "user_relations",
    "verify",
]
