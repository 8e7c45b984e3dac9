"""Settings of the notification channels (section `[alerts.channels]`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(
        5.0, gt=0, le=120, title="Timeout", description="Seconds per HTTP request."
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        title="Extra headers",
        description="Sent with every webhook request (e.g. a static authorisation header).",
    )


class MqttChannelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qos: Literal[0, 1, 2] = Field(1, title="QoS", description="QoS of published notifications.")
    retain: bool = Field(False, title="Retain", description="Publish notifications retained.")
    timeout_s: float = Field(
        10.0,
        gt=0,
        le=120,
        title="Timeout",
        description="Seconds to wait for the broker's acknowledgement.",
    )


class EmailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", title="SMTP host", description="Mail server (submission) host.")
    port: int = Field(
        25, ge=1, le=65535, title="SMTP port", description="25 / 587 (STARTTLS) / 465 (SSL)."
    )
    security: Literal["none", "starttls", "ssl"] = Field(
        "none",
        title="Transport security",
        description="none: plain SMTP (loopback relays only); starttls: upgrade after EHLO; ssl: TLS from the start (SMTPS).",
    )
    username: str | None = Field(
        None, title="User name", description="SMTP AUTH user; no AUTH when unset."
    )
    password: SecretStr | None = Field(None, title="Password", description="SMTP AUTH password.")
    sender: str = Field(
        "brightwatch@localhost", title="From", description="Envelope and header sender address."
    )
    timeout_s: float = Field(
        10.0, gt=0, le=120, title="Timeout", description="Seconds per SMTP session."
    )
    verify_tls: bool = Field(
        True, title="Verify TLS", description="Check the server certificate (STARTTLS and SSL)."
    )


class SmsSettings(BaseModel):
    """A generic SMS gateway reached over HTTP (every vendor differs: all is templated)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        "",
        title="Gateway URL",
        description="URL template; {to} and {text} are replaced (URL-encoded). Empty: the channel refuses to send.",
    )
    method: Literal["POST", "GET"] = Field("POST", title="Method", description="HTTP method.")
    body_format: Literal["json", "form", "none"] = Field(
        "json",
        title="Body format",
        description="How `body` is sent (none: parameters in the URL only).",
    )
    body: dict[str, str] = Field(
        default_factory=lambda: {"to": "{to}", "text": "{text}"},
        title="Body template",
        description="Fields of the request body; values may hold {to} and {text}.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict, title="Headers", description="Extra request headers."
    )
    auth_header: SecretStr | None = Field(
        None,
        title="Authorization header",
        description="Value of the Authorization header (e.g. 'Bearer ...'); kept out of logs.",
    )
    success_field: str | None = Field(
        None,
        title="Success field",
        description="Many gateways answer 200 with an error code in JSON: this dotted field must equal `success_value`.",
    )
    success_value: str = Field(
        "OK", title="Success value", description="Expected value of `success_field`."
    )
    max_chars: int = Field(
        300,
        ge=20,
        le=2000,
        title="Longest text",
        description="Messages are cut to this many characters.",
    )
    timeout_s: float = Field(
        10.0, gt=0, le=120, title="Timeout", description="Seconds per request."
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL template")
        return value


class ChannelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook: WebhookSettings = Field(default_factory=WebhookSettings, title="Webhook")
    mqtt: MqttChannelSettings = Field(default_factory=MqttChannelSettings, title="MQTT")
    email: EmailSettings = Field(default_factory=EmailSettings, title="E-mail (SMTP)")
    sms: SmsSettings = Field(default_factory=SmsSettings, title="SMS gateway (HTTP)")
