"""alerts.evidence.files: uploads recognised by content, stored by hash, checked on read."""

from __future__ import annotations

from pathlib import Path

import pytest

from brightwatch.alerts.evidence import files

JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 20
WEBP = b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 8
NOT_WEBP = b"RIFF\0\0\0\0WAVEfmt " + b"\0" * 8
MP4 = b"\0\0\0\x18ftypmp42" + b"\0" * 8


@pytest.mark.parametrize(
    ("data", "accepted", "expected"),
    [
        (JPEG, ("image/jpeg",), ("image/jpeg", ".jpg")),
        (JPEG, ("image/png",), None),
        (WEBP, ("image/webp",), ("image/webp", ".webp")),
        (NOT_WEBP, ("image/webp",), None),  # a RIFF file that is audio, not a picture
        (MP4, ("video/mp4", "image/jpeg"), ("video/mp4", ".mp4")),
        (b"%PDF-1.7\n", ("application/pdf",), ("application/pdf", ".pdf")),
        (b"GIF89a", tuple(files.SIGNATURES), None),
        (b"", tuple(files.SIGNATURES), None),
    ],
)
def test_sniff(data: bytes, accepted: tuple[str, ...], expected: object) -> None:
    assert files.sniff(data, accepted) == expected


def test_written_file_reads_back_and_a_change_is_caught(tmp_path: Path) -> None:
    rel = Path("tickets") / "7" / "a.jpg"
    files.write_atomic(tmp_path / rel, JPEG)
    assert [p.name for p in (tmp_path / "tickets" / "7").iterdir()] == ["a.jpg"]
    digest = files.sha256(JPEG)
    assert files.read_checked(tmp_path, rel.as_posix(), digest, "attachment 1") == JPEG
    (tmp_path / rel).write_bytes(JPEG + b"x")
    with pytest.raises(files.TamperedFile, match="attachment 1 does not match"):
        files.read_checked(tmp_path, rel.as_posix(), digest, "attachment 1")
    (tmp_path / rel).unlink()
    with pytest.raises(files.MissingFile, match="missing"):
        files.read_checked(tmp_path, rel.as_posix(), digest, "attachment 1")


def test_a_path_outside_the_data_folder_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(JPEG)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with pytest.raises(files.MissingFile, match="outside"):
        files.read_checked(data_dir, "../secret.jpg", files.sha256(JPEG), "evidence 3")
