from datetime import UTC, datetime, timedelta

import pytest

from brightwatch.contract.payloads import ElevatorStatus, PayloadError, decode_device_json

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
GOOD = (
    b'{"ts": 1795334400000, "seq": 1, "service_mode": "normal", "run_state": "stopped",'
    b' "floor": 3, "door_zone": true, "door_state": "closed", "has_person": false, "speed": 0.0'
)


def test_valid_status_keeps_extras() -> None:
    d = decode_device_json(GOOD + b', "cabin_temp": 24.5}', ElevatorStatus, NOW)
    assert d.message.floor == 3 and d.extra == {"cabin_temp": 24.5}
    assert d.ts == datetime.fromtimestamp(1795334400, UTC)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (GOOD + b', "note": "\xff\xfe"}', "not UTF-8"),
        (b"\xff\xfe", "invalid JSON"),
        (b"[" * 60_000, "nested too deeply"),
        (GOOD + b', "speed": NaN}', "invalid JSON"),
        (GOOD.replace(b'"floor": 3', b'"floor": 1e400') + b"}", "out of range"),
        (GOOD.replace(b'"normal"', b'"warp"') + b"}", "Invalid enum value"),
        (GOOD.replace(b'"seq": 1', b'"seq": -1') + b"}", "seq"),
        (GOOD.replace(b"1795334400000", b'"2026-11-22T08:00:00"') + b"}", "without a UTC offset"),
        (GOOD.replace(b"1795334400000", b"1895334400000") + b"}", "ahead of the server clock"),
        (b"1", "expected a JSON object"),
        (b"{" + b" " * (70 * 1024) + b"}", "payload too large"),
    ],
)
def test_rejections_carry_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as err:
        decode_device_json(raw, ElevatorStatus, NOW, timedelta(days=1))
    assert reason in err.value.reason
