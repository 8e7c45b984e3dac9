"""contract.limits: what a device may make us store, and how an over-limit stored value
is served back (degraded, never an error)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightwatch.contract.limits import LIMITS, TRUNCATED, LimitError, check_json, clamp


def nested(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = {"x": value}
    return value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (nested(17), "nested deeper than 16"),
        ([[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]], "nested deeper than 16"),
        ({f"k{i}": i for i in range(257)}, "more than 256 keys"),
        ({"a": list(range(1001))}, "more than 1000 items"),
        ({"a": "x" * 4097}, "longer than 4096"),
        ({"a\x00": 1}, "U+0000"),
        ({"a": "b\x00"}, "U+0000"),
        ({"a": "\ud800"}, "lone surrogate"),
        ({"a": [[0] * 1000] * 11}, "more than 10000 values"),
    ],
)
def test_over_the_limits_is_refused_with_a_reason(value: object, reason: str) -> None:
    with pytest.raises(LimitError) as err:
        check_json(value, "an extra field")
    assert reason in err.value.reason and err.value.reason.startswith("limits: an extra field")


def test_within_the_limits_passes_and_is_served_as_it_is() -> None:
    value = {"vendor": nested(15), "fw": "2.1", "list": list(range(1000))}
    check_json(value)
    assert clamp(value) is value


def test_a_stored_value_300_deep_is_served_truncated() -> None:
    served = clamp({"vendor": nested(300), "ok": 1})
    node, depth = served["vendor"], 2
    while isinstance(node, dict):
        node, depth = node["x"], depth + 1
    assert node == TRUNCATED and depth == LIMITS.max_depth + 1
    assert served["ok"] == 1
    json.dumps(served)  # serialisable


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
        max_leaves=60,
    )
)
def test_whatever_is_stored_clamp_gives_a_value_within_the_limits(value: object) -> None:
    check_json(clamp(value))
