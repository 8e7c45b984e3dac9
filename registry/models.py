"""Registry records as the API and import files carry them."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from brightwatch.contract.ids import ID_PATTERN

Id = Annotated[str, Field(pattern=ID_PATTERN)]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _reject_nul(value: Any, where: str = "") -> None:
    """PostgreSQL text and jsonb cannot hold U+0000: refuse it at the door with a clear message."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where or 'text'} contains a NUL character")
    elif isinstance(value, dict):
        for k, v in value.items():
            _reject_nul(k, where)
            _reject_nul(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_nul(item, where)


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        _reject_nul(data)
        return data


def _check_hhmm(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError("must be HH:MM (00:00-24:00)")
    return value


def _check_days(value: str) -> str:
    """'mon-fri', 'sat,sun', 'daily' / 'mon-sun'."""
    value = value.lower()
    if value == "daily":
        return value
    for part in value.split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(e not in DAYS for e in ends):
            raise ValueError("days must be like 'mon-fri', 'sat,sun' or 'daily'")
    return value


class OpeningHours(Record):
    days: str = Field("daily", title="Days", description="'daily', 'mon-fri', 'sat,sun', ...")
    open: str = Field(..., title="Opens", description="HH:MM local time")
    close: str = Field(
        ..., title="Closes", description="HH:MM local time; before `open` means past midnight"
    )

    _v_open = field_validator("open", "close")(classmethod(lambda cls, v: _check_hhmm(v)))
    _v_days = field_validator("days")(classmethod(lambda cls, v: _check_days(v)))


class TimeWindow(Record):
    start: str
    end: str

    _v = field_validator("start", "end")(classmethod(lambda cls, v: _check_hhmm(v)))


Point = tuple[Annotated[float, Field(ge=0, le=1)], Annotated[float, Field(ge=0, le=1)]]


class Zone(Record):
    """A polygon in a camera picture, in fractions of width and height (0..1)."""

    name: Id
    kind: Literal["station", "restricted", "bin", "stove", "work_area"] = Field(
        ...,
        description="station: staffed in working hours; restricted: special room or storage; "
        "bin: waste bins; stove: cooking fire; work_area: any other area of interest",
    )
    polygon: list[Point] = Field(..., min_length=3, max_length=64)
    # when a station must be staffed, or when a restricted zone may be entered
    hours: list[OpeningHours] = Field(default_factory=list)


class FirmRecord(Record):
    name: str = Field("", max_length=200)
    credit_rating: Literal["A", "B", "C", "D"] | None = None
    credit_score: float | None = Field(None, ge=0, le=100)
    webhook_url: HttpUrl | None = None
    contact: dict[str, Any] = Field(default_factory=dict)


KitchenType = Literal[
    "restaurant", "delivery_only", "school_canteen", "canteen", "central_kitchen", "other"
]
KITCHEN_TYPES: tuple[str, ...] = KitchenType.__args__  # type: ignore[attr-defined]
# the licence register's Chinese names (食品经营许可证 主体业态) of each type
KITCHEN_TYPE_NAMES_ZH = {
    "restaurant": "餐馆",
    "delivery_only": "网络餐饮(仅外卖)",
    "school_canteen": "学校食堂",
    "canteen": "单位食堂",
    "central_kitchen": "中央厨房",
    "other": "其他",
}


def kitchen_type_code(value: str) -> str:
    """The code of a kitchen type given as its code or its Chinese name (full-width
    brackets accepted), so that a licence register exported in Chinese imports as is."""
    text = value.strip().replace("（", "(").replace("）", ")")
    if text.lower() in KITCHEN_TYPES:
        return text.lower()
    for code, name in KITCHEN_TYPE_NAMES_ZH.items():
        if text == name:
            return code
    raise ValueError(
        "kitchen_type must be one of "
        + ", ".join(f"{c} ({n})" for c, n in KITCHEN_TYPE_NAMES_ZH.items())
    )


class SiteRecord(Record):
    kind: Literal["kitchen", "building"] = "kitchen"
    kitchen_type: KitchenType | None = Field(
        None,
        description="Kitchen type (kitchens only): restaurant 餐馆, delivery_only 网络餐饮(仅外卖), "
        "school_canteen 学校食堂, canteen 单位食堂, central_kitchen 中央厨房, other 其他",
    )
    name: str = Field("", max_length=200)
    operator: str = Field("", max_length=200)
    address: str = Field("", max_length=500)
    district: str = Field("", max_length=100)
    timezone: str = "Asia/Shanghai"
    operating_hours: list[OpeningHours] = Field(default_factory=list)
    night_hours: TimeWindow = Field(default_factory=lambda: TimeWindow(start="22:00", end="06:00"))
    management_score: float | None = Field(None, ge=0, le=100)
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Asia", a name too long
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("kitchen_type", mode="before")
    @classmethod
    def _kitchen_type(cls, value: Any) -> Any:
        return kitchen_type_code(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _type_of_kitchens(self) -> SiteRecord:
        if self.kitchen_type is not None and self.kind != "kitchen":
            raise ValueError("kitchen_type is for kitchens only")
        return self


class CameraRecord(Record):
    name: str = Field("", max_length=200)
    work_area: (
        Literal["cutting", "cooking", "serving", "washing", "special_room", "storage", "other"]
        | None
    ) = None
    is_public: bool = False
    zones: list[Zone] = Field(default_factory=list, max_length=64)
    schedules: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_zone_names(self) -> CameraRecord:
        names = [z.name for z in self.zones]
        if len(names) != len(set(names)):
            raise ValueError("zone names must be unique per camera")
        return self


class ElevatorRecord(Record):
    firm_id: Id | None = None
    standby_firm_id: Id | None = None
    site_id: Id | None = None
    address: str = Field("", max_length=500)
    district: str = Field("", max_length=100)
    user_unit: str = Field("", max_length=200)
    floor_min: int | None = Field(None, ge=-20, le=300)
    floor_max: int | None = Field(None, ge=-20, le=300)
    rated_speed: float | None = Field(None, gt=0, le=30)
    install_year: int | None = Field(None, ge=1900, le=2100)
    inspection_valid_until: date | None = None
    thresholds: dict[str, float | int | bool] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _floors(self) -> ElevatorRecord:
        if (
            self.floor_min is not None
            and self.floor_max is not None
            and self.floor_min > self.floor_max
        ):
            raise ValueError("floor_min must not exceed floor_max")
        return self
