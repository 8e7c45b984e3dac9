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


class RobotSettings(BaseModel):
    """What every group robot channel has: the vendor's address, timeouts, rate limits."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(
        "", title="Base URL", description="The vendor's API address (tests, private clouds)."
    )
    timeout_s: float = Field(
        10.0, gt=0, le=120, title="Timeout", description="Seconds per request."
    )
    per_minute: int = Field(
        20,
        ge=1,
        le=600,
        title="Messages a minute",
        description="Most messages one robot is sent in any 60 s (the vendor's limit); more are batched, never dropped.",
    )
    burst: int = Field(
        5,
        ge=1,
        le=600,
        title="Burst",
        description="Messages sent at once before the rest of the minute's allowance is spread out.",
    )
    max_bytes: int = Field(
        3800,
        ge=500,
        le=20000,
        title="Longest message",
        description="UTF-8 bytes of one message (a batch stops growing here).",
    )

    @field_validator("base_url")
    @classmethod
    def _check_base(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class WecomRobot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: SecretStr = Field(..., title="Key", description="The `key` of the robot's webhook URL.")


class WecomSettings(RobotSettings):
    base_url: str = Field("https://qyapi.weixin.qq.com", title="Base URL")
    robots: dict[str, WecomRobot] = Field(
        default_factory=dict,
        title="Robots",
        description="Robot name (the receiver's target) -> its key.",
    )


class SignedRobot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: SecretStr | None = Field(
        None,
        title="Signing secret",
        description="The robot's signing secret (SEC...); unsigned when unset.",
    )


class DingtalkRobot(SignedRobot):
    access_token: SecretStr = Field(..., title="Access token", description="From the robot's URL.")


class DingtalkSettings(RobotSettings):
    base_url: str = Field("https://oapi.dingtalk.com", title="Base URL")
    robots: dict[str, DingtalkRobot] = Field(
        default_factory=dict,
        title="Robots",
        description="Robot name (the receiver's target) -> access token and signing secret.",
    )


class FeishuRobot(SignedRobot):
    hook: SecretStr = Field(
        ..., title="Hook id", description="The last part of the bot's webhook URL."
    )


class FeishuSettings(RobotSettings):
    base_url: str = Field(
        "https://open.feishu.cn", title="Base URL", description="Lark: https://open.larksuite.com."
    )
    per_minute: int = Field(100, ge=1, le=600, title="Messages a minute")
    robots: dict[str, FeishuRobot] = Field(
        default_factory=dict,
        title="Robots",
        description="Robot name (the receiver's target) -> hook id and signing secret.",
    )


class TemplateSmsSettings(BaseModel):
    """Mainland SMS: only templates approved in advance, per tier, kind and language."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field("", title="Base URL", description="The vendor's API address.")
    sign_name: str = Field("", title="Sign name", description="The approved signature (签名).")
    templates: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        title="Templates",
        description=(
            "Language (zh-CN, en) -> key -> approved template id. Keys: a kind of"
            " alerts.channels.sms_templates (alert, resolved, escalation, rectification,"
            " plan_overdue, card, on_demand_withdrawn), a tier (P1..P4, INFO, T1..T3: an"
            " alert of that tier) or kind.tier; the most specific wins."
        ),
    )
    fallback_locale: str = Field(
        "zh-CN", title="Fallback language", description="Templates used when a language has none."
    )
    timeout_s: float = Field(
        10.0, gt=0, le=120, title="Timeout", description="Seconds per request."
    )

    @field_validator("templates")
    @classmethod
    def _check_keys(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        from brightwatch.alerts.channels.sms_templates import check_template_key

        for table in value.values():
            for key in table:
                check_template_key(key)
        return value


class AliyunSmsSettings(TemplateSmsSettings):
    base_url: str = Field("https://dysmsapi.aliyuncs.com", title="Base URL")
    access_key_id: str = Field("", title="AccessKey ID")
    access_key_secret: SecretStr = Field(SecretStr(""), title="AccessKey secret")
    region: str = Field("cn-hangzhou", title="Region")


class TencentSmsSettings(TemplateSmsSettings):
    base_url: str = Field("https://sms.tencentcloudapi.com", title="Base URL")
    secret_id: str = Field("", title="SecretId")
    secret_key: SecretStr = Field(SecretStr(""), title="SecretKey")
    region: str = Field("ap-guangzhou", title="Region")
    sdk_app_id: str = Field(
        "", title="SmsSdkAppId", description="The SMS application's id (1400...)."
    )
    params: dict[str, list[str]] = Field(
        default_factory=dict,
        title="Parameter order",
        description=(
            "Template id -> names of its {1}, {2}, ... parameters (Tencent's are positional);"
            " default: the kind's parameters in alerts.channels.sms_templates order."
        ),
    )


class ChannelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook: WebhookSettings = Field(default_factory=WebhookSettings, title="Webhook")
    mqtt: MqttChannelSettings = Field(default_factory=MqttChannelSettings, title="MQTT")
    email: EmailSettings = Field(default_factory=EmailSettings, title="E-mail (SMTP)")
    sms: SmsSettings = Field(default_factory=SmsSettings, title="SMS gateway (HTTP)")
    wecom: WecomSettings = Field(default_factory=WecomSettings, title="WeCom group robots")
    dingtalk: DingtalkSettings = Field(default_factory=DingtalkSettings, title="DingTalk robots")
    feishu: FeishuSettings = Field(default_factory=FeishuSettings, title="Feishu / Lark bots")
    aliyun_sms: AliyunSmsSettings = Field(default_factory=AliyunSmsSettings, title="Aliyun SMS")
    tencent_sms: TencentSmsSettings = Field(
        default_factory=TencentSmsSettings, title="Tencent Cloud SMS"
    )
