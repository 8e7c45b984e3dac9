"""Alert summaries are written in the deployment's language (zh-CN first, English
available) with the code verbatim in front, and every rule's reason (`why`) has its
sentence in the catalogue: the scenario traces are replayed in Chinese and no summary may
keep an English phrase (a new or reworded `why` in elevators/rules.py fails here until
elevators/summaries.WHYS and the catalogue have it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from brightwatch.contract.codes import ELEVATOR_CATALOGUE
from brightwatch.edge.elevator_sim.trace import load
from brightwatch.elevators.summaries import WHYS, why_in
from tests.elevators.harness import replay_trace

FILES = sorted((Path(__file__).parent / "scenarios").glob("*.jsonl"))
ENGLISH = re.compile(r"\b[a-z]{2,}\b [a-z]{2,}\b")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario_summaries_are_chinese_with_the_code(path: Path) -> None:
    fired = replay_trace(load(path), locale="zh-CN").fired
    for f in fired:
        e = f.event
        assert e.code in e.summary, e.summary  # verbatim
        if e.code in ELEVATOR_CATALOGUE:
            assert e.summary.startswith(f"{e.code} "), e.summary
        # a controller's own fault text (`detail`) is the device's words, shown as sent
        ours = e.summary.split(f"控制器上报 {e.code}：")[0]
        assert not ENGLISH.search(ours), f"{path.name}: untranslated {e.summary!r}"


def test_the_english_variant_keeps_the_rules_words() -> None:
    trace = load(next(p for p in FILES if "trapped" in p.stem))
    zh = replay_trace(trace, locale="zh-CN").raises()
    en = replay_trace(trace, locale="en").raises()
    assert zh and len(zh) == len(en)
    for a, b in zip(zh, en, strict=True):
        assert a.event.code == b.event.code and a.event.summary != b.event.summary
        assert b.event.summary.startswith(b.event.code)
        assert not re.search(r"[\u4e00-\u9fff]", b.event.summary), b.event.summary


def test_each_event_carries_both_languages_whatever_the_deployments() -> None:
    """`summaries` holds the summary in every language, the same words a deployment of
    that language writes as its `summary`: a Chinese deployment's alert reads in English
    to an English reader, and the other way round."""
    trace = load(next(p for p in FILES if "trapped" in p.stem))
    zh = replay_trace(trace, locale="zh-CN").fired
    en = replay_trace(trace, locale="en").fired
    assert zh and len(zh) == len(en)
    for a, b in zip(zh, en, strict=True):
        assert a.event.summaries == b.event.summaries
        assert a.event.summaries == {"zh-CN": a.event.summary, "en": b.event.summary}


def test_why_is_read_back_with_its_numbers() -> None:
    why = "stopped outside the door zone with a person inside for 30 s"
    assert why_in("zh-CN", why) == "停在门区外，轿厢内有人，已持续 30 秒"
    assert why_in("en", why) == why
    assert why_in("zh-CN", "above 115 % of rated speed") == "超过额定速度的 115 %"
    assert why_in("zh-CN", "controller reports E35: door lock") == "控制器上报 E35：door lock"
    assert why_in("zh-CN", "something new") == "something new"  # kept, and the replay test fails
    assert len(set(WHYS)) == len(WHYS)
