"""The archive's format: its members, their checksums, and `verify`.

An uncompressed tar: `database.pgdump` (pg_dump custom format), `files/<path>` (paths
relative to BW_DATA_DIR), then `manifest.json` with every member's size and SHA-256.
Members are streamed through `Hashing` both ways; nothing is held in memory whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

FORMAT = "brightwatch-backup"
FORMAT_VERSION = 1
DUMP = "database.pgdump"
MANIFEST = "manifest.json"
FILES = "files/"
CHUNK = 1 << 20
# the tables whose rows name a file under BW_DATA_DIR and the SHA-256 of its bytes
FILE_TABLES = ("evidence", "rectification_file", "ticket_attachment")
TIMESCALE_VERSION = "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why and what to do."""


class CorruptArchive(BackupError):
    """The archive does not match its manifest (or is not a brightwatch backup)."""


class TargetNotEmpty(BackupError):
    """The restore target already holds data and --force was not given."""


class Hashing(io.RawIOBase):
    """A reader (or writer) that hashes what passes through it."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def safe_relative(name: str) -> PurePosixPath:
    """The path of a `files/` member inside the data folder; CorruptArchive when it would
    land outside it."""
    rel = PurePosixPath(name[len(FILES) :])
    if not name.startswith(FILES) or rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise CorruptArchive(f"the archive holds an unsafe path {name!r}")
    return rel


def add_stream(
    tar: tarfile.TarFile, name: str, f: IO[bytes], size: int, mtime: float
) -> dict[str, Any]:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o644
    reader = Hashing(f)
    tar.addfile(info, reader)
    return {"sha256": reader.hexdigest(), "size": size}


@contextlib.contextmanager
def readable(archive: Path, *, io_errors: bool = False) -> Iterator[None]:
    """Errors of a damaged tar (read by the caller) as CorruptArchive; `io_errors`: any
    read error too (verify writes nothing, so every OSError comes from the archive)."""
    damaged: tuple[type[BaseException], ...] = (tarfile.TarError, EOFError)
    if io_errors:
        damaged += (OSError,)
    try:
        yield
    except FileNotFoundError:
        raise BackupError(f"{archive}: no such file") from None
    except damaged as exc:
        raise CorruptArchive(
            f"{archive} is not a readable tar archive ({exc}; a compressed copy must be "
            "decompressed first)"
        ) from None


def members(archive: Path) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    with readable(archive), tarfile.open(archive, "r:") as tar:
        for member in tar:
            yield tar, member


def open_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    f = tar.extractfile(member)
    if f is None:
        raise CorruptArchive(f"{member.name} is not a regular file")
    return f


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> tuple[dict[str, Any], bytes]:
    """The size and SHA-256 of one data member, and its first bytes."""
    if not member.isfile():
        raise CorruptArchive(f"unexpected entry {member.name!r} in the archive")
    if member.name != DUMP:
        safe_relative(member.name)
    with open_member(tar, member) as f:
        reader = Hashing(f)
        head = reader.read(CHUNK)[:8]
        while reader.read(CHUNK):
            pass
    return {"sha256": reader.hexdigest(), "size": reader.size}, head


def verify(archive: Path) -> dict[str, Any]:
    """The manifest, after every member's size and SHA-256 matched it; CorruptArchive
    otherwise. Reads the archive once and writes nothing."""
    seen: dict[str, dict[str, Any]] = {}
    body: bytes | None = None
    head = b""
    with readable(Path(archive), io_errors=True):
        for tar, member in members(Path(archive)):
            if member.name == MANIFEST:
                body = open_member(tar, member).read(64 << 20)
                continue
            if member.name in seen:
                raise CorruptArchive(f"{member.name} appears twice in the archive")
            seen[member.name], first = _read_member(tar, member)
            if member.name == DUMP:
                head = first[:5]
    if body is None:
        raise CorruptArchive("the archive has no manifest: not a brightwatch backup, or cut short")
    try:
        manifest = json.loads(body)
    except ValueError:
        raise CorruptArchive("the manifest is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CorruptArchive("the manifest is not a brightwatch backup manifest")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise BackupError(
            f"the archive's format {manifest['format_version']} is newer than this brightwatch "
            f"reads ({FORMAT_VERSION}): upgrade brightwatch first"
        )
    expected: dict[str, Any] = manifest.get("members") or {}
    if DUMP not in expected:
        raise CorruptArchive("the manifest lists no database dump")
    missing = sorted(set(expected) - set(seen))
    if missing:
        raise CorruptArchive(f"{len(missing)} member(s) missing, first {missing[0]}")
    extra = sorted(set(seen) - set(expected))
    if extra:
        raise CorruptArchive(f"{len(extra)} member(s) not in the manifest, first {extra[0]}")
    for name, want in expected.items():
        got = seen[name]
        if got["size"] != want.get("size") or got["sha256"] != want.get("sha256"):
            raise CorruptArchive(f"{name} does not match its checksum in the manifest")
    if head != b"PGDMP":
        raise CorruptArchive(f"{DUMP} is not a pg_dump custom-format archive")
    return manifest
