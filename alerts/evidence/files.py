"""Files kept as evidence: pictures that confirmed a violation (vision), and what people
upload to close a case (rectification evidence, ticket photos and reports). Uploads are
recognised by their first bytes; every file is written atomically under BW_DATA_DIR with
its content hash recorded, and checked against that hash on every read, so a file changed
on disk is never served as evidence.

Imports only the standard library.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Collection
from pathlib import Path

# content type -> (magic bytes, offset, file suffix); the declared type is not trusted
SIGNATURES: dict[str, tuple[bytes, int, str]] = {
    "image/jpeg": (b"\xff\xd8\xff", 0, ".jpg"),
    "image/png": (b"\x89PNG\r\n\x1a\n", 0, ".png"),
    "image/webp": (b"RIFF", 0, ".webp"),  # and "WEBP" at byte 8
    "application/pdf": (b"%PDF-", 0, ".pdf"),
    "video/mp4": (b"ftyp", 4, ".mp4"),
}


class TamperedFile(RuntimeError):
    """A stored file that no longer matches its recorded hash (or is missing: below)."""


class MissingFile(TamperedFile):
    """A stored file that is gone from the data folder (or a path outside it)."""


def sniff(data: bytes, accepted: Collection[str]) -> tuple[str, str] | None:
    """(content type, suffix) of `data` when it is one of the `accepted` types."""
    for content_type in accepted:
        magic, offset, suffix = SIGNATURES[content_type]
        if data[offset : offset + len(magic)] != magic:
            continue
        if content_type == "image/webp" and data[8:12] != b"WEBP":
            continue
        return content_type, suffix
    return None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename over it (readers see the old
    file or the new one, never half of one; concurrent writers never share a temporary)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_checked(data_dir: Path, rel: str, digest: str, what: str) -> bytes:
    """The bytes of data_dir/rel after checking them against the recorded hash:
    MissingFile when gone (or outside the data folder), TamperedFile when changed."""
    path = (data_dir / rel).resolve()
    if data_dir.resolve() not in path.parents:
        raise MissingFile(f"{what} is outside the data folder")  # never served
    try:
        data = path.read_bytes()
    except OSError:
        raise MissingFile(f"{what} is missing from the data folder") from None
    if sha256(data) != digest:
        raise TamperedFile(f"{what} does not match its recorded hash")
    return data
