"""SMS as template parameters, for vendors that only send approved templates.

Aliyun and Tencent Cloud SMS in mainland China send a text only as a template approved in
advance (a template id, e.g. `SMS_123456789`, with `${name}` variables) and its parameter
values; free text is refused. So a notification is also written as one of a few *kinds*,
each with a fixed set of parameters, which a bureau's templates are approved for:
`template_of(notification)` → `SmsTemplate("alert", {"code": "TRAPPED_OUT_ZONE",
"name": "非平层困人", "device": "E1", "time": "02:14", ...})`. The vendor channels map each
kind to their template id in their settings; the generic HTTP gateway (`sms.py`) keeps
sending the localized text. Values are short: Aliyun caps a variable at 35 characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from brightwatch.alerts.routing.notification import AlertView, Notification
from brightwatch.contract.codes import ELEVATOR_CATALOGUE, KITCHEN_CATALOGUE
from brightwatch.i18n import local

# Aliyun: a variable of a notification template holds at most 35 characters
MAX_VALUE = 35

# kind → the parameters its templates are approved with (every value is always present)
TEMPLATE_PARAMS: dict[str, tuple[str, ...]] = {
    # an alert fires (or still fires, at a repeat): a trapped passenger, a violation
    "alert": ("code", "name", "severity", "device", "site", "date", "time", "count"),
    "resolved": ("code", "name", "severity", "device", "site", "date", "time"),
    # a P1 nobody acknowledged: the bureau's duty officer, then the chief
    "escalation": ("code", "name", "severity", "device", "site", "date", "time", "level"),
    # kitchens.md: the operator's rectification notice, a late plan, a card
    "rectification": ("code", "name", "site", "camera", "case", "due"),
    "plan_overdue": ("code", "name", "site", "camera", "case", "due"),
    "card": ("card", "code", "name", "site", "camera", "case", "due"),
    # elevators.md: on-demand maintenance withdrawn after two trapped faults
    "on_demand_withdrawn": ("code", "name", "device", "site", "date", "time"),
}


@dataclass(frozen=True)
class SmsTemplate:
    kind: str
    params: dict[str, str]


def kind_of(n: Notification) -> str:
    """The template kind of a notification (a key of TEMPLATE_PARAMS)."""
    if n.reason == "notice":
        notice = n.alerts[0].labels.get("notice", "") if n.alerts else ""
        return notice if notice in TEMPLATE_PARAMS else "alert"
    if n.reason == "escalation":
        return "escalation"
    return "alert" if n.status == "firing" else "resolved"


def _values(n: Notification, a: AlertView) -> dict[str, str]:
    """Everything a template may ask for, about the first alert of the notification."""
    code = a.labels.get("code", "")
    entry = ELEVATOR_CATALOGUE.get(code) or KITCHEN_CATALOGUE.get(code)
    at = local(a.starts_at, n.zone)
    due = a.annotations.get("fix_due_at") or a.annotations.get("plan_due_at") or ""
    if a.labels.get("notice") == "plan_overdue":
        due = a.annotations.get("plan_due_at") or due
    return {
        "code": code,
        "name": entry.name_zh if entry else code,
        "severity": a.labels.get("severity", ""),
        "device": a.labels.get("elevator_id") or a.labels.get("device_id", ""),
        "site": a.labels.get("site_id", ""),
        "camera": a.labels.get("camera_id", ""),
        "date": at.strftime("%m-%d"),
        "time": at.strftime("%H:%M"),
        "count": str(len(n.alerts)) if len(n.alerts) > 1 else a.annotations.get("count", "1"),
        "level": a.annotations.get("escalation_level", ""),
        "case": a.annotations.get("review_id", ""),
        "card": a.labels.get("card", ""),
        "due": local_due(due, n.zone),
    }


def local_due(iso: str, zone: str) -> str:
    """A deadline (ISO 8601 annotation) as `MM-DD HH:MM` in the reader's zone, or ''."""
    if not iso:
        return ""
    return local(datetime.fromisoformat(iso), zone).strftime("%m-%d %H:%M")


def template_of(n: Notification) -> SmsTemplate:
    """The kind of `n` and its template's parameters (times in the notification's zone)."""
    kind = kind_of(n)
    values = _values(n, n.alerts[0]) if n.alerts else {}
    return SmsTemplate(
        kind, {name: values.get(name, "")[:MAX_VALUE] for name in TEMPLATE_PARAMS[kind]}
    )
