"""Settings of upstream reporting (section `[alerts.upstream]`, env `BW_ALERTS__UPSTREAM__...`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr


class UpstreamSettings(BaseModel):
    url: str | None = Field(
        None,
        title="Receiver URL",
        description="The upstream platform's HTTP endpoint; export windows are POSTed here as JSON.",
    )
    token: SecretStr | None = Field(
        None, title="Bearer token", description="Sent as `Authorization: Bearer ...` when set."
    )
    hmac_secret: SecretStr | None = Field(
        None,
        title="HMAC secret",
        description=(
            "When set, every push carries `X-Brightwatch-Timestamp` and `X-Brightwatch-Signature:"
            " sha256=hex(HMAC-SHA256(secret, timestamp + '.' + body))`."
        ),
    )
    platform: str = Field(
        "gb2017",
        title="Elevator code table",
        description="The platform name of the elevator export.",
    )
    mapping_file: Path | None = Field(
        None,
        title="Code table file",
        description=(
            "A TOML code table (the format of alerts/upstream/gb2017.toml) that replaces the"
            " built-in one of `platform`: supply the platform's real table here."
        ),
    )
    timeout_s: float = Field(10.0, gt=0, le=300, title="HTTP timeout (s)")
    max_attempts: int = Field(
        8, ge=1, le=100, title="Attempts", description="Then the row is a dead letter."
    )
    backoff_base_s: float = Field(
        30.0, ge=0, le=3600, title="Backoff base (s)", description="Doubled after each failure."
    )
    backoff_max_s: float = Field(3600.0, ge=0, le=86_400, title="Backoff cap (s)")
    batch: int = Field(20, ge=1, le=1000, title="Rows claimed per round")
    poll_s: float = Field(30.0, gt=0, le=3600, title="Poll interval of `upstream push` (s)")
