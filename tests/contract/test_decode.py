"""contract.decode: the one decoder per device topic every consumer uses, and the guards
found by the hostile-payload test (tests/brightwatch/test_hostile_payloads.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from brightwatch.contract.decode import decode_detections, decode_elevator
from brightwatch.contract.ids import InvalidIdentifier, check_id, is_valid_id
from brightwatch.contract.payloads import PayloadError, check_epoch_ms, check_frame_size
from brightwatch.contract.topics import Channel
from brightwatch.vision import jpeg

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


def test_an_event_older_than_the_raw_retention_is_refused_like_ingest_refuses_it() -> None:
    old = NOW_MS - 500 * 86_400_000
    raw = b'{"ts": %d, "seq": 1, "code": "RESTART_BLOCK", "state": "raise"}' % old
    decode_elevator(Channel.EVENT, raw, NOW)  # no retention given: accepted
    with pytest.raises(PayloadError, match="older than the raw retention"):
        decode_elevator(Channel.EVENT, raw, NOW, max_age=timedelta(days=400))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"ts": %d, "seq": 1, "code": "X\\u0000Y", "state": "raise"}' % NOW_MS, r"U\+0000"),
        (b'{"ts": %d, "seq": 1, "code": "A", "state": "raise", "v": %s}'
         % (NOW_MS, b'{"x": ' * 40 + b"1" + b"}" * 40), "nested deeper"),
    ],
)  # fmt: skip
def test_what_cannot_be_stored_is_refused_by_every_consumer(raw: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        decode_elevator(Channel.EVENT, raw, NOW)


def test_detections_with_unstorable_text_are_refused() -> None:
    raw = b'{"ts": %d, "seq": 1, "model": "m", "width": 64, "height": 48, "objects":' % NOW_MS
    decode_detections(raw + b' [{"label": "rat", "score": 0.9, "box": [1, 2, 3, 4]}]}', NOW)
    with pytest.raises(PayloadError, match=r"U\+0000"):
        decode_detections(
            raw + b' [{"label": "r\\u0000", "score": 0.9, "box": [1, 2, 3, 4]}]}', NOW
        )


def test_a_frame_claiming_a_huge_picture_is_refused_before_decoding() -> None:
    ok, buf = cv2.imencode(".jpg", np.zeros((24, 32, 3), np.uint8))
    assert ok
    data = bytearray(buf.tobytes())
    assert jpeg.size(bytes(data)) == (32, 24)
    check_frame_size(jpeg.size(bytes(data)))
    sof = next(i for i in range(2, len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xC0)
    data[sof + 5 : sof + 9] = (12000).to_bytes(2, "big") * 2  # 641 bytes claiming 144 MP
    assert jpeg.size(bytes(data)) == (12000, 12000)
    with pytest.raises(PayloadError, match="12000 x 12000"):
        check_frame_size(jpeg.size(bytes(data)))
    with pytest.raises(PayloadError, match="no picture size"):
        check_frame_size(None)


def test_an_id_with_a_trailing_newline_is_not_an_id() -> None:
    assert is_valid_id("E1") and not is_valid_id("E1\n")
    with pytest.raises(InvalidIdentifier):
        check_id("E1\n")


def test_a_frames_epoch_ms_has_the_bounds_of_a_json_timestamp() -> None:
    check_epoch_ms(NOW_MS, NOW, timedelta(days=1))
    with pytest.raises(PayloadError, match="outside 2000-2100"):
        check_epoch_ms(-1, NOW, timedelta(days=1))
    with pytest.raises(PayloadError, match="ahead of the server clock"):
        check_epoch_ms(NOW_MS + 2 * 86_400_000, NOW, timedelta(days=1))
