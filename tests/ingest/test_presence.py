"""Gap counting and presence (ingest.presence), table-driven from data/presence_cases.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from brightwatch.ingest.presence import Presence, advance

T0 = datetime(2025, 11, 22, 8, 0, tzinfo=UTC)
CASES = json.loads((Path(__file__).parent / "data" / "presence_cases.json").read_text())


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_presence(case: dict[str, Any]) -> None:
    prior = Presence()
    if case["prior"]:
        p = case["prior"]
        prior = Presence(at(p["ts"]), at(p["ts"]), p["seq"], p["messages"], p["gaps"], None)
    batches = case.get("batches", [case.get("messages", [])])
    state = prior
    for batch in batches:
        stored = [(at(ts), seq) for ts, seq in batch]
        state = advance(state, stored, at(1000))
    assert state.seq_gaps == case["gaps"]
    assert state.last_seq == case["last_seq"]
    if "messages_total" in case:
        assert state.messages == case["messages_total"]
    assert state.last_seen == at(1000)
