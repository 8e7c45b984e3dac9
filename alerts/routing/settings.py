"""Settings of notification routing (section `[alerts.notify]`).

The shape follows Alertmanager's configuration, so operators who know it read it at
once: a routing tree of matchers with group_by / group_wait / group_interval /
repeat_interval, receivers made of channel integrations, inhibition rules; and what
Alertmanager lacks: escalation chains by severity for unacknowledged alerts.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from brightwatch.alerts.routing.matchers import Matcher, MatcherError
from brightwatch.contract.codes import CAMERA_HEALTH, Severity
from brightwatch.contract.topics import notice_topic
from brightwatch.i18n import LOCALES, normalise

# a camera that cannot see (contract.codes.CAMERA_HEALTH), as a matcher pattern
CAMERA_HEALTH_RE = "|".join(sorted(CAMERA_HEALTH, reverse=True))


def _check_matchers(items: list[str]) -> list[str]:
    for text in items:
        try:
            Matcher.parse(text)
        except MatcherError as exc:
            raise ValueError(str(exc)) from None
    return items


class Integration(BaseModel):
    """One way a receiver is reached: a channel plugin and its target."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(
        ...,
        title="Channel",
        description="Channel plugin key: webhook, mqtt, email, sms (alerts.channels).",
    )
    target: str = Field(
        ...,
        min_length=1,
        max_length=2000,
        title="Target",
        description=(
            "URL, MQTT topic, e-mail address or phone number. May hold placeholders filled "
            "from the notification: {site_id}, {district}, {device_id}, {kind}, {code}, "
            "{topic_root}, and {contact.KEY} from the site's registry entry (extra.contact). "
            "An MQTT target is a topic the service publishes, below {topic_root} "
            "(contract.topics.TOPICS; the broker's ACL refuses others): "
            "{topic_root}/notices/{site_id}."
        ),
    )
    send_resolved: bool = Field(
        True,
        title="Send resolved",
        description="Also notify when the alerts of a group are resolved.",
    )
    locale: str | None = Field(
        None,
        title="Language",
        description=(
            "Language of the e-mail and SMS texts of this integration (zh-CN or en); "
            "unset: the deployment's BW_LOCALE. Machine payloads are not translated."
        ),
    )

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str | None) -> str | None:
        if value is None:
            return None
        found = normalise(value)
        if found is None:
            raise ValueError(f"unknown language {value!r}; one of {', '.join(LOCALES)}")
        return found

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str) -> str:
        from brightwatch.alerts.channels import known_channels

        known = known_channels()
        if value not in known:
            raise ValueError(f"unknown channel {value!r}; known: {', '.join(sorted(known))}")
        return value

    @model_validator(mode="after")
    def _mqtt_target_declared(self) -> Integration:
        # the broker's ACL only lets the service publish the contract's topics
        if self.channel == "mqtt":
            from brightwatch.alerts.channels.mqtt_target import check_target

            check_target(self.target)
        return self


class RouteSettings(BaseModel):
    """A node of the routing tree. Unset fields are inherited from the parent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(
        "", max_length=100, title="Name", description="Shown in group keys and history."
    )
    matchers: list[str] = Field(
        default_factory=list,
        title="Matchers",
        description=(
            "All must match the alert's labels: name=value, name!=value, name=~regex, "
            "name!~regex. Labels: alertname (= code), kind, code, severity, device_id, "
            "site_id, location, district, firm_id, camera_id, zone, notice, ..."
        ),
    )
    receiver: str | None = Field(None, title="Receiver", description="Receiver name.")
    group_by: list[str] | None = Field(
        None,
        title="Group by",
        description="Labels whose values form a group; '...' groups by all labels.",
    )
    group_wait_s: int | None = Field(
        None,
        ge=0,
        le=86_400,
        title="Group wait",
        description="Wait before the first notification of a new group, collecting related alerts.",
    )
    group_interval_s: int | None = Field(
        None,
        ge=1,
        le=86_400,
        title="Group interval",
        description="Wait before notifying about changes of a group already notified.",
    )
    repeat_interval_s: int | None = Field(
        None,
        ge=60,
        le=30 * 86_400,
        title="Repeat interval",
        description="Re-notify a group while it holds firing, unacknowledged alerts.",
    )
    continue_: bool = Field(
        False,
        alias="continue",
        title="Continue",
        description="After this route matches, keep trying its next siblings.",
    )
    routes: list[RouteSettings] = Field(default_factory=list, title="Child routes")

    _v_matchers = field_validator("matchers")(classmethod(lambda cls, v: _check_matchers(v)))

    def receivers(self) -> set[str]:
        own = {self.receiver} if self.receiver else set()
        return own.union(*(r.receivers() for r in self.routes))


class InhibitRule(BaseModel):
    """While a source alert is open, matching target alerts are not notified."""

    model_config = ConfigDict(extra="forbid")

    source_matchers: list[str] = Field(..., min_length=1, title="Source matchers")
    target_matchers: list[str] = Field(..., min_length=1, title="Target matchers")
    equal: list[str] = Field(
        default_factory=list,
        title="Equal labels",
        description="Labels that must have the same value in source and target (the same elevator, the same camera).",
    )

    _v = field_validator("source_matchers", "target_matchers")(
        classmethod(lambda cls, v: _check_matchers(v))
    )


class EscalationStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after_s: int = Field(
        ...,
        ge=0,
        le=30 * 86_400,
        title="After",
        description="Seconds after the alert opened, still unacknowledged.",
    )
    receiver: str = Field(..., title="Receiver", description="Who is notified at this step.")


def _default_route() -> RouteSettings:
    return RouteSettings(
        name="root",
        receiver="default",
        group_by=["kind", "location"],
        group_wait_s=30,
        group_interval_s=300,
        repeat_interval_s=4 * 3600,
        routes=[
            # elevators.md, on-demand maintenance: two trapped faults in 30 days withdraw the
            # elevator's on-demand status and the bureau is notified
            RouteSettings(
                name="on-demand-withdrawn",
                matchers=["notice=on_demand_withdrawn"],
                receiver="bureau-duty",
                group_by=["elevator_id"],
                group_wait_s=0,
            ),
            # kitchen notices (rectification, late plan, cards) go to the operator at once
            RouteSettings(
                name="notices",
                matchers=["notice=~.+"],
                receiver="kitchen-operator",
                group_by=["notice", "review_id"],
                group_wait_s=0,
            ),
            # elevators.md, Tickets: a rescue not there in 30 min notifies the bureau at once
            RouteSettings.model_validate(
                {
                    "name": "rescue-late",
                    "matchers": [
                        "code=TICKET_SLA_BREACH",
                        "ticket_type=rescue",
                        "sla_step=arrived",
                    ],
                    "receiver": "bureau-duty",
                    "group_by": ["ticket_id"],
                    "group_wait_s": 0,
                    "continue": True,
                }
            ),
            # life safety and T1 (rodents) must not wait for a burst to gather
            RouteSettings(
                name="urgent",
                matchers=["severity=~P1|T1"],
                group_wait_s=0,
                group_interval_s=60,
                repeat_interval_s=900,
            ),
        ],
    )


def _default_inhibit_rules() -> list[InhibitRule]:
    return [
        # elevators.md: while POWER_FAIL is active, door faults caused by the outage are inhibited
        InhibitRule(
            source_matchers=["kind=elevator", "code=POWER_FAIL"],
            target_matchers=["kind=elevator", "code=~DOOR_CLOSE_FAIL|DOOR_OPEN_FAIL|DOOR_CYCLING"],
            equal=["device_id"],
        ),
        # a camera that sends no frames (or only a blocked view) cannot support its violations
        InhibitRule(
            source_matchers=["kind=kitchen", f"code=~{CAMERA_HEALTH_RE}"],
            target_matchers=["kind=kitchen", f"code!~{CAMERA_HEALTH_RE}"],
            equal=["site_id", "device_id"],
        ),
    ]


def _default_escalations() -> dict[Severity, list[EscalationStep]]:
    return {Severity.P1: [EscalationStep(after_s=300, receiver="bureau-duty")]}


def _default_receivers() -> dict[str, list[Integration]]:
    return {
        "default": [],
        "bureau-duty": [],
        # the operator's app or screen subscribes to its site's notices
        "kitchen-operator": [
            Integration(channel="mqtt", target=notice_topic("{topic_root}", "{site_id}"))
        ],
    }


class NotifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_url: str = Field(
        "http://127.0.0.1:8000",
        title="External URL",
        description="Base URL of the console as receivers reach it (links in notifications, Alertmanager externalURL).",
    )
    route: RouteSettings = Field(
        default_factory=_default_route,
        title="Routing tree",
        description="The root route must name a receiver and all timings.",
    )
    receivers: dict[str, list[Integration]] = Field(
        default_factory=_default_receivers,
        title="Receivers",
        description="Receiver name -> integrations. A receiver without integrations records the notification in the history only.",
    )
    inhibit_rules: list[InhibitRule] = Field(
        default_factory=_default_inhibit_rules, title="Inhibition rules"
    )
    escalations: dict[Severity, list[EscalationStep]] = Field(
        default_factory=lambda: {
            Severity.P1: [EscalationStep(after_s=300, receiver="bureau-duty")]
        },
        title="Escalation chains",
        description="Severity -> steps notifying further receivers while the alert stays unacknowledged.",
    )
    tick_s: float = Field(
        1.0,
        gt=0,
        le=60,
        title="Tick",
        description="How often the notification clocks look for due work.",
    )
    mute_recheck_s: int = Field(
        60,
        ge=1,
        le=3600,
        title="Mute re-check",
        description="How soon a muted (silenced or inhibited) alert's escalation is looked at again.",
    )

    @field_validator("receivers", "escalations", mode="before")
    @classmethod
    def _over_defaults(cls, value: object, info: ValidationInfo) -> object:
        # named entries merge onto the defaults (set `P1 = []` to drop the default chain)
        if not isinstance(value, dict):
            return value
        defaults = (
            _default_receivers() if info.field_name == "receivers" else _default_escalations()
        )
        return {**defaults, **value}

    @model_validator(mode="after")
    def _check_tree(self) -> NotifySettings:
        root = self.route
        missing = [
            f
            for f in (
                "receiver",
                "group_by",
                "group_wait_s",
                "group_interval_s",
                "repeat_interval_s",
            )
            if getattr(root, f) is None
        ]
        if missing:
            raise ValueError(f"the root route must set {', '.join(missing)}")
        if root.matchers:
            raise ValueError("the root route matches every alert: it takes no matchers")
        used = root.receivers() | {s.receiver for steps in self.escalations.values() for s in steps}
        unknown = sorted(used - set(self.receivers))
        if unknown:
            raise ValueError(f"receivers used but not defined: {', '.join(unknown)}")
        for severity, steps in self.escalations.items():
            delays = [s.after_s for s in steps]
            if delays != sorted(delays):
                raise ValueError(
                    f"escalation chain {severity}: steps must be in increasing after_s"
                )
        return self

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
