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
from brightwatch.alerts.words import code_name
from brightwatch.contract.codes import name_zh
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


def _name(code: str, name_zh: str, locale: str) -> str:
    """The code's name in the template's language: Chinese, else the catalogue's English
    name where it has one (else the code itself)."""
    if locale.lower().startswith("zh"):
        return name_zh
    return code_name(code, locale)


def _values(n: Notification, a: AlertView) -> dict[str, str]:
    """Everything a template may ask for, about the first alert of the notification."""
    code = a.labels.get("code", "")
    at = local(a.starts_at, n.zone)
    due = a.annotations.get("fix_due_at") or a.annotations.get("plan_due_at") or ""
    if a.labels.get("notice") == "plan_overdue":
        due = a.annotations.get("plan_due_at") or due
    return {
        "code": code,
        "name": _name(code, name_zh(code) or code, n.locale),
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


# tiers a template may be approved for: elevator severities and kitchen tiers
TIERS = ("P1", "P2", "P3", "P4", "INFO", "T1", "T2", "T3")


def check_template_key(key: str) -> str:
    """`kind`, `tier` (an alert of that tier) or `kind.tier`, e.g. `alert.P1`."""
    kind, _, tier = key.partition(".")
    if key in TIERS or (kind in TEMPLATE_PARAMS and (not tier or tier in TIERS)):
        return key
    raise ValueError(
        f"{key!r} is not a template key: kind ({', '.join(TEMPLATE_PARAMS)}), "
        f"tier ({', '.join(TIERS)}) or kind.tier"
    )


def template_keys(kind: str, tier: str) -> list[str]:
    """Where a kind's template is looked up, most specific first."""
    keys = [f"{kind}.{tier}"] if tier else []
    if kind == "alert" and tier:
        keys.append(tier)
    return [*keys, kind]


def pick_template(
    templates: dict[str, dict[str, str]], kind: str, tier: str, locale: str, fallback: str
) -> str | None:
    """The approved template id for this kind, tier and language (else the fallback
    language's), or None when the bureau has none for it."""
    for lang in dict.fromkeys([locale, fallback]):
        table = templates.get(lang) or {}
        for key in template_keys(kind, tier):
            if table.get(key):
                return table[key]
    return None


def sms_payload(n: Notification) -> dict[str, object]:
    """The delivery payload of a template SMS channel (Aliyun, Tencent Cloud)."""
    template = template_of(n)
    tier = n.alerts[0].labels.get("severity", "") if n.alerts else ""
    return {
        "text": n.short_text(),
        "template": template.kind,
        "tier": tier,
        "locale": n.locale,
        "params": template.params,
    }
