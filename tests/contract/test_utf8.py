"""Malformed UTF-8 is refused as "not UTF-8" whichever msgspec is installed (before 0.23 it
raised UnicodeDecodeError, since 0.23 a DecodeError), and only malformed UTF-8 is."""

from __future__ import annotations

import pytest

from brightwatch.contract.payloads import PayloadError, decode_json_object


@pytest.mark.parametrize(
    "raw",
    [
        b'{"note": "\xff\xfe"}',  # inside a string value
        b'{"\xff": 1}',  # inside a key
        b'{"note": "\xe6\x98"}',  # a multi-byte character cut short
        b'{"note": "\xed\xa0\x80"}',  # an encoded surrogate
        b"\xff\xfe",  # outside any string
    ],
)
def test_malformed_utf8_is_named(raw: bytes) -> None:
    with pytest.raises(PayloadError) as err:
        decode_json_object(raw)
    assert err.value.reason == "invalid JSON: not UTF-8"


def test_valid_utf8_in_broken_json_keeps_the_json_reason() -> None:
    with pytest.raises(PayloadError) as err:
        decode_json_object('{"note": "明厨亮灶"'.encode())
    assert err.value.reason.startswith("invalid JSON")
    assert "UTF-8" not in err.value.reason


def test_valid_utf8_decodes() -> None:
    assert decode_json_object('{"note": "明厨亮灶"}'.encode()) == {"note": "明厨亮灶"}
