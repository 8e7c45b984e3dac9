"""api.jsonvalues: jsonb stored before the contract's limits is served degraded, in the
shape its readers expect, never as an error."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightwatch.api.jsonvalues import served_json
from brightwatch.contract.limits import TRUNCATED, clamp


def test_a_value_too_deep_for_any_decoder_keeps_its_shape() -> None:
    deep = '{"x": ' * 5000 + "1" + "}" * 5000
    assert served_json(deep) == {"truncated": TRUNCATED}
    assert served_json("[" * 5000 + "]" * 5000) == [TRUNCATED]
    assert served_json(b'{"ok": 1}') == {"ok": 1}


def test_a_value_over_the_limits_is_clamped() -> None:
    served = served_json('{"v": ' + '{"x": ' * 40 + "1" + "}" * 40 + "}")
    assert isinstance(served, dict) and TRUNCATED in str(served)


# JSON values as devices send them: small documents, some deep, some with escapes
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_a_value_is_served_as_clamp_would_serve_it(value: object) -> None:
    """The shortcut for short text (api.jsonvalues._surely_within) changes no answer."""
    text = msgspec.json.encode(value)
    assert served_json(text) == clamp(msgspec.json.decode(text))


@pytest.mark.parametrize(
    "text",
    [
        b'{"v": ' + b"[" * 16 + b"1" + b"]" * 16 + b"}",  # 17 levels in 50 bytes
        b'{"nul": "a\\u0000b"}',
        b'{"surrogate": "\\ud800"}',
    ],
)
def test_short_text_over_the_limits_is_still_clamped(text: bytes) -> None:
    assert TRUNCATED in str(served_json(text))
