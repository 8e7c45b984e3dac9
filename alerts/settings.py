"""Settings of alert handling (section `[alerts]`, env `BW_ALERTS__...`).

Sub-sections, each defined beside the code it configures: `[alerts.notify]` routing,
receivers, inhibition and escalation (alerts.routing.settings), `[alerts.channels]`
webhook / MQTT / e-mail / SMS (alerts.channels.settings), `[alerts.review]` the kitchen
review and rectification loop (alerts.review.settings), `[alerts.stats]` kitchen
statistics (alerts.stats.settings), `[alerts.tickets]` tickets and SLA clocks
(alerts.tickets.settings), `[alerts.upstream]` upstream reporting
(alerts.upstream.settings).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from brightwatch.alerts.channels.settings import ChannelSettings
from brightwatch.alerts.review.settings import ReviewSettings
from brightwatch.alerts.routing.settings import NotifySettings
from brightwatch.alerts.stats.settings import StatsSettings
from brightwatch.alerts.tickets.settings import TicketSettings
from brightwatch.alerts.upstream.settings import UpstreamSettings


class AlertSettings(BaseModel):
    flap_window_s: int = Field(
        60,
        ge=0,
        le=86_400,
        title="Flap window",
        description=(
            "A fault that clears and raises again within this many seconds reopens the same "
            "alert and increments its count instead of opening a new one (elevators.md)."
        ),
    )
    outbox_batch: int = Field(
        500,
        ge=1,
        le=10_000,
        title="Outbox batch",
        description="Most outgoing MQTT messages relayed per database round trip.",
    )
    notify: NotifySettings = Field(default_factory=NotifySettings, title="Notifications")
    channels: ChannelSettings = Field(default_factory=ChannelSettings, title="Channels")
    review: ReviewSettings = Field(default_factory=ReviewSettings, title="Kitchen review")
    stats: StatsSettings = Field(default_factory=StatsSettings, title="Kitchen statistics")
    tickets: TicketSettings = Field(
        default_factory=TicketSettings, title="Tickets", description="Tickets and SLA clocks."
    )
    upstream: UpstreamSettings = Field(
        default_factory=UpstreamSettings,
        title="Upstream reporting",
        description="Export windows pushed to an upstream platform's HTTP endpoint.",
    )
