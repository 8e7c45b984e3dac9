"""The README's example routing, as written there: every kitchen tier reaches the
operator as an alert notification, notices reach the operator, the bureau keeps its
routes, and its channel settings load."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from brightwatch.alerts.routing.tree import route
from brightwatch.alerts.settings import AlertSettings

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> dict[str, Any]:
    text = README.read_text()
    at = text.index("The example routing (`BW_CONFIG`)")
    block = re.search(r"```toml\n(.*?)```", text[at:], re.S)
    assert block is not None, "the README's example routing has no toml block"
    return tomllib.loads(block.group(1))


def receivers(labels: dict[str, str]) -> list[str]:
    settings = AlertSettings(**readme_example()["alerts"])
    return [p.receiver for p in route(settings.notify.route, labels)]


def kitchen(severity: str, **more: str) -> dict[str, str]:
    return {
        "kind": "kitchen",
        "code": "RODENT" if severity == "T1" else "NO_MASK",
        "severity": severity,
        "device_id": "cam1",
        "site_id": "K1",
        "location": "K1",
        **more,
    }


@pytest.mark.parametrize("severity", ["T1", "T2", "T3"])
def test_every_kitchen_tier_reaches_the_operator_and_the_bureau(severity: str) -> None:
    got = receivers(kitchen(severity))
    assert got[0] == "kitchen-operator"  # the operator gets the alert notification
    assert "ops" in got  # and the bureau's routes still apply
    assert got.count("kitchen-operator") == 1


@pytest.mark.parametrize("notice", ["rectification", "plan_overdue", "card"])
def test_notices_reach_the_operator_alone(notice: str) -> None:
    assert receivers(kitchen("T1", notice=notice)) == ["kitchen-operator"]


def test_elevators_are_unchanged() -> None:
    trapped = {"kind": "elevator", "code": "TRAPPED_OUT_ZONE", "severity": "P1"}
    assert receivers({**trapped, "device_id": "E1", "location": "E1"}) == ["ops"]
    door = {"kind": "elevator", "code": "DOOR_CLOSE_FAIL", "severity": "P2", "firm_id": "F1"}
    assert receivers({**door, "device_id": "E1", "location": "B1"}) == ["firm"]


def test_the_example_channels_load() -> None:
    channels = AlertSettings(**readme_example()["alerts"]).channels
    assert "district-duty" in channels.dingtalk.robots
    assert channels.aliyun_sms.templates["zh-CN"]["T1"].startswith("SMS_")


def test_on_demand_withdrawal_goes_to_the_bureau() -> None:
    labels = {"kind": "elevator", "code": "TRAPPED_OUT_ZONE", "severity": "P1"}
    labels |= {"device_id": "E1", "location": "E1", "notice": "on_demand_withdrawn"}
    assert receivers(labels) == ["bureau-duty"]
