"""The contract's topic table: the builders, the subscription filters, the hand-written
device topic parser and the broker's grants all agree with it."""

from __future__ import annotations

import pytest

from brightwatch.contract.topics import (
    CAMERA_CHANNELS,
    ELEVATOR_CHANNELS,
    ROLE_SCOPE,
    TOPIC_SPECS,
    TOPICS,
    Channel,
    DeviceKind,
    Role,
    TopicError,
    alert_topic,
    camera_filters,
    camera_topic,
    elevator_filters,
    elevator_topic,
    grants,
    notice_topic,
    parse_device_topic,
    ticket_topic,
)

ROOT = "city/bw"  # the root may hold several levels


def test_builders_are_the_tables_topics() -> None:
    for c in ELEVATOR_CHANNELS:
        assert elevator_topic(ROOT, "E1", c) == f"city/bw/elevators/E1/{c}"
        assert elevator_topic(ROOT, "E1", c) == TOPIC_SPECS[f"elevator_{c}"].topic(
            ROOT, elevator_id="E1"
        )
    for c in CAMERA_CHANNELS:
        assert camera_topic(ROOT, "K1", "C1", c) == f"city/bw/kitchens/K1/cameras/C1/{c}"
    assert alert_topic(ROOT, "kitchen", "C1") == "city/bw/alerts/kitchen/C1"
    assert ticket_topic(ROOT, "F1", 42) == "city/bw/tickets/F1/42"
    assert notice_topic(ROOT, "K1") == "city/bw/notices/K1"
    assert elevator_filters(ROOT) == [f"city/bw/elevators/+/{c}" for c in ELEVATOR_CHANNELS]
    assert camera_filters(ROOT, (Channel.AVAILABILITY,)) == [
        "city/bw/kitchens/+/cameras/+/availability"
    ]


def test_a_channel_outside_the_table_has_no_topic() -> None:
    with pytest.raises(TopicError, match="debug"):
        elevator_topic(ROOT, "E1", "debug")
    with pytest.raises(TopicError):
        camera_topic(ROOT, "K1", "C1", Channel.STATUS)


def test_every_device_topic_of_the_table_parses_back() -> None:
    device_specs = [
        s for s in TOPICS if Role.ELEVATOR in s.publishers or Role.CAMERA in s.publishers
    ]
    assert len(device_specs) == len(ELEVATOR_CHANNELS) + len(CAMERA_CHANNELS)
    for spec in device_specs:
        parsed = parse_device_topic(
            ROOT, spec.topic(ROOT, elevator_id="E1", site_id="K1", camera_id="C1")
        )
        if spec.name.startswith("elevator_"):
            assert (parsed.kind, parsed.device_id, parsed.site_id) == (
                DeviceKind.ELEVATOR,
                "E1",
                None,
            )
        else:
            assert (parsed.kind, parsed.device_id, parsed.site_id) == (
                DeviceKind.CAMERA,
                "C1",
                "K1",
            )
        assert spec.name.endswith(parsed.channel)
    for spec in TOPICS:
        if spec not in device_specs:
            with pytest.raises(TopicError):
                parse_device_topic(ROOT, spec.filter(ROOT).replace("+", "X1"))


def test_every_topic_has_a_publisher_and_a_reader_and_scoped_roles_hold_their_ids() -> None:
    assert len({s.name for s in TOPICS}) == len(TOPICS)
    assert len({s.pattern for s in TOPICS}) == len(TOPICS)
    for spec in TOPICS:
        assert spec.publishers and spec.readers, spec.name
        for role in (*spec.publishers, *spec.readers):
            # a scoped role on a topic without its ids would be granted everyone's
            assert set(ROLE_SCOPE.get(role, ())) <= set(spec.fields), (spec.name, role)


def test_service_publishes_alerts_tickets_and_notices() -> None:
    published = {s.name for s in TOPICS if Role.ALERTS in s.publishers}
    assert published == {"alert", "ticket", "notice"}
    assert TOPIC_SPECS["notice"].readers == (Role.OPERATOR,)


def test_grants_are_scoped_to_the_roles_own_ids() -> None:
    assert grants(ROOT, Role.OPERATOR, site_id="K1") == [("city/bw/notices/K1", False, True)]
    e1 = grants(ROOT, Role.ELEVATOR, elevator_id="E1")
    assert {f for f, _, _ in e1} == {f"city/bw/elevators/E1/{c}" for c in ELEVATOR_CHANNELS}
    assert all(pub and not read for _, pub, read in e1)
    cam = grants(ROOT, Role.CAMERA, site_id="K1", camera_id="C1")
    assert all("+" not in f and "/K1/cameras/C1/" in f for f, _, _ in cam)
    assert ("city/bw/notices/+", True, False) in grants(ROOT, Role.ALERTS)
    with pytest.raises(ValueError, match="site_id"):
        grants(ROOT, Role.OPERATOR)


@pytest.mark.parametrize(
    ("levels", "admitted"),
    [
        (["notices", "{site_id}"], True),
        (["notices", "K1"], True),
        (["notices", "+"], False),
        (["notices", "K1", "extra"], False),
        (["notify", "{site_id}"], False),
        (["notices"], False),
    ],
)
def test_what_falls_under_the_notice_topic(levels: list[str], admitted: bool) -> None:
    assert TOPIC_SPECS["notice"].admits(levels) is admitted
