"""The summaries the camera's rules write are read by people and stored with the alert:
`summary` in the deployment's language (`CameraConfig.locale`, BW_LOCALE, zh-CN by
default), the code verbatim beside its Chinese name, and `summaries` in every language
for readers of the other one."""

from __future__ import annotations

from brightwatch.vision.rules.config import CameraConfig
from brightwatch.vision.rules.engine import _summary, step, tick
from brightwatch.vision.rules.observations import AvailabilitySeen
from brightwatch.vision.rules.state import new_state

T0 = 1_765_044_840_000  # 2025-12-06T18:14:00Z


def test_violation_summary_in_both_languages() -> None:
    cfg = CameraConfig("K1", "cam1")
    assert cfg.locale == "zh-CN"
    assert _summary("NO_MASK", cfg, "stove", "zh-CN") == "NO_MASK 未戴口罩，位置 K1/cam1 stove 区域"
    assert _summary("NO_MASK", cfg, "", "zh-CN") == "NO_MASK 未戴口罩，位置 K1/cam1"
    assert _summary("NO_MASK", cfg, "stove", "en") == "NO_MASK at K1/cam1 zone stove"


def test_offline_and_back_in_chinese() -> None:
    cfg = CameraConfig("K1", "cam1", offline_after_s=300)
    st, (down,) = step(new_state(), AvailabilitySeen(T0, online=False), cfg)
    assert down.summary == "CAMERA_OFFLINE 视频离线，位置 K1/cam1：摄像头上报离线"
    st, (up,) = step(st, AvailabilitySeen(T0 + 60_000, online=True), cfg)
    assert up.summary == "CAMERA_OFFLINE 视频离线，位置 K1/cam1：已恢复"
    # silence during (unrestricted) operating hours
    st, events = tick(st, cfg, T0 + 60_000 + 301_000)
    assert [e.summary for e in events] == ["CAMERA_OFFLINE 视频离线，位置 K1/cam1：300 秒无画面"]


def test_every_event_carries_its_summary_in_both_languages() -> None:
    """A Chinese deployment's events keep the English words too (`summaries`), and the
    deployment's language is the contract's `summary`."""
    cfg = CameraConfig("K1", "cam1", offline_after_s=300)
    st, (down,) = step(new_state(), AvailabilitySeen(T0, online=False), cfg)
    assert down.summaries == {
        "zh-CN": "CAMERA_OFFLINE 视频离线，位置 K1/cam1：摄像头上报离线",
        "en": "CAMERA_OFFLINE at K1/cam1: the camera reports itself offline",
    }
    assert down.summary == down.summaries["zh-CN"]
    st, (up,) = step(st, AvailabilitySeen(T0 + 60_000, online=True), cfg)
    assert up.summaries["en"] == "CAMERA_OFFLINE at K1/cam1: back"
    _, events = tick(st, cfg, T0 + 60_000 + 301_000)
    assert [e.summaries["en"] for e in events] == ["CAMERA_OFFLINE at K1/cam1: no frame for 300 s"]
    en = CameraConfig("K1", "cam1", locale="en", offline_after_s=300)
    _, (down,) = step(new_state(), AvailabilitySeen(T0, online=False), en)
    assert down.summary == down.summaries["en"]
    assert down.summaries["zh-CN"].startswith("CAMERA_OFFLINE 视频离线")


def test_a_violation_raised_and_ended_is_written_in_both_languages() -> None:
    from tests.vision.rules.harness import SCENARIOS, load, run

    events = run(load(SCENARIOS / "no_mask_special_room.json"))
    raised = next(e for e in events if e.active and e.code == "NO_MASK")
    assert set(raised.summaries) == {"zh-CN", "en"}
    assert raised.summary == raised.summaries["zh-CN"]
    assert raised.summaries["zh-CN"].startswith("NO_MASK 未戴口罩，位置 S1/cam1")
    assert raised.summaries["en"].startswith("NO_MASK at S1/cam1")
    # the rule that raised, for the reviewer, likewise
    assert raised.rule == raised.rules["zh-CN"] and raised.rules["en"].startswith("NO_MASK: N=")
    assert raised.rules["zh-CN"].startswith("NO_MASK：")


def test_offline_in_english() -> None:
    cfg = CameraConfig("K1", "cam1", locale="en")
    _, (down,) = step(new_state(), AvailabilitySeen(T0, online=False), cfg)
    assert down.summary == "CAMERA_OFFLINE at K1/cam1: the camera reports itself offline"


def test_the_rule_that_raised_reads_in_the_deployment_language() -> None:
    from brightwatch.vision.rules.config import ConfirmRule
    from brightwatch.vision.rules.confirm import describe

    rule = ConfirmRule(n=3, m=5, min_duration_s=3, median_score=0.5, realarm_s=300)
    assert describe("PHONE", rule, False, "en") == (
        "PHONE: N=3 of M=5 frames, min 3 s, median score >= 0.50, re-alarm after 300 s"
    )
    assert describe("PHONE", rule, False, "zh-CN") == (
        "PHONE：近 M=5 帧中 N=3 帧命中，持续至少 3 秒，置信度中位数 ≥ 0.50，300 秒后可再次告警"
    )
