"""The channel registry: a channel is one module registered by key; receivers name
registered channels only; the delivery worker knows every built-in channel."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from brightwatch.alerts.channels import CHANNELS, ChannelContext
from brightwatch.alerts.routing.settings import Integration
from tests.support.fresh import run_fresh


class PagerChannel:
    """A channel of this test module."""

    key = "pager"

    def __init__(self, context: ChannelContext) -> None:
        self.sent: list[str] = []

    def send(self, target: str, payload: dict[str, Any], subject: str | None) -> None:
        self.sent.append(target)


@pytest.fixture
def pager(monkeypatch: pytest.MonkeyPatch) -> str:
    # what `@register_channel("pager")` does, undone after the test
    monkeypatch.setitem(CHANNELS, "pager", PagerChannel)
    return "pager"


def test_a_registered_channel_is_accepted_by_the_settings(pager: str) -> None:
    assert Integration(channel=pager, target="ward 3").channel == pager


def test_an_unknown_channel_is_refused_naming_the_registered_ones(pager: str) -> None:
    with pytest.raises(ValidationError) as err:
        Integration(channel="pigeon", target="roof")
    known = "aliyun_sms, dingtalk, email, feishu, mqtt, pager, sms, tencent_sms, webhook, wecom"
    assert f"unknown channel 'pigeon'; known: {known}" in str(err.value)


def test_the_delivery_worker_knows_every_builtin_channel() -> None:
    # tickets queue firm webhooks with nothing but alerts.delivery imported
    code = (
        "from alerts.delivery import CHANNELS\n"
        "from alerts.channels.webhook import WebhookChannel\n"
        "assert sorted(CHANNELS) == ['aliyun_sms', 'dingtalk', 'email', 'feishu', 'mqtt',"
        " 'sms', 'tencent_sms', 'webhook', 'wecom'], sorted(CHANNELS)\n"
        "assert CHANNELS['webhook'] is WebhookChannel\n"
    )
    run_fresh(code)
