"""The summaries the camera's rules write are read by people and stored with the alert:
in the deployment's language (`CameraConfig.locale`, BW_LOCALE, zh-CN by default), the
code verbatim beside its Chinese name, the English variant available."""

from __future__ import annotations

from brightwatch.vision.rules.config import CameraConfig
from brightwatch.vision.rules.engine import _summary, step, tick
from brightwatch.vision.rules.observations import AvailabilitySeen
from brightwatch.vision.rules.state import new_state

T0 = 1_765_044_840_000  # 2025-12-06T18:14:00Z


def test_violation_summary_in_both_languages() -> None:
    zh = CameraConfig("K1", "cam1")
    assert zh.locale == "zh-CN"
    assert _summary("NO_MASK", zh, "stove") == "NO_MASK 未戴口罩，位置 K1/cam1 stove 区域"
    assert _summary("NO_MASK", zh, "") == "NO_MASK 未戴口罩，位置 K1/cam1"
    en = CameraConfig("K1", "cam1", locale="en")
    assert _summary("NO_MASK", en, "stove") == "NO_MASK at K1/cam1 zone stove"


def test_offline_and_back_in_chinese() -> None:
    cfg = CameraConfig("K1", "cam1", offline_after_s=300)
    st, (down,) = step(new_state(), AvailabilitySeen(T0, online=False), cfg)
    assert down.summary == "CAMERA_OFFLINE 视频离线，位置 K1/cam1：摄像头上报离线"
    st, (up,) = step(st, AvailabilitySeen(T0 + 60_000, online=True), cfg)
    assert up.summary == "CAMERA_OFFLINE 视频离线，位置 K1/cam1：已恢复"
    # silence during (unrestricted) operating hours
    st, events = tick(st, cfg, T0 + 60_000 + 301_000)
    assert [e.summary for e in events] == ["CAMERA_OFFLINE 视频离线，位置 K1/cam1：300 秒无画面"]


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
