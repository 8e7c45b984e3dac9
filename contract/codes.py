"""The fault and violation catalogues, codes used verbatim everywhere.

Sources: ../shared/spec/elevators.md (fault catalogue, 2017-era upstream numbering) and
../shared/spec/kitchens.md (violation catalogue, Hubei tiers).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AlertKind(StrEnum):
    ELEVATOR = "elevator"
    KITCHEN = "kitchen"


class Severity(StrEnum):
    """Elevator severities (P1 life safety .. INFO) and kitchen tiers (T1 .. T3)."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    INFO = "INFO"
    T1 = "T1"
    T2 = "T2"
    T3 = "T3"


# Lower rank = more urgent; used for sorting and routing thresholds.
SEVERITY_RANK: dict[str, int] = {"P1": 1, "T1": 1, "P2": 2, "T2": 2, "P3": 3, "T3": 3, "INFO": 4}


class ElevatorFault(StrEnum):
    TRAPPED_OUT_ZONE = "TRAPPED_OUT_ZONE"
    TRAPPED_IN_ZONE = "TRAPPED_IN_ZONE"
    STOP_OUT_ZONE = "STOP_OUT_ZONE"
    UCM = "UCM"
    DOOR_OPEN_RUN = "DOOR_OPEN_RUN"
    OVERTRAVEL_TOP = "OVERTRAVEL_TOP"
    OVERTRAVEL_BOTTOM = "OVERTRAVEL_BOTTOM"
    OVERSPEED = "OVERSPEED"
    SAFETY_CIRCUIT = "SAFETY_CIRCUIT"
    DOOR_CLOSE_FAIL = "DOOR_CLOSE_FAIL"
    DOOR_OPEN_FAIL = "DOOR_OPEN_FAIL"
    DOOR_CYCLING = "DOOR_CYCLING"
    RUNTIME_LIMITER = "RUNTIME_LIMITER"
    FLOOR_LOST = "FLOOR_LOST"
    RESTART_BLOCK = "RESTART_BLOCK"
    POWER_FAIL = "POWER_FAIL"
    ALARM_BUTTON = "ALARM_BUTTON"
    MODE_CHANGE = "MODE_CHANGE"
    OFFLINE = "OFFLINE"


class ServiceCode(StrEnum):
    """Conditions the service itself raises as alerts, outside the fault catalogue.

    TICKET_SLA_BREACH: a ticket step (dispatch, acceptance, arrival) missed its SLA
    deadline (elevators.md, Tickets: each breach is an alert of its own). Raised with
    kind `elevator` on the ticket's elevator, P1 for a rescue and P2 otherwise.
    """

    TICKET_SLA_BREACH = "TICKET_SLA_BREACH"


SERVICE_CODE_NAMES_ZH: dict[str, str] = {ServiceCode.TICKET_SLA_BREACH: "工单超时"}


class KitchenViolation(StrEnum):
    RODENT = "RODENT"
    NO_MASK = "NO_MASK"
    NO_HAT = "NO_HAT"
    NO_UNIFORM = "NO_UNIFORM"
    NO_GLOVES = "NO_GLOVES"
    SMOKING = "SMOKING"
    PHONE = "PHONE"
    BIN_OPEN = "BIN_OPEN"
    STRANGER = "STRANGER"
    LEAVE_POST = "LEAVE_POST"
    FIRE_UNATTENDED = "FIRE_UNATTENDED"
    CAMERA_OFFLINE = "CAMERA_OFFLINE"
    CAMERA_OBSTRUCTED = "CAMERA_OBSTRUCTED"


# The camera's own health (kitchens.md): alerts of the kitchen kind, but about the picture,
# not the kitchen's hygiene (no review case, no hygiene score; they inhibit the camera's
# violations).
CAMERA_OFFLINE: str = KitchenViolation.CAMERA_OFFLINE.value
CAMERA_OBSTRUCTED: str = KitchenViolation.CAMERA_OBSTRUCTED.value
CAMERA_HEALTH: frozenset[str] = frozenset({CAMERA_OFFLINE, CAMERA_OBSTRUCTED})


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    name_zh: str
    severity: Severity  # default severity (elevators) or tier (kitchens)
    upstream_2017: str | None = None  # 2017-era provincial numbering, where one exists


ELEVATOR_CATALOGUE: dict[str, CatalogueEntry] = {
    e.code: e
    for e in (
        CatalogueEntry("TRAPPED_OUT_ZONE", "非平层困人", Severity.P1, "11"),
        CatalogueEntry("TRAPPED_IN_ZONE", "平层困人", Severity.P1, "11"),
        CatalogueEntry("STOP_OUT_ZONE", "门区外停梯", Severity.P2, "04"),
        CatalogueEntry("UCM", "开门走车 / 轿厢意外移动", Severity.P1, "05"),
        CatalogueEntry("DOOR_OPEN_RUN", "运行中开门", Severity.P1, None),
        CatalogueEntry("OVERTRAVEL_TOP", "冲顶", Severity.P1, "09"),
        CatalogueEntry("OVERTRAVEL_BOTTOM", "蹲底", Severity.P1, "10"),
        CatalogueEntry("OVERSPEED", "超速", Severity.P1, None),
        CatalogueEntry("SAFETY_CIRCUIT", "安全回路断路", Severity.P2, "01"),
        CatalogueEntry("DOOR_CLOSE_FAIL", "关门故障 / 长时间开门", Severity.P2, "02"),
        CatalogueEntry("DOOR_OPEN_FAIL", "开门故障", Severity.P2, "03"),
        CatalogueEntry("DOOR_CYCLING", "反复开关门", Severity.P3, None),
        CatalogueEntry("RUNTIME_LIMITER", "电动机运转时间限制器动作", Severity.P2, "06"),
        CatalogueEntry("FLOOR_LOST", "楼层位置丢失", Severity.P3, "07"),
        CatalogueEntry("RESTART_BLOCK", "防止电梯再运行故障", Severity.P2, "08"),
        CatalogueEntry("POWER_FAIL", "停电", Severity.P2, None),
        CatalogueEntry("ALARM_BUTTON", "紧急报警", Severity.P1, "90"),
        CatalogueEntry("MODE_CHANGE", "检修/消防/应急电源/地震/停止服务", Severity.INFO, None),
        CatalogueEntry("OFFLINE", "终端离线", Severity.P3, None),
    )
}

KITCHEN_CATALOGUE: dict[str, CatalogueEntry] = {
    e.code: e
    for e in (
        CatalogueEntry("RODENT", "鼠患", Severity.T1),
        CatalogueEntry("NO_MASK", "未戴口罩", Severity.T3),
        CatalogueEntry("NO_HAT", "未戴厨师帽/工作帽", Severity.T3),
        CatalogueEntry("NO_UNIFORM", "未穿工作服", Severity.T3),
        CatalogueEntry("NO_GLOVES", "未戴手套", Severity.T3),
        CatalogueEntry("SMOKING", "吸烟", Severity.T2),
        CatalogueEntry("PHONE", "玩手机", Severity.T3),
        CatalogueEntry("BIN_OPEN", "垃圾桶未盖", Severity.T2),
        CatalogueEntry("STRANGER", "陌生人闯入", Severity.T2),
        CatalogueEntry("LEAVE_POST", "人员离岗", Severity.T3),
        CatalogueEntry("FIRE_UNATTENDED", "动火离人", Severity.T2),
        CatalogueEntry("CAMERA_OFFLINE", "视频离线", Severity.T2),
        CatalogueEntry("CAMERA_OBSTRUCTED", "画面遮挡/不清晰", Severity.T2),
    )
}

assert set(ELEVATOR_CATALOGUE) == {c.value for c in ElevatorFault}
assert set(KITCHEN_CATALOGUE) == {c.value for c in KitchenViolation}


def catalogue_entry(kind: str, code: str) -> CatalogueEntry | None:
    table = ELEVATOR_CATALOGUE if kind == AlertKind.ELEVATOR else KITCHEN_CATALOGUE
    return table.get(code)


def name_zh(code: str) -> str | None:
    """A code's Chinese name, from the fault and violation catalogues or the service's own
    codes (TICKET_SLA_BREACH); None for a code none of them knows."""
    entry = ELEVATOR_CATALOGUE.get(code) or KITCHEN_CATALOGUE.get(code)
    return entry.name_zh if entry else SERVICE_CODE_NAMES_ZH.get(code)
