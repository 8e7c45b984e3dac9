"""One typed settings model for the whole service (interfaces.md, Configuration).

Values come, highest priority first, from keyword arguments, `BW_` environment
variables (nested sections with `__`, e.g. `BW_INGEST__BATCH_SIZE`), the TOML file named
by `BW_CONFIG` (same structure: top-level keys and `[ingest]`, `[elevators]`, ...
sections holding per-site and per-elevator settings), and the defaults below. A wrong
value stops start-up with a message naming the variable.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from brightwatch.alerts.settings import AlertSettings
from brightwatch.api.settings import ApiSettings
from brightwatch.db.timescale import Fleet, Plan, plan_for
from brightwatch.edge.settings import EdgeSettings
from brightwatch.elevators.settings import ElevatorSettings
from brightwatch.i18n import DEFAULT_LOCALE, DEFAULT_TIMEZONE, LOCALES, check_zone, normalise
from brightwatch.ingest.settings import IngestSettings
from brightwatch.vision.settings import VisionSettings

ENV_PREFIX = "BW_"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "brightwatch"


def _check_host_port(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must be host:port")
    return value


class HealthSettings(BaseModel):
    """When a component counts as stuck, and how processes report it (section `[health]`).

    The defaults show a stuck rules worker within a minute (quality.md): a batch failing
    for `failing_after_s`, or messages waiting with no good batch for `stalled_after_s`,
    is seen by the process at once and by the API's /healthz within a heartbeat."""

    failing_after_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        title="Stuck after failing for",
        description="A component whose batches (or loop passes) have failed without a good one in between for this long is stuck.",
    )
    stalled_after_s: float = Field(
        45.0,
        gt=0,
        le=3600,
        title="Stuck after waiting work for",
        description="A component with messages waiting and no good batch for this long is stuck (idle with nothing waiting is healthy). Keep it above the longest normal batch.",
    )
    heartbeat_interval_s: float = Field(
        5.0,
        gt=0,
        le=300,
        title="Heartbeat interval",
        description="How often each process writes its components' progress to the component_heartbeat table (what the API's /healthz shows of the whole system).",
    )
    heartbeat_stale_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        title="Silent after",
        description="A replica whose heartbeat is older than this is reported silent (stopped or hung) by the API's /healthz.",
    )
    heartbeat_forget_s: float = Field(
        3600.0,
        gt=0,
        title="Forget after",
        description="Heartbeats older than this are deleted: the replica was removed or replaced. A clean stop deletes its own at once.",
    )
    watchdog_s: float = Field(
        120.0,
        ge=0,
        le=3600,
        title="Frozen process exits after",
        description="A process in which no Python thread has run for this long (a native deadlock holding the interpreter, which no component can report) prints every thread's stack and exits (status 1), for its supervisor (compose, systemd) to start it again. 0: off.",
    )


# ---------------------------------------------------------------- fleet size (issue 16)


class FleetSettings(BaseModel):
    """The size of the fleet the database is sized for (section `[fleet]`,
    `BW_FLEET__...`): `brightwatch migrate` derives TimescaleDB's chunk interval and
    columnstore policy from it (db/timescale.py)."""

    elevators: int = Field(
        1000,
        ge=1,
        le=10_000_000,
        title="Elevators",
        description="Elevators the deployment is sized for; sets the TimescaleDB chunk interval (chunks of all telemetry tables together about 25 % of the database node's memory).",
    )
    cameras: int = Field(
        100,
        ge=0,
        le=10_000_000,
        title="Cameras",
        description="Kitchen cameras the deployment is sized for (capacity planning; frames are not stored in the database).",
    )
    db_memory_gb: float = Field(
        16.0,
        gt=0,
        le=65_536,
        title="Database node memory (GiB)",
        description="Main memory of the PostgreSQL/TimescaleDB node, which the chunk interval is sized against.",
    )
    compress_after_days: int = Field(
        7,
        ge=1,
        le=3650,
        title="Compress after (days)",
        description="Age at which TimescaleDB moves telemetry chunks to the columnstore (at least one chunk interval). Late samples into compressed chunks are accepted but cost more.",
    )


def timescale_plan(settings: Settings) -> Plan:
    """The TimescaleDB chunk interval and jobs for the configured fleet."""
    return plan_for(
        Fleet(
            elevators=settings.fleet.elevators,
            db_memory_bytes=int(settings.fleet.db_memory_gb * 2**30),
            raw_retention_days=settings.ingest.raw_retention_days,
            compress_after=timedelta(days=settings.fleet.compress_after_days),
        )
    )


# ---------------------------------------------------------------- end of fleet size


def local_host(host: str) -> str:
    """The address a client on this machine dials for a server bound to `host`: loopback
    for a wildcard (`0.0.0.0`, `::`, or none), else `host` itself."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    database_url: SecretStr = Field(
        SecretStr("postgresql://127.0.0.1:5432/brightwatch"),
        title="Database URL",
        description="postgresql://user:password@host:port/dbname of the PostgreSQL/TimescaleDB store.",
    )
    mqtt_url: SecretStr = Field(
        SecretStr("mqtt://127.0.0.1:1883"),
        title="MQTT broker URL",
        description="mqtt://user:pass@host:port, or mqtts:// for TLS.",
    )
    mqtt_protocol: Literal["5", "3.1.1"] = Field(
        "5",
        title="MQTT protocol of the service's own clients",
        description="Devices may use either; the service prefers 5 (shared subscriptions, receive maximum).",
    )
    mqtt_ca_file: Path | None = Field(
        None, title="MQTT CA file", description="CA bundle for mqtts:// (system CAs when unset)."
    )
    http_addr: str = Field(
        "127.0.0.1:8000",
        title="HTTP listen address",
        description="host:port of the API and console.",
    )
    metrics_addr: str | None = Field(
        None,
        title="Metrics and health address",
        description="host:port where this process serves /metrics and /healthz (its own components only); for processes without the API. Unset: not served.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        title="Data folder",
        description="Evidence images, spools and embedded services' data.",
    )
    model: str = Field(
        "coco",
        title="Detector model",
        description="A model file (.onnx, or .pt with the ultralytics extra) or a configured model name.",
    )
    topic_root: str = Field(
        "bw", title="MQTT topic root", description="First level(s) of every topic of the contract."
    )
    share_group: str | None = Field(
        None,
        title="Shared subscription group",
        description="When set, workers subscribe through $share/<group>/... and split the load.",
    )
    unknown_devices: Literal["accept", "quarantine"] = Field(
        "quarantine",
        title="Unknown devices",
        description="accept: auto-register devices the registry does not know; quarantine: dead-letter their messages.",
    )
    instance: str = Field(
        "bw",
        title="Instance name",
        description=(
            "The replica's stable name: prefix of its MQTT client ids, its name in the"
            " heartbeat table and the owner of its partition leases. Give each replica its"
            " own (ingest-0, ingest-1, ...; never the host name), so a restart resumes its"
            " persistent session."
        ),
    )
    locale: str = Field(
        DEFAULT_LOCALE,
        title="Language",
        description="Language of the console, notifications and dashboards for people who have not chosen one: zh-CN or en.",
    )
    timezone: str = Field(
        DEFAULT_TIMEZONE,
        title="Time zone",
        description="IANA zone in which people read times (console, notifications); a site's own timezone wins for its kitchen. The API stays ISO 8601 with offsets.",
    )
    log_format: Literal["text", "json"] = Field(
        "text", title="Log format", description="json writes one JSON object per line."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", title="Log level", description="Lowest level written."
    )

    ingest: IngestSettings = Field(default_factory=IngestSettings, title="Ingest worker")
    elevators: ElevatorSettings = Field(default_factory=ElevatorSettings, title="Elevator rules")
    vision: VisionSettings = Field(default_factory=VisionSettings, title="Kitchen vision")
    alerts: AlertSettings = Field(default_factory=AlertSettings, title="Alert handling")
    api: ApiSettings = Field(default_factory=ApiSettings, title="HTTP app")
    edge: EdgeSettings = Field(default_factory=EdgeSettings, title="Edge agents")
    health: HealthSettings = Field(default_factory=HealthSettings, title="Health and heartbeats")
    fleet: FleetSettings = Field(default_factory=FleetSettings, title="Fleet size (sizing)")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr) -> SecretStr:
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql:// URL")
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise ValueError("has an invalid port") from None
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, value: SecretStr) -> SecretStr:
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("must be mqtt://host[:port] or mqtts://host[:port]")
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise ValueError("has an invalid port") from None
        return value

    @field_validator("locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        found = normalise(value)
        if found is None:
            raise ValueError(f"must be one of {', '.join(LOCALES)}")
        return found

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("http_addr")
    @classmethod
    def _check_http_addr(cls, value: str) -> str:
        return _check_host_port(value)

    @field_validator("metrics_addr")
    @classmethod
    def _check_metrics_addr(cls, value: str | None) -> str | None:
        return _check_host_port(value) if value else None

    @field_validator("topic_root")
    @classmethod
    def _check_topic_root(cls, value: str) -> str:
        if (
            not value
            or any(c in value for c in "+#$")
            or value.startswith("/")
            or value.endswith("/")
        ):
            raise ValueError("must be non-empty, without wildcards, $ or leading/trailing /")
        return value

    @field_validator("share_group")
    @classmethod
    def _check_share_group(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c in value for c in "/+#")):
            raise ValueError("must be non-empty, without /, + or #")
        return value or None

    @property
    def http_host(self) -> str:
        return self.http_addr.rpartition(":")[0]

    @property
    def http_port(self) -> int:
        return int(self.http_addr.rpartition(":")[2])

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(ENV_PREFIX + "CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)


class SettingsError(SystemExit):
    """Start-up stops: the message names each wrong variable."""


def _variable_name(loc: tuple[Any, ...]) -> str:
    """A wrong setting as both ways of giving it name it: the variable, and for a setting
    of a section its key in the TOML file (`BW_VISION__THREADS ([vision] threads)`)."""
    parts = [str(p) for p in loc]
    variable = ENV_PREFIX + "__".join(p.upper() for p in parts[:2])
    if len(parts) < 2:
        return variable
    return f"{variable} ([{parts[0]}] {'.'.join(parts[1:])})"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and BW_CONFIG; raises SettingsError naming bad fields."""
    config_file = os.environ.get(ENV_PREFIX + "CONFIG")
    if config_file and not Path(config_file).is_file():
        raise SettingsError(f"configuration error: BW_CONFIG={config_file}: no such file")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = ["configuration error:"]
        for err in exc.errors():
            shown = err.get("input")
            detail = err["msg"]
            if isinstance(shown, str | int | float) and "url" not in "".join(map(str, err["loc"])):
                detail += f" (got {str(shown)[:60]!r})"
            lines.append(f"  {_variable_name(err['loc'])}: {detail}")
        raise SettingsError("\n".join(lines)) from None
    except ValueError as exc:  # TOML syntax errors and the like
        raise SettingsError(f"configuration error: {exc}") from None


def redact_url(url: str) -> str:
    """A URL with its password replaced, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
