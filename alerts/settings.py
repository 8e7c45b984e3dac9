"""Settings of the alert core (section `[alerts]`, env `BW_ALERTS__...`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
