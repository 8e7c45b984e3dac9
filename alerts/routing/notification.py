"""What one notification says: a group of alerts for one receiver, and its renderings.

The webhook (and MQTT) rendering is Alertmanager's webhook payload, version "4", so
receivers written for Alertmanager work unchanged; e-mail and SMS get a subject and a
short text made from the same data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from brightwatch.alerts.model import Alert, AlertState

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

    def alertmanager(self, external_url: str) -> dict[str, Any]:
        return {
            "status": self.status,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": rfc3339(self.starts_at),
            "endsAt": rfc3339(self.ends_at) if self.ends_at else ZERO_TIME,
            "generatorURL": f"{external_url.rstrip('/')}/?alert={self.id}",
            "fingerprint": self.fingerprint,
        }


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
    # notices and escalations carry their own words for e-mail and SMS
    title: str | None = None
    message: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

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

    def only(self, alerts: tuple[AlertView, ...]) -> Notification:
        return Notification(
            self.receiver,
            self.group_key,
            self.group_labels,
            alerts,
            self.reason,
            self.external_url,
            self.title,
            self.message,
            self.extra,
        )

    def alertmanager(self) -> dict[str, Any]:
        """Alertmanager webhook payload, version 4 (prometheus.io/docs/alerting/latest/configuration/#webhook_config)."""
        return {
            "version": "4",
            "groupKey": self.group_key,
            "truncatedAlerts": 0,
            "status": self.status,
            "receiver": self.receiver,
            "groupLabels": dict(self.group_labels),
            "commonLabels": self.common_labels,
            "commonAnnotations": self.common_annotations,
            "externalURL": self.external_url,
            "alerts": [a.alertmanager(self.external_url) for a in self.alerts],
        }

    def subject(self) -> str:
        if self.title:
            return self.title
        counts = f"FIRING:{len(self.firing)}" if self.firing else f"RESOLVED:{len(self.resolved)}"
        shown = " ".join(f"{k}={v}" for k, v in sorted(self.group_labels.items()))
        codes = sorted({a.labels.get("code", "") for a in self.alerts})
        prefix = "[ESCALATION] " if self.reason == "escalation" else ""
        return f"{prefix}[{counts}] {', '.join(codes)} {shown}".strip()

    def text(self) -> str:
        lines = [self.subject()]
        if self.message:
            lines += ["", self.message]
        for title, items in (("Firing", self.firing), ("Resolved", self.resolved)):
            if not items:
                continue
            lines += ["", f"{title}:"]
            for a in items:
                where = a.labels.get("site_id") or a.labels.get("device_id", "")
                ack = (
                    f" (acknowledged by {a.annotations['acknowledged_by']})"
                    if a.acknowledged
                    else ""
                )
                lines.append(
                    f"- {a.labels.get('severity', '')} {a.labels.get('code', '')} at {where}"
                    f" device {a.labels.get('device_id', '')} since {rfc3339(a.starts_at)}"
                    f" x{a.annotations.get('count', '1')}{ack}: {a.annotations.get('summary', '')}"
                )
                if "evidence_url" in a.annotations:
                    lines.append(f"  evidence: {a.annotations['evidence_url']}")
        lines += ["", f"Console: {self.external_url}"]
        return "\n".join(lines)

    def short_text(self) -> str:
        """One line for SMS."""
        if self.message:
            return f"{self.title or ''} {self.message}".strip()
        parts = []
        for a in self.alerts[:3]:
            where = a.labels.get("site_id") or a.labels.get("device_id", "")
            parts.append(f"{a.labels.get('severity', '')} {a.labels.get('code', '')} {where}")
        more = f" +{len(self.alerts) - 3}" if len(self.alerts) > 3 else ""
        state = "FIRING" if self.status == "firing" else "RESOLVED"
        tag = "ESCALATION " if self.reason == "escalation" else ""
        return f"[brightwatch] {tag}{state}: {'; '.join(parts)}{more}"
