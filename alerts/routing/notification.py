"""What one notification says: a group of alerts for one receiver, and its renderings.

The webhook (and MQTT) rendering is Alertmanager's webhook payload, version "4", so
receivers written for Alertmanager work unchanged (its fields stay ISO 8601; only the
annotations people read may be added); e-mail and SMS get a subject and a short text made
from the same data, written in the notification's language (`BW_LOCALE`, or a receiver's
own `locale`) with every instant in its zone (`BW_TIMEZONE`) and the offset shown.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from brightwatch.alerts.model import Alert, AlertState
from brightwatch.alerts.words import Text, code_name, written
from brightwatch.i18n import DEFAULT_LOCALE, DEFAULT_TIMEZONE, for_reader, show, translator

# Alertmanager's "zero time" for alerts still firing
ZERO_TIME = "0001-01-01T00:00:00Z"


def rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def short_fingerprint(fp: str) -> str:
    """Alertmanager fingerprints are 16 hex digits; ours are readable strings."""
    return hashlib.sha256(fp.encode()).hexdigest()[:16]


def alert_labels(alert: Alert, enrichment: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The label set routing, silences and inhibition match on.

    The alert's own labels (vision adds camera_id, district, zone), the registry's
    (firm_id, district, ...) and the identity of the alert, which always wins.
    `location` is the site when there is one, else the device: the default grouping
    ("a building or a kitchen") needs a value for devices without a site.
    """
    labels: dict[str, str] = {}
    for source in (enrichment or {}, alert.labels):
        for k, v in source.items():
            if v is not None and v != "" and isinstance(v, str | int | float | bool):
                labels[str(k)] = str(v)
    labels.update(
        alertname=alert.code,
        kind=alert.kind,
        code=alert.code,
        severity=alert.severity,
        device_id=alert.device_id,
    )
    if alert.site_id:
        labels["site_id"] = alert.site_id
    labels["location"] = labels.get("site_id") or alert.device_id
    return labels


@dataclass(frozen=True)
class AlertView:
    """One alert as a notification presents it."""

    id: int
    status: str  # firing | resolved
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    fingerprint: str
    acknowledged: bool = False
    # the summary in every language (Alert.summaries): a notice's own lines speak the
    # receiver's; `annotations["summary"]` stays the deployment's (the webhook's payload)
    summaries: dict[str, str] = field(default_factory=dict)

    def alertmanager(self, external_url: str) -> dict[str, Any]:
        return {
            "status": self.status,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": rfc3339(self.starts_at),
            "endsAt": rfc3339(self.ends_at) if self.ends_at else ZERO_TIME,
            "generatorURL": alert_page(external_url, self.id),
            "fingerprint": self.fingerprint,
        }


def alert_page(external_url: str, alert_id: int) -> str:
    """The console's page of one alert: what it is and everything done about it."""
    return f"{external_url.rstrip('/')}/#/alerts/{alert_id}"


def absolute(url: str | None, external_url: str) -> str | None:
    if not url:
        return None
    if url.startswith(("http://", "https://")):
        return url
    return external_url.rstrip("/") + "/" + url.lstrip("/")


def alert_view(
    alert: Alert,
    labels: Mapping[str, str],
    external_url: str,
    extra_annotations: Mapping[str, str] | None = None,
) -> AlertView:
    assert alert.id is not None
    annotations = {
        "summary": alert.summary or alert.code,
        "alert_id": str(alert.id),
        "count": str(alert.count),
    }
    evidence = absolute(alert.evidence_url, external_url)
    if evidence:
        annotations["evidence_url"] = evidence
    if alert.acknowledged_by:
        annotations["acknowledged_by"] = alert.acknowledged_by
    annotations.update(extra_annotations or {})
    resolved = alert.state == AlertState.RESOLVED
    return AlertView(
        id=alert.id,
        status="resolved" if resolved else "firing",
        labels=dict(labels),
        annotations=annotations,
        starts_at=alert.started_at,
        ends_at=alert.resolved_at if resolved else None,
        fingerprint=short_fingerprint(alert.fingerprint),
        acknowledged=alert.state == AlertState.ACKNOWLEDGED,
        summaries=dict(alert.summaries),
    )


def _common(dicts: list[dict[str, str]]) -> dict[str, str]:
    if not dicts:
        return {}
    first = dicts[0]
    return {k: v for k, v in first.items() if all(d.get(k) == v for d in dicts[1:])}


@dataclass(frozen=True)
class Notification:
    receiver: str
    group_key: str
    group_labels: dict[str, str]
    alerts: tuple[AlertView, ...]
    reason: str  # group | repeat | escalation | notice
    external_url: str
    # notices and escalations carry their own words for e-mail and SMS, written in the
    # reader's language when rendered (alerts.words)
    title: Text | None = None
    message: Text | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    locale: str = DEFAULT_LOCALE
    zone: str = DEFAULT_TIMEZONE

    @property
    def status(self) -> str:
        return "firing" if any(a.status == "firing" for a in self.alerts) else "resolved"

    @property
    def firing(self) -> list[AlertView]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[AlertView]:
        return [a for a in self.alerts if a.status == "resolved"]

    @property
    def common_labels(self) -> dict[str, str]:
        return _common([a.labels for a in self.alerts])

    @property
    def common_annotations(self) -> dict[str, str]:
        return _common([a.annotations for a in self.alerts])

    @property
    def console_url(self) -> str:
        """Where a reader goes from the notification: the alert's own page when it is
        about one alert, else the console."""
        if len(self.alerts) == 1:
            return alert_page(self.external_url, self.alerts[0].id)
        return self.external_url

    def only(self, alerts: tuple[AlertView, ...]) -> Notification:
        return replace(self, alerts=alerts)

    def in_language(self, locale: str | None, zone: str | None = None) -> Notification:
        """The same notification for a reader of `locale` in `zone` (None: unchanged)."""
        return replace(self, locale=locale or self.locale, zone=zone or self.zone)

    def alertmanager(self) -> dict[str, Any]:
        """Alertmanager webhook payload, version 4 (prometheus.io/docs/alerting/latest/configuration/#webhook_config).

        The contract's fields are unchanged; `commonAnnotations` gains `title`/`description`
        of a notice in the notification's language, for people reading a forwarded payload."""
        common = self.common_annotations
        if self.title is not None:
            common.setdefault("title", self._written(self.title))
        if self.message is not None:
            common.setdefault("description", self._written(self.message))
        return {
            "version": "4",
            "groupKey": self.group_key,
            "truncatedAlerts": 0,
            "status": self.status,
            "receiver": self.receiver,
            "groupLabels": dict(self.group_labels),
            "commonLabels": self.common_labels,
            "commonAnnotations": common,
            "externalURL": self.external_url,
            "alerts": [a.alertmanager(self.external_url) for a in self.alerts],
        }

    def _written(self, text: Text) -> str:
        return written(text, self.locale, self.zone)

    def _codes(self) -> str:
        codes = sorted({a.labels.get("code", "") for a in self.alerts} - {""})
        return ", ".join(code_name(c, self.locale) for c in codes)

    def subject(self) -> str:
        if self.title is not None:
            return self._written(self.title)
        _ = translator(self.locale)
        if self.firing:
            counts = _("[FIRING:%(n)s]", n=len(self.firing))
        else:
            counts = _("[RESOLVED:%(n)s]", n=len(self.resolved))
        shown = " ".join(f"{k}={v}" for k, v in sorted(self.group_labels.items()))
        prefix = _("[ESCALATION]") + " " if self.reason == "escalation" else ""
        return f"{prefix}{counts} {self._codes()} {shown}".strip()

    def _line(self, a: AlertView) -> str:
        """One alert of an e-mail: what, where, since when (in the reader's zone)."""
        _ = translator(self.locale)
        params = {
            "severity": a.labels.get("severity", ""),
            "code": code_name(a.labels.get("code", ""), self.locale),
            "where": a.labels.get("site_id") or a.labels.get("device_id", ""),
            "device": a.labels.get("device_id", ""),
            "since": show(a.starts_at, self.zone, "minute"),
            "count": a.annotations.get("count", "1"),
            "summary": for_reader(a.summaries, self.locale, a.annotations.get("summary", "")),
        }
        line = _(
            "- %(severity)s %(code)s at %(where)s device %(device)s since %(since)s"
            " x%(count)s: %(summary)s",
            **params,
        )
        if a.acknowledged:
            ack = _("acknowledged by %(who)s", who=a.annotations["acknowledged_by"])
            line += f" ({ack})"
        return line

    def text(self) -> str:
        _ = translator(self.locale)
        lines = [self.subject()]
        if self.message is not None:
            lines += ["", self._written(self.message)]
        for title, items in ((_("Firing:"), self.firing), (_("Resolved:"), self.resolved)):
            if not items:
                continue
            lines += ["", title]
            for a in items:
                lines.append(self._line(a))
                if "evidence_url" in a.annotations:
                    lines.append("  " + _("evidence: %(url)s", url=a.annotations["evidence_url"]))
        lines += ["", _("Console: %(url)s", url=self.console_url)]
        return "\n".join(lines)

    def short_text(self) -> str:
        """One line for SMS, with the local time of each alert."""
        _ = translator(self.locale)
        if self.message is not None:
            title = self._written(self.title) if self.title is not None else ""
            return f"{title} {self._written(self.message)}".strip()
        parts = []
        for a in self.alerts[:3]:
            where = a.labels.get("site_id") or a.labels.get("device_id", "")
            code = code_name(a.labels.get("code", ""), self.locale)
            at = show(a.starts_at, self.zone, "short")
            parts.append(f"{a.labels.get('severity', '')} {code} {where} {at}")
        more = f" +{len(self.alerts) - 3}" if len(self.alerts) > 3 else ""
        state = _("FIRING") if self.status == "firing" else _("RESOLVED")
        tag = _("ESCALATION") + " " if self.reason == "escalation" else ""
        return _(
            "[brightwatch] %(tag)s%(state)s: %(alerts)s%(more)s",
            tag=tag,
            state=state,
            alerts="; ".join(parts),
            more=more,
        )
