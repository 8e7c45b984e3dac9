"""api.jsonvalues: jsonb stored before the contract's limits is served degraded, in the
shape its readers expect, never as an error."""

from __future__ import annotations

from brightwatch.api.jsonvalues import served_json
from brightwatch.contract.limits import TRUNCATED


def test_a_value_too_deep_for_any_decoder_keeps_its_shape() -> None:
    deep = '{"x": ' * 5000 + "1" + "}" * 5000
    assert served_json(deep) == {"truncated": TRUNCATED}
    assert served_json("[" * 5000 + "]" * 5000) == [TRUNCATED]
    assert served_json(b'{"ok": 1}') == {"ok": 1}


def test_a_value_over_the_limits_is_clamped() -> None:
    served = served_json('{"v": ' + '{"x": ' * 40 + "1" + "}" * 40 + "}")
    assert isinstance(served, dict) and TRUNCATED in str(served)
