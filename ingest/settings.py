"""Settings of the ingest worker (section `[ingest]`, env `BW_INGEST__...`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from brightwatch.mqttlink.kinds import CONSUMER_KIND_DESCRIPTION, ConsumerKind


class IngestSettings(BaseModel):
    batch_size: int = Field(
        5000,
        ge=1,
        le=100_000,
        title="Batch size",
        description="Most messages written to the database in one transaction.",
    )
    batch_wait_ms: int = Field(
        50,
        ge=1,
        le=10_000,
        title="Batch wait",
        description="Longest time a message waits for its batch to fill before it is written.",
    )
    receive_maximum: int = Field(
        20_000,
        ge=10,
        le=65_535,
        title="MQTT receive maximum",
        description=(
            "Unacknowledged QoS 1 messages the broker may have in flight to one worker. "
            "Messages are acknowledged only after their batch is committed, so this bounds "
            "both memory and the size of a batch."
        ),
    )
    max_future_skew_s: int = Field(
        86_400,
        ge=0,
        title="Largest accepted clock lead",
        description="Messages stamped further ahead of the server clock are dead-lettered.",
    )
    dead_letter_max_bytes: int = Field(
        4096,
        ge=0,
        le=1_048_576,
        title="Dead-letter payload cap",
        description="Bytes of a rejected payload kept in the dead-letter table (every"
        " consumer: ingest, rules, vision, the outbox relay).",
    )
    dead_letters_per_device_hour: int = Field(
        100,
        ge=1,
        le=1_000_000,
        title="Dead letters stored per device and hour",
        description="More dead letters of one device within an hour are only counted"
        " (table dead_letter_suppressed, metric brightwatch_dead_letters_suppressed_total),"
        " so a broken device or an attacker cannot flood the table.",
    )
    partitions_ahead_days: int = Field(
        7,
        ge=1,
        le=90,
        title="Partitions created ahead",
        description="Daily partitions of the time-series tables kept ready ahead of today.",
    )
    raw_retention_days: int = Field(
        400,
        ge=1,
        title="Raw telemetry retention",
        description="Days of raw elevator status, events and stats kept (rollups are kept longer).",
    )
    dead_letter_retention_days: int = Field(
        30,
        ge=1,
        title="Dead-letter retention",
        description="Days dead letters (and the counts of suppressed ones) are kept.",
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        title="Ingest processes",
        description="Ingest worker processes started by `serve`; more than one requires BW_SHARE_GROUP.",
    )
    mqtt_client: ConsumerKind = Field(
        "stream", title="MQTT client of the ingest worker", description=CONSUMER_KIND_DESCRIPTION
    )
    max_backlog_mb: int = Field(
        256,
        ge=8,
        le=16_384,
        title="Receive backlog cap",
        description=(
            "Payload megabytes received but not yet written before the worker stops reading "
            "from the broker (backpressure through TCP; the stream client only)."
        ),
    )
    registry_refresh_s: int = Field(
        300,
        ge=5,
        le=86_400,
        title="Registry refresh",
        description="Seconds between full reloads of the known-device cache (catches deletions).",
    )
    unknown_recheck_s: int = Field(
        10,
        ge=0,
        le=3_600,
        title="Unknown device recheck",
        description=(
            "Seconds an unknown device stays known-unknown before the registry is asked again, "
            "so a device registered through the API is accepted that much later at most."
        ),
    )
    rollup_refresh_s: int = Field(
        60,
        ge=1,
        le=3_600,
        title="Rollup refresh interval",
        description="Seconds between refreshes of the hourly status rollup (native PostgreSQL).",
    )
    maintenance_interval_s: int = Field(
        3_600,
        ge=10,
        le=86_400,
        title="Partition upkeep interval",
        description="Seconds between checks that daily partitions exist ahead; retention runs daily.",
    )
