"""SQL adapter of the notification pipeline: the alert-change reactor and the clocks.

- The reactor (`NotificationPipeline.__call__`, registered on the AlertStore) runs in
  the transaction of each alert change: it remembers the alert's labels (with registry
  enrichment), routes it, puts it in its notification groups and schedules their
  flushes, arms or stops its escalation clock, and re-evaluates inhibition around it.
- `flush_due` (clock): notifies due groups, as decided by `grouping.decide_flush`.
- `escalate_due` (clock): escalation chains of unacknowledged alerts.
- `silence_clock` (clock): silences coming into force and running out.
- `on_delivery_outcome`: the delivery worker's report, written to the alert history.

Every notification is a `notification` row with one `delivery` row per integration
(rendered payload), and one history row per alert.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from prometheus_client import Counter
from psycopg.types.json import Jsonb

from brightwatch.alerts import history
from brightwatch.alerts.delivery import DeliveryOutcome, enqueue, render
from brightwatch.alerts.due import claim_due
from brightwatch.alerts.model import Action, Alert, AlertChange, AlertState
from brightwatch.alerts.routing import escalation, grouping, mute
from brightwatch.alerts.routing.matchers import Matcher
from brightwatch.alerts.routing.notification import Notification, alert_labels, alert_view
from brightwatch.alerts.routing.silences import audit as audit_silence
from brightwatch.alerts.routing.tree import RoutePlan, route
from brightwatch.alerts.settings import AlertSettings
from brightwatch.alerts.store import COLUMNS, Clock, row_to_alert, utcnow
from brightwatch.alerts.words import Text
from brightwatch.i18n import DEFAULT_LOCALE, DEFAULT_TIMEZONE, translate

log = logging.getLogger(__name__)

NOTIFICATIONS = Counter(
    "brightwatch_notifications_total",
    "Notifications sent by reason and receiver",
    ["reason", "receiver"],
)
MUTES = Counter("brightwatch_alert_mutes_total", "Alerts muted, by silence or inhibition", ["how"])

A_COLUMNS = ", ".join("a." + c.strip() for c in COLUMNS.split(","))
N_ALERT = len(COLUMNS.split(","))
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
ACTOR = "notifier"


def fill_target(template: str, context: Mapping[str, Any]) -> str | None:
    """The target with {placeholders} filled, or None when one has no value."""
    missing = False

    def value(m: re.Match[str]) -> str:
        nonlocal missing
        obj: Any = context
        for part in m.group(1).split("."):
            obj = obj.get(part) if isinstance(obj, Mapping) else None
        if obj is None or obj == "" or isinstance(obj, Mapping | list):
            missing = True
            return ""
        return str(obj)

    filled = _PLACEHOLDER.sub(value, template)
    return None if missing else filled


class NotificationPipeline:
    def __init__(
        self,
        settings: AlertSettings,
        topic_root: str,
        clock: Clock = utcnow,
        *,
        locale: str = DEFAULT_LOCALE,
        zone: str = DEFAULT_TIMEZONE,
    ) -> None:
        self.settings = settings.notify
        self.topic_root = topic_root
        self.clock = clock
        # what people read is written in the deployment's language (BW_LOCALE) and zone
        # (BW_TIMEZONE), unless a receiver's integration names its own language
        self.locale = locale
        self.zone = zone
        self.rules = [mute.Rule.compile(r) for r in self.settings.inhibit_rules]
        self.recheck = timedelta(seconds=self.settings.mute_recheck_s)

    # ------------------------------------------------------------------ reactor

    def __call__(self, conn: psycopg.Connection[Any], change: AlertChange, now: datetime) -> None:
        a = change.alert
        assert a.id is not None
        if change.action == Action.UPDATED:
            return
        row = conn.execute(
            "SELECT enrichment, opened_at, escalation_level FROM alert_notify WHERE alert_id = %s FOR UPDATE",
            (a.id,),
        ).fetchone()
        if row is None:
            enrichment = self._enrich(conn, a)
            opened_at, level = now, 0
            conn.execute(
                "INSERT INTO alert_notify (alert_id, enrichment, labels, opened_at) VALUES (%s, %s, %s, %s)",
                (a.id, Jsonb(enrichment), Jsonb({}), now),
            )
        else:
            enrichment, opened_at, level = row
        labels = alert_labels(a, enrichment)
        chain = self.settings.escalations.get(a.severity, [])  # type: ignore[call-overload]
        if a.state == AlertState.FIRING:
            next_escalation = escalation.next_step_at(chain, opened_at, level)
        else:
            next_escalation = None
        conn.execute(
            "UPDATE alert_notify SET labels = %s, next_escalation_at = %s WHERE alert_id = %s",
            (Jsonb(labels), next_escalation, a.id),
        )
        if change.action in (Action.FIRED, Action.REOPENED, Action.REFIRED):
            for plan in route(self.settings.route, labels):
                self._join_group(
                    conn, plan, labels, a.id, now, refired=change.action == Action.REFIRED
                )
        elif change.action == Action.RESOLVED:
            self._reschedule_groups_of(conn, [a.id], now)
        if change.action in (Action.FIRED, Action.REOPENED, Action.RESOLVED):
            # the alert may be the source (or the target) of an inhibition
            self.refresh_mutes(conn, now, near=a)

    def _enrich(self, conn: psycopg.Connection[Any], a: Alert) -> dict[str, Any]:
        """Registry labels routing may match on: firm, district, site of the device."""
        found: dict[str, Any] = {}
        if a.kind == "elevator":
            row = conn.execute(
                "SELECT firm_id, site_id, district FROM elevator WHERE elevator_id = %s",
                (a.device_id,),
            ).fetchone()
            if row:
                found.update(firm_id=row[0], site_id=row[1], district=row[2])
        site_id = a.site_id or found.get("site_id")
        if site_id:
            row = conn.execute(
                "SELECT district FROM site WHERE site_id = %s", (site_id,)
            ).fetchone()
            if row and row[0] and not found.get("district"):
                found["district"] = row[0]
        return {k: v for k, v in found.items() if v not in (None, "")}

    def _join_group(
        self,
        conn: psycopg.Connection[Any],
        plan: RoutePlan,
        labels: Mapping[str, str],
        alert_id: int,
        now: datetime,
        *,
        refired: bool,
    ) -> None:
        key = plan.group_key(labels)
        created = conn.execute(
            "INSERT INTO notify_group (group_key, route_path, receiver, group_labels, group_wait_s,"
            " group_interval_s, repeat_interval_s, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (group_key) DO NOTHING RETURNING id",
            (
                key,
                plan.path,
                plan.receiver,
                Jsonb(plan.group_labels(labels)),
                int(plan.group_wait.total_seconds()),
                int(plan.group_interval.total_seconds()),
                int(plan.repeat_interval.total_seconds()),
                now,
            ),
        ).fetchone()
        group = conn.execute(
            "SELECT id, next_flush_at, last_flush_at FROM notify_group WHERE group_key = %s FOR UPDATE",
            (key,),
        ).fetchone()
        assert group is not None
        added = conn.execute(
            "INSERT INTO notify_group_alert (group_id, alert_id, added_at) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING alert_id",
            (group[0], alert_id, now),
        ).fetchone()
        if refired and added is None:
            return  # a repeat of what the group already holds: deduplicated
        timing = grouping.Timing(plan.group_wait, plan.group_interval, plan.repeat_interval)
        next_at = grouping.schedule_on_change(
            group[1], group[2], timing, now, new_group=created is not None
        )
        conn.execute(
            "UPDATE notify_group SET next_flush_at = %s WHERE id = %s", (next_at, group[0])
        )

    def _reschedule_groups_of(
        self, conn: psycopg.Connection[Any], alert_ids: Sequence[int], now: datetime
    ) -> None:
        rows = conn.execute(
            "SELECT g.id, g.next_flush_at, g.last_flush_at, g.group_wait_s, g.group_interval_s,"
            " g.repeat_interval_s FROM notify_group g WHERE g.id IN"
            " (SELECT group_id FROM notify_group_alert WHERE alert_id = ANY(%s)) ORDER BY g.id FOR UPDATE",
            (list(alert_ids),),
        ).fetchall()
        for gid, next_at, last_at, wait_s, interval_s, repeat_s in rows:
            timing = grouping.Timing(
                timedelta(seconds=wait_s),
                timedelta(seconds=interval_s),
                timedelta(seconds=repeat_s),
            )
            scheduled = grouping.schedule_on_change(next_at, last_at, timing, now, new_group=False)
            conn.execute(
                "UPDATE notify_group SET next_flush_at = %s WHERE id = %s", (scheduled, gid)
            )

    # ------------------------------------------------------------------ mutes

    def _load_open(
        self, conn: psycopg.Connection[Any], where: str, params: Sequence[Any]
    ) -> list[tuple[Alert, dict[str, Any], mute.Mute]]:
        rows = conn.execute(
            f"SELECT {A_COLUMNS}, n.enrichment, n.silenced_by, n.inhibited_by FROM alert a"  # noqa: S608
            f" JOIN alert_notify n ON n.alert_id = a.id WHERE a.state <> 'resolved' AND {where}"
            " ORDER BY a.id",
            list(params),
        ).fetchall()
        return [
            (
                row_to_alert(r[:N_ALERT]),
                r[N_ALERT] or {},
                mute.Mute(tuple(r[N_ALERT + 1]), tuple(r[N_ALERT + 2])),
            )
            for r in rows
        ]

    def active_silences(self, conn: psycopg.Connection[Any], now: datetime) -> list[mute.Silence]:
        rows = conn.execute(
            "SELECT id, matchers, starts_at, ends_at FROM silence"
            " WHERE starts_at <= %s AND ends_at > %s AND (expired_at IS NULL OR expired_at > %s)",
            (now, now, now),
        ).fetchall()
        return [
            mute.Silence(i, tuple(Matcher.from_api(m) for m in matchers), s, e)
            for i, matchers, s, e in rows
        ]

    def refresh_mutes(
        self,
        conn: psycopg.Connection[Any],
        now: datetime,
        *,
        alert_ids: Iterable[int] | None = None,
        near: Alert | None = None,
    ) -> dict[int, mute.Mute]:
        """Re-evaluate silences and inhibition of open alerts (these ids, those near an
        alert, or all); record each change in the history. Returns the mutes by id."""
        if alert_ids is not None:
            targets = self._load_open(conn, "a.id = ANY(%s)", [list(alert_ids)])
        elif near is not None:
            if near.site_id:
                targets = self._load_open(conn, "a.site_id = %s", [near.site_id])
            else:
                targets = self._load_open(
                    conn, "a.kind = %s AND a.device_id = %s", [near.kind, near.device_id]
                )
        else:
            targets = self._load_open(conn, "TRUE", [])
        if not targets:
            return {}
        sites = sorted({t.site_id for t, _, _ in targets if t.site_id})
        devices = sorted({t.device_id for t, _, _ in targets})
        sources = self._load_open(
            conn, "(a.site_id = ANY(%s) OR a.device_id = ANY(%s))", [sites, devices]
        )
        labelled = [mute.LabelledAlert(s.id or 0, alert_labels(s, enr)) for s, enr, _ in sources]
        silences = self.active_silences(conn, now)
        result: dict[int, mute.Mute] = {}
        unmuted: list[int] = []
        for alert, enrichment, before in targets:
            assert alert.id is not None
            target = mute.LabelledAlert(alert.id, alert_labels(alert, enrichment))
            after = mute.compute(target, silences, labelled, self.rules, now)
            result[alert.id] = after
            if after == before:
                continue
            conn.execute(
                "UPDATE alert_notify SET silenced_by = %s, inhibited_by = %s WHERE alert_id = %s",
                (list(after.silenced_by), list(after.inhibited_by), alert.id),
            )
            for action, details in mute.changes(alert.id, before, after).events:
                if action in ("silenced", "inhibited"):
                    MUTES.labels(action).inc()
                history.record(conn, [alert.id], action, ACTOR, now, details=details)
            if before.muted and not after.muted:
                unmuted.append(alert.id)
        if unmuted:
            self._reschedule_groups_of(conn, unmuted, now)
        return result

    # ------------------------------------------------------------------ flush

    def flush_due(
        self, conn: psycopg.Connection[Any], now: datetime | None = None, limit: int = 200
    ) -> int:
        """Notify every group whose flush is due; one transaction per group."""
        now = now or self.clock()

        def flush(group: Sequence[Any]) -> int:
            self._flush(conn, group, now)
            return 1

        return claim_due(
            conn,
            "SELECT id FROM notify_group WHERE next_flush_at <= %s ORDER BY next_flush_at LIMIT %s",
            (now, limit),
            "SELECT id, group_key, receiver, group_labels, group_wait_s, group_interval_s,"
            " repeat_interval_s, last_flush_at FROM notify_group"
            " WHERE id = %s AND next_flush_at <= %s FOR UPDATE SKIP LOCKED",
            (now,),
            flush,
        )

    def _flush(self, conn: psycopg.Connection[Any], group: Sequence[Any], now: datetime) -> None:
        gid, key, receiver, group_labels, wait_s, interval_s, repeat_s, last_flush_at = group
        rows = conn.execute(
            f"SELECT {A_COLUMNS}, m.notified, n.enrichment FROM notify_group_alert m"  # noqa: S608
            " JOIN alert a ON a.id = m.alert_id LEFT JOIN alert_notify n ON n.alert_id = a.id"
            " WHERE m.group_id = %s ORDER BY a.id",
            (gid,),
        ).fetchall()
        alerts = {r[0]: (row_to_alert(r[:N_ALERT]), r[N_ALERT], r[N_ALERT + 1] or {}) for r in rows}
        mutes = self.refresh_mutes(
            conn,
            now,
            alert_ids=[i for i, (a, _, _) in alerts.items() if a.state != AlertState.RESOLVED],
        )
        members = [
            grouping.Member(
                alert_id=i,
                status=grouping.RESOLVED if a.state == AlertState.RESOLVED else grouping.FIRING,
                acknowledged=a.state == AlertState.ACKNOWLEDGED,
                muted=mutes.get(i, mute.Mute()).muted,
                notified=notified,
            )
            for i, (a, notified, _) in alerts.items()
        ]
        timing = grouping.Timing(
            timedelta(seconds=wait_s), timedelta(seconds=interval_s), timedelta(seconds=repeat_s)
        )
        decision = grouping.decide_flush(members, last_flush_at, timing, now)
        if decision.send:
            ext = self.settings.external_url
            views = tuple(
                alert_view(alerts[i][0], alert_labels(alerts[i][0], alerts[i][2]), ext)
                for i in decision.include
            )
            assert decision.reason is not None
            n = Notification(
                receiver,
                key,
                group_labels,
                views,
                decision.reason,
                ext,
                locale=self.locale,
                zone=self.zone,
            )
            self.send(conn, n, now)
        for alert_id, notified in decision.notified.items():
            conn.execute(
                "UPDATE notify_group_alert SET notified = %s WHERE group_id = %s AND alert_id = %s",
                (notified, gid, alert_id),
            )
        if decision.drop:
            conn.execute(
                "DELETE FROM notify_group_alert WHERE group_id = %s AND alert_id = ANY(%s)",
                (gid, list(decision.drop)),
            )
        if decision.close:
            conn.execute("DELETE FROM notify_group WHERE id = %s", (gid,))
        else:
            conn.execute(
                "UPDATE notify_group SET last_flush_at = %s, next_flush_at = %s WHERE id = %s",
                (now if decision.send else last_flush_at, decision.next_flush_at, gid),
            )

    # ------------------------------------------------------------------ sending

    def _target_context(
        self, conn: psycopg.Connection[Any], labels: Mapping[str, str]
    ) -> dict[str, Any]:
        ctx: dict[str, Any] = {**labels, "topic_root": self.topic_root}
        if labels.get("site_id"):
            row = conn.execute(
                "SELECT extra FROM site WHERE site_id = %s", (labels["site_id"],)
            ).fetchone()
            if row and isinstance(row[0], dict):
                ctx["contact"] = row[0].get("contact", {})
        if labels.get("firm_id"):
            row = conn.execute(
                "SELECT contact, webhook_url FROM firm WHERE firm_id = %s", (labels["firm_id"],)
            ).fetchone()
            if row:
                ctx["firm_contact"] = row[0] or {}
                ctx["firm_webhook_url"] = row[1]
        return ctx

    def send(
        self,
        conn: psycopg.Connection[Any],
        n: Notification,
        now: datetime,
        *,
        action: str = "notified",
        details: dict[str, Any] | None = None,
    ) -> int:
        """Write one notification, a delivery per integration of its receiver, and history."""
        alert_ids = [v.id for v in n.alerts]
        row = conn.execute(
            "INSERT INTO notification (created_at, reason, receiver, group_key, status, alert_ids, details)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                now,
                n.reason,
                n.receiver,
                n.group_key,
                n.status,
                alert_ids,
                Jsonb({**n.extra, **(details or {})}),
            ),
        ).fetchone()
        assert row is not None
        nid = int(row[0])
        NOTIFICATIONS.labels(n.reason, n.receiver).inc()
        context = self._target_context(conn, n.common_labels)
        deliveries: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        for integration in self.settings.receivers.get(n.receiver, []):
            shown = n if integration.send_resolved else n.only(tuple(n.firing))
            shown = shown.in_language(integration.locale)
            if not shown.alerts:
                continue
            target = fill_target(integration.target, context)
            if target is None:
                skipped.append(
                    {
                        "channel": integration.channel,
                        "target": integration.target,
                        "why": "placeholder without value",
                    }
                )
                continue
            delivery_id = enqueue(
                conn,
                integration.channel,
                target,
                render(integration.channel, shown),
                subject=f"notification:{nid}",
                at=now,
                notification_id=nid,
            )
            deliveries.append(
                {"delivery_id": delivery_id, "channel": integration.channel, "target": target}
            )
        history.record(
            conn,
            alert_ids,
            action,
            ACTOR,
            now,
            note=None if deliveries else translate(self.locale, "no integration to deliver to"),
            details={
                "notification_id": nid,
                "receiver": n.receiver,
                "reason": n.reason,
                "status": n.status,
                "group_key": n.group_key,
                "deliveries": deliveries,
                "skipped": skipped,
                **(details or {}),
            },
        )
        return nid

    def route_and_send(
        self,
        conn: psycopg.Connection[Any],
        alert: Alert,
        extra_labels: Mapping[str, str],
        now: datetime,
        *,
        reason: str,
        title: Text,
        message: Text,
        annotations: Mapping[str, str],
        action: str,
        details: dict[str, Any] | None = None,
    ) -> list[int]:
        """A notice about one alert (a rectification notice, a card), routed by the tree
        with extra labels (`notice=...`) and sent at once to every matched receiver."""
        row = conn.execute(
            "SELECT enrichment FROM alert_notify WHERE alert_id = %s", (alert.id,)
        ).fetchone()
        enrichment = row[0] if row else self._enrich(conn, alert)
        labels = {**alert_labels(alert, enrichment), **extra_labels}
        view = alert_view(alert, labels, self.settings.external_url, annotations)
        sent = []
        for plan in route(self.settings.route, labels):
            n = Notification(
                plan.receiver,
                f"{reason}:{alert.id}:{extra_labels.get('notice', '')}",
                plan.group_labels(labels),
                (view,),
                reason,
                self.settings.external_url,
                title=title,
                message=message,
                locale=self.locale,
                zone=self.zone,
            )
            sent.append(self.send(conn, n, now, action=action, details=details))
        return sent

    # ------------------------------------------------------------------ escalation

    def escalate_due(
        self, conn: psycopg.Connection[Any], now: datetime | None = None, limit: int = 200
    ) -> int:
        now = now or self.clock()
        return claim_due(
            conn,
            "SELECT alert_id FROM alert_notify WHERE next_escalation_at <= %s"
            " ORDER BY next_escalation_at LIMIT %s",
            (now, limit),
            f"SELECT {A_COLUMNS}, n.enrichment, n.opened_at, n.escalation_level FROM alert_notify n"  # noqa: S608
            " JOIN alert a ON a.id = n.alert_id"
            " WHERE n.alert_id = %s AND n.next_escalation_at <= %s FOR UPDATE OF n SKIP LOCKED",
            (now,),
            lambda row: self._escalate(conn, row, now),
        )

    def _escalate(self, conn: psycopg.Connection[Any], row: Sequence[Any], now: datetime) -> int:
        """One alert's escalation chain: the steps now due; returns how many were sent."""
        alert = row_to_alert(row[:N_ALERT])
        alert_id = alert.id
        assert alert_id is not None
        enrichment, opened_at, level = row[N_ALERT], row[N_ALERT + 1], row[N_ALERT + 2]
        firing = alert.state == AlertState.FIRING
        muted = (
            firing
            and self.refresh_mutes(conn, now, alert_ids=[alert_id]).get(alert_id, mute.Mute()).muted
        )
        chain = self.settings.escalations.get(alert.severity, [])  # type: ignore[call-overload]
        d = escalation.decide_escalation(
            chain, opened_at, level, now, firing=firing, muted=muted, recheck=self.recheck
        )
        labels = alert_labels(alert, enrichment)
        sent = 0
        for reached, step in d.due:
            view = alert_view(
                alert,
                labels,
                self.settings.external_url,
                {
                    "escalation_level": str(reached),
                    "unacknowledged_for_s": str(int((now - opened_at).total_seconds())),
                },
            )
            n = Notification(
                step.receiver,
                f"escalation:{alert_id}:{reached}",
                {"alertname": alert.code, "alert_id": str(alert_id)},
                (view,),
                "escalation",
                self.settings.external_url,
                extra={"level": reached, "after_s": step.after_s},
                locale=self.locale,
                zone=self.zone,
            )
            self.send(
                conn,
                n,
                now,
                action="escalated",
                details={"level": reached, "after_s": step.after_s},
            )
            sent += 1
        conn.execute(
            "UPDATE alert_notify SET escalation_level = %s, next_escalation_at = %s WHERE alert_id = %s",
            (d.level, d.next_at, alert_id),
        )
        return sent

    # ------------------------------------------------------------------ silences

    def silence_clock(
        self, conn: psycopg.Connection[Any], now: datetime | None = None
    ) -> tuple[int, int]:
        """Silences that came into force or ran out since the last tick: audit, re-evaluate."""
        now = now or self.clock()
        with conn.transaction():
            started = [
                r[0]
                for r in conn.execute(
                    "UPDATE silence SET activated_at = %s WHERE activated_at IS NULL AND starts_at <= %s"
                    " AND ends_at > %s AND expired_at IS NULL RETURNING id",
                    (now, now, now),
                ).fetchall()
            ]
            ended = [
                r[0]
                for r in conn.execute(
                    "UPDATE silence SET expired_at = ends_at, expired_by = 'clock'"
                    " WHERE expired_at IS NULL AND ends_at <= %s RETURNING id",
                    (now,),
                ).fetchall()
            ]
            for sid in ended:
                audit_silence(conn, now, "clock", "expired", sid, {})
            if started:
                self.refresh_mutes(conn, now)
            elif ended:
                ids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT alert_id FROM alert_notify WHERE silenced_by && %s::bigint[]",
                        (ended,),
                    ).fetchall()
                ]
                if ids:
                    self.refresh_mutes(conn, now, alert_ids=ids)
        return len(started), len(ended)

    # ------------------------------------------------------------------ delivery outcomes

    def on_delivery_outcome(self, conn: psycopg.Connection[Any], outcome: DeliveryOutcome) -> None:
        """Delivery worker hook: each attempt's outcome goes to the history of its alerts."""
        if outcome.notification_id is None:
            return
        row = conn.execute(
            "SELECT alert_ids, receiver, reason FROM notification WHERE id = %s",
            (outcome.notification_id,),
        ).fetchone()
        if row is None:
            return
        history.record(
            conn,
            row[0],
            f"notification_{outcome.outcome}",
            f"delivery:{outcome.channel}",
            outcome.at,
            note=outcome.error,
            details={
                "notification_id": outcome.notification_id,
                "delivery_id": outcome.delivery_id,
                "receiver": row[1],
                "reason": row[2],
                "channel": outcome.channel,
                "target": outcome.target,
                "attempts": outcome.attempts,
                "next_attempt_at": outcome.next_attempt_at.isoformat()
                if outcome.next_attempt_at
                else None,
            },
        )
