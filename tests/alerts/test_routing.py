"""Pure parts of the notification pipeline: matchers, the routing tree, grouping and
escalation decisions. Table-driven from data files where the cases are data."""

from __future__ import annotations

import tomllib
from datetime import timedelta

import pytest

from brightwatch.alerts.routing.escalation import decide_escalation
from brightwatch.alerts.routing.grouping import (
    FIRING,
    RESOLVED,
    Member,
    Timing,
    decide_flush,
    schedule_on_change,
)
from brightwatch.alerts.routing.matchers import Matcher, MatcherError
from brightwatch.alerts.routing.mute import LabelledAlert, Rule, Silence, inhibited_by, silenced_by
from brightwatch.alerts.routing.settings import EscalationStep, InhibitRule, NotifySettings
from brightwatch.alerts.routing.tree import route
from tests.alerts.notify_support import DATA, T0, notify_settings

MATCHERS = tomllib.loads((DATA / "matcher_cases.toml").read_text())
ROUTING = tomllib.loads((DATA / "routing_cases.toml").read_text())["case"]


@pytest.mark.parametrize(("text", "labels", "expected"), MATCHERS["cases"])
def test_matcher(text: str, labels: dict[str, str], expected: bool) -> None:
    assert Matcher.parse(text).matches(labels) is expected
    # the API form round-trips
    m = Matcher.parse(text)
    assert Matcher.from_api(m.to_api()) == m


@pytest.mark.parametrize("text", MATCHERS["bad"])
def test_bad_matcher(text: str) -> None:
    with pytest.raises(MatcherError):
        Matcher.parse(text)


@pytest.mark.parametrize("case", ROUTING, ids=[c["name"] for c in ROUTING])
def test_routing_tree(case: dict) -> None:
    root = notify_settings().notify.route
    got = [f"{p.path}:{p.receiver}" for p in route(root, case["labels"])]
    assert got == case["expect"]


def test_inherited_timings_and_group_key() -> None:
    root = notify_settings().notify.route
    labels = {
        "kind": "kitchen",
        "code": "NO_MASK",
        "severity": "T3",
        "site_id": "K1",
        "location": "K1",
    }
    (plan,) = route(root, labels)
    assert plan.group_wait == timedelta(seconds=30)  # inherited from the root
    assert plan.group_by == ("kind", "location")
    assert plan.group_key(labels) == 'root/kitchen:ops:{kind="kitchen", location="K1"}'


def test_settings_refuse_unknown_receivers_and_channels() -> None:
    with pytest.raises(ValueError, match="receivers used but not defined: nobody"):
        notify_settings(escalations={"P1": [{"after_s": 60, "receiver": "nobody"}]})
    with pytest.raises(ValueError, match="unknown channel 'pigeon'"):
        NotifySettings(
            receivers={"default": [{"channel": "pigeon", "target": "x"}], "bureau-duty": []}
        )
    with pytest.raises(ValueError, match="root route must set"):
        NotifySettings(route={"receiver": "default"})


TIMING = Timing(timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=4))


def m(
    i: int,
    status: str = FIRING,
    notified: str | None = None,
    ack: bool = False,
    muted: bool = False,
) -> Member:
    return Member(i, status, ack, muted, notified)


def test_flush_news_then_nothing_then_repeat_until_acknowledged() -> None:
    first = decide_flush([m(1), m(2)], None, TIMING, T0)
    assert first.send and first.reason == "group" and first.include == (1, 2)
    assert first.next_flush_at == T0 + TIMING.repeat_interval
    same = decide_flush(
        [m(1, notified=FIRING), m(2, notified=FIRING)], T0, TIMING, T0 + timedelta(minutes=5)
    )
    assert not same.send
    repeat = decide_flush(
        [m(1, notified=FIRING), m(2, notified=FIRING)], T0, TIMING, T0 + timedelta(hours=4)
    )
    assert repeat.send and repeat.reason == "repeat"
    acked = decide_flush([m(1, notified=FIRING, ack=True)], T0, TIMING, T0 + timedelta(hours=4))
    assert not acked.send and acked.next_flush_at is None and not acked.close


def test_flush_resolved_only_where_firing_was_told() -> None:
    d = decide_flush(
        [m(1, RESOLVED, FIRING), m(2, RESOLVED, None)], T0, TIMING, T0 + timedelta(minutes=6)
    )
    assert d.send and d.include == (1,) and d.drop == (1, 2) and d.close


def test_flush_muted_alerts_stay_out_and_are_rechecked() -> None:
    d = decide_flush([m(1, muted=True)], None, TIMING, T0)
    assert not d.send and d.next_flush_at == T0 + TIMING.group_interval and not d.close


def test_schedule_group_wait_then_group_interval() -> None:
    assert schedule_on_change(None, None, TIMING, T0, new_group=True) == T0 + TIMING.group_wait
    pending = T0 + TIMING.group_wait
    assert (
        schedule_on_change(pending, None, TIMING, T0 + timedelta(seconds=5), new_group=False)
        == pending
    )
    # notified at T0: a change a minute later waits for the group interval
    later = schedule_on_change(None, T0, TIMING, T0 + timedelta(minutes=1), new_group=False)
    assert later == T0 + TIMING.group_interval


def test_silence_and_inhibition() -> None:
    s = Silence(7, (Matcher.parse("site_id=K1"),), T0, T0 + timedelta(hours=1))
    assert silenced_by({"site_id": "K1"}, [s], T0) == (7,)
    assert silenced_by({"site_id": "K1"}, [s], T0 + timedelta(hours=1)) == ()
    assert silenced_by({"site_id": "K2"}, [s], T0) == ()
    rule = Rule.compile(
        InhibitRule(
            source_matchers=["code=POWER_FAIL"],
            target_matchers=["code=~DOOR_.*"],
            equal=["device_id"],
        )
    )
    src = LabelledAlert(1, {"code": "POWER_FAIL", "device_id": "E1"})
    assert inhibited_by(
        LabelledAlert(2, {"code": "DOOR_OPEN_FAIL", "device_id": "E1"}), [src], [rule]
    ) == (1,)
    assert (
        inhibited_by(LabelledAlert(3, {"code": "DOOR_OPEN_FAIL", "device_id": "E2"}), [src], [rule])
        == ()
    )
    assert (
        inhibited_by(
            LabelledAlert(4, {"code": "TRAPPED_IN_ZONE", "device_id": "E1"}), [src], [rule]
        )
        == ()
    )


def test_escalation_chain() -> None:
    chain = [
        EscalationStep(after_s=300, receiver="duty"),
        EscalationStep(after_s=1800, receiver="chief"),
    ]
    recheck = timedelta(minutes=1)
    early = decide_escalation(
        chain, T0, 0, T0 + timedelta(minutes=4), firing=True, muted=False, recheck=recheck
    )
    assert early.due == () and early.next_at == T0 + timedelta(minutes=5)
    both = decide_escalation(
        chain, T0, 0, T0 + timedelta(hours=1), firing=True, muted=False, recheck=recheck
    )
    assert [(lvl, s.receiver) for lvl, s in both.due] == [
        (1, "duty"),
        (2, "chief"),
    ] and both.next_at is None
    muted = decide_escalation(
        chain, T0, 0, T0 + timedelta(minutes=6), firing=True, muted=True, recheck=recheck
    )
    assert muted.due == () and muted.next_at == T0 + timedelta(minutes=7)
    acked = decide_escalation(
        chain, T0, 1, T0 + timedelta(hours=1), firing=False, muted=False, recheck=recheck
    )
    assert acked.due == () and acked.next_at is None


def test_default_tree_sends_notices_to_the_operator_over_mqtt() -> None:
    defaults = NotifySettings()
    notice = {
        "kind": "kitchen",
        "code": "RODENT",
        "severity": "T1",
        "notice": "rectification",
        "review_id": "4",
    }
    (plan,) = route(defaults.route, notice)
    assert (plan.path, plan.receiver, plan.group_wait) == (
        "root/notices",
        "kitchen-operator",
        timedelta(0),
    )
    (mqtt,) = defaults.receivers["kitchen-operator"]
    assert (mqtt.channel, mqtt.target) == ("mqtt", "{topic_root}/notices/{site_id}")
    (urgent,) = route(defaults.route, {"kind": "elevator", "severity": "P1"})
    assert urgent.path == "root/urgent"


def test_default_tree_sends_the_on_demand_withdrawal_to_the_bureau() -> None:
    """elevators.md: on-demand status withdrawn -> the bureau notified (not the kitchen)."""
    labels = {
        "kind": "elevator",
        "code": "TRAPPED_OUT_ZONE",
        "severity": "P1",
        "notice": "on_demand_withdrawn",
        "elevator_id": "E1",
    }
    (plan,) = route(NotifySettings().route, labels)
    assert (plan.path, plan.receiver, plan.group_wait) == (
        "root/on-demand-withdrawn",
        "bureau-duty",
        timedelta(0),
    )
