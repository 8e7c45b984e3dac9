"""Classification of messages, table-driven from data/classify_cases.jsonl: each line is
a topic, a payload and the expected outcome; adding a case is adding a line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightwatch.contract.payloads import ElevatorStatus, PayloadError, decode_device_json
from brightwatch.contract.topics import Channel
from brightwatch.ingest.classify import Limits, TopicCache, classify, decode_sample

DATA = Path(__file__).parent / "data"
ROOT = "bw"
NOW = datetime(2025, 11, 22, 9, 0, tzinfo=UTC)
CASES = [json.loads(line) for line in (DATA / "classify_cases.jsonl").read_text().splitlines()]


@dataclass
class Msg:
    topic: str
    payload: bytes
    received_at: datetime = NOW


def payload_of(case: dict[str, Any]) -> bytes:
    if "payload_hex" in case:
        return bytes.fromhex(case["payload_hex"])
    if "payload_repeat" in case:
        text, n = case["payload_repeat"]
        return str(text).encode() * int(n)
    return str(case["payload"]).encode()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_classification(case: dict[str, Any]) -> None:
    payload = payload_of(case)
    topic = case["topic"].replace("{root}", ROOT)
    out = classify([Msg(topic, payload)], TopicCache(ROOT), Limits(dead_letter_max_bytes=100))
    total = len(out.samples) + len(out.availability) + len(out.dead)
    assert total == 1, "every message has exactly one outcome"
    expect = case["expect"]
    if expect == "dead":
        (dead,) = out.dead
        assert dead.reason_class == case["class"], dead.reason
        assert case.get("reason", "") in dead.reason
        assert dead.size == len(payload)
        assert dead.payload == payload[:100], "payload kept, capped"
        assert "\x00" not in dead.reason and "\x00" not in dead.topic
    elif expect == "availability":
        (report,) = out.availability
        assert report.availability in ("online", "offline")
    else:
        (sample,) = out.samples
        assert sample.channel == Channel(expect)
        assert sample.ts.tzinfo is not None
        assert sample.extra == case.get("extra")


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "ts",
                "seq",
                "service_mode",
                "run_state",
                "floor",
                "door_zone",
                "door_state",
                "has_person",
                "speed",
                "load_pct",
                "direction",
                "vibration_rms",
                "extra_x",
            ]
        ),
        st.one_of(
            st.integers(min_value=-(2**70), max_value=2**70),
            st.floats(allow_nan=False),
            st.booleans(),
            st.none(),
            st.text(max_size=12),
            st.sampled_from(["normal", "stopped", "running", "closed", "open", "up", "none"]),
            st.just(1763800000123),
        ),
    )  # fmt: skip
)
def test_fast_path_agrees_with_the_contract(doc: dict[str, Any]) -> None:
    """The fast decoder is only an optimisation: same message, extras and reason."""
    raw = msgspec.json.encode(doc)
    now, lead = datetime(2025, 11, 22, tzinfo=UTC), timedelta(days=1)
    try:
        expected: Any = decode_device_json(raw, ElevatorStatus, now, lead)
    except PayloadError as exc:
        expected = exc.reason
    try:
        got: Any = decode_sample(Channel.STATUS, raw, now, lead)
    except PayloadError as exc:
        got = exc.reason
    if isinstance(expected, str):
        assert got == expected
    else:
        assert not isinstance(got, str), got
        assert msgspec.to_builtins(got.message) == msgspec.to_builtins(expected.message)
        assert (got.ts, got.extra) == (expected.ts, expected.extra)


def test_topic_cache_is_bounded() -> None:
    cache = TopicCache(ROOT, max_entries=10)
    for i in range(25):
        cache.parse(f"{ROOT}/elevators/E{i}/status")
    assert len(cache._known) <= 10
