from datetime import UTC, datetime, timedelta

import pytest

from brightwatch.alerts import lifecycle
from brightwatch.alerts.model import Action, AlertSignal, AlertState

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
FLAP = timedelta(seconds=60)


def sig(active: bool, at: datetime, severity: str = "P2") -> AlertSignal:
    return AlertSignal(
        kind="elevator",
        code="SAFETY_CIRCUIT",
        severity=severity,
        device_id="E1",
        active=active,
        at=at,
        summary="safety circuit open",
    )


def test_raise_opens_new_alert() -> None:
    change = lifecycle.on_signal(None, None, sig(True, T0), T0, FLAP)
    assert change is not None
    assert change.action == Action.FIRED and change.message_type == "new"
    assert change.alert.state == AlertState.FIRING and change.alert.count == 1
    assert change.alert.started_at == T0


def test_clear_resolves_with_cause_time() -> None:
    opened = lifecycle.on_signal(None, None, sig(True, T0), T0, FLAP).alert.evolve(id=1)
    change = lifecycle.on_signal(opened, None, sig(False, T0 + timedelta(seconds=42)), T0, FLAP)
    assert change is not None and change.action == Action.RESOLVED
    assert change.alert.resolved_at - change.alert.started_at == timedelta(seconds=42)
    assert change.alert.resolved_by == "rule:rule"


def test_clear_without_open_alert_does_nothing() -> None:
    assert lifecycle.on_signal(None, None, sig(False, T0), T0, FLAP) is None


def test_flap_within_window_reopens_same_alert_with_count() -> None:
    opened = lifecycle.on_signal(None, None, sig(True, T0), T0, FLAP).alert.evolve(id=7)
    cleared = lifecycle.on_signal(
        opened, None, sig(False, T0 + timedelta(seconds=5)), T0, FLAP
    ).alert
    again = lifecycle.on_signal(None, cleared, sig(True, T0 + timedelta(seconds=30)), T0, FLAP)
    assert again is not None and again.action == Action.REOPENED
    assert again.alert.id == 7 and again.alert.count == 2 and again.alert.state == AlertState.FIRING
    assert again.alert.resolved_at is None


def test_raise_after_flap_window_opens_new_alert() -> None:
    opened = lifecycle.on_signal(None, None, sig(True, T0), T0, FLAP).alert.evolve(id=7)
    cleared = lifecycle.on_signal(
        opened, None, sig(False, T0 + timedelta(seconds=5)), T0, FLAP
    ).alert
    later = lifecycle.on_signal(None, cleared, sig(True, T0 + timedelta(seconds=66)), T0, FLAP)
    assert later is not None and later.action == Action.FIRED and later.alert.id is None


def test_raise_after_person_resolved_opens_new_alert() -> None:
    opened = lifecycle.on_signal(None, None, sig(True, T0), T0, FLAP).alert.evolve(id=3)
    by_person = lifecycle.resolve(opened, "user:1", T0 + timedelta(seconds=1)).alert
    again = lifecycle.on_signal(None, by_person, sig(True, T0 + timedelta(seconds=2)), T0, FLAP)
    assert again is not None and again.action == Action.FIRED


def test_raise_while_open_counts_and_escalates_severity() -> None:
    opened = lifecycle.on_signal(None, None, sig(True, T0, "P2"), T0, FLAP).alert.evolve(id=1)
    change = lifecycle.on_signal(opened, None, sig(True, T0 + timedelta(seconds=1), "P1"), T0, FLAP)
    assert change is not None and change.action == Action.REFIRED
    assert change.alert.count == 2 and change.alert.severity == "P1"


def test_acknowledge_only_firing() -> None:
    opened = lifecycle.on_signal(None, None, sig(True, T0), T0, FLAP).alert.evolve(id=1)
    acked = lifecycle.acknowledge(opened, "user:2", T0)
    assert acked.alert.state == AlertState.ACKNOWLEDGED and acked.alert.acknowledged_by == "user:2"
    with pytest.raises(lifecycle.IllegalAction):
        lifecycle.acknowledge(acked.alert, "user:2", T0)
    resolved = lifecycle.resolve(acked.alert, "user:2", T0)
    with pytest.raises(lifecycle.IllegalAction):
        lifecycle.resolve(resolved.alert, "user:2", T0)
