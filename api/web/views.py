"""What the console's views read, each query confined to the caller (api/scope.py): a
firm sees its elevators and tickets, an operator its site; anything else is not found."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from brightwatch.alerts import history
from brightwatch.alerts.tickets.lifecycle import MAINTENANCE_TYPE_VALUES
from brightwatch.api.auth import Principal
from brightwatch.api.scope import (
    alert_scope,
    elevator_scope,
    evidence_view,
    kitchen_scope,
    may_act,
    may_see_kitchen,
    may_see_notifications,
    ticket_scope,
)
from brightwatch.api.web import language
from brightwatch.contract.codes import SEVERITY_RANK
from brightwatch.i18n import N_, show, translate
from brightwatch.vision import snapshots

Conn = psycopg.Connection[Any]
OPEN_TICKET = ("created", "dispatched", "accepted", "arrived", "escalated", "reassigned")


def rows(
    conn: Conn, sql: str, params: list[Any] | tuple[Any, ...] | dict[str, Any] = ()
) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def total_of(
    conn: Conn, shown: list[dict[str, Any]], limit: int, source: str, params: list[Any]
) -> int:
    """How many rows `FROM {source}` holds when a page showed `shown` of them, at most
    `limit`: counted only when the page is full, so a page that shows fewer says so."""
    if len(shown) < limit:
        return len(shown)
    found = conn.execute(f"SELECT count(*) FROM {source}", params).fetchone()  # noqa: S608
    return int(found[0]) if found else len(shown)


def _alerts_page(
    conn: Conn, select: str, where: str, params: list[Any], order: str, limit: int
) -> dict[str, Any]:
    """The first `limit` alerts of a condition in `order` (`items`) and how many it holds
    (`total`)."""
    items = rows(
        conn,
        f"SELECT {select} FROM alert a WHERE {where} ORDER BY {order} LIMIT %s",  # noqa: S608
        [*params, limit],
    )
    return {"items": items, "total": total_of(conn, items, limit, f"alert a WHERE {where}", params)}


# ------------------------------------------------------------------ words shown for stored values

# Stored values (states, modes, the planner's factor and check names) are keys, not
# texts: each table maps them to a text marked for the catalogue, translated where the
# page is rendered (`label`). A key no table knows is shown as it is, so a new state is
# visible rather than hidden.
SERVICE_MODES = {
    "normal": N_("normal service"),
    "inspection": N_("inspection"),
    "fire_return": N_("fire return"),
    "firefighter": N_("firefighter service"),
    "emergency_power": N_("emergency power"),
    "earthquake": N_("earthquake mode"),
    "out_of_service": N_("out of service"),
    "unknown": N_("unknown"),
}
WORDS: dict[str, dict[str, str]] = {
    # the console's own filters and clocks
    "alert_filter": {
        "open": N_("Not resolved"),
        "firing": N_("Firing"),
        "acknowledged": N_("Acknowledged"),
        "resolved": N_("Resolved"),
    },
    "ticket_filter": {
        "open": N_("In progress"),
        "completed": N_("Completed"),
        "verified": N_("Verified"),
        "all": N_("All"),
    },
    # an SLA clock is named after the step it waits for
    "sla_step": {
        "dispatched": N_("dispatch"),
        "accepted": N_("acceptance"),
        "arrived": N_("arrival"),
        "completed": N_("completion"),
    },
    "role": {
        "admin": N_("administrator"),
        "supervisor": N_("supervisor"),
        "firm": N_("maintenance firm"),
        "operator": N_("kitchen operator"),
    },
    # a due date from the maintenance planner, before its ticket exists
    "plan": {"planned": N_("planned")},
    "severity": {
        "P1": N_("life safety"),
        "P2": N_("urgent"),
        "P3": N_("routine"),
        "INFO": N_("information"),
        "T1": N_("serious"),
        "T2": N_("general"),
        "T3": N_("minor"),
    },
    "availability": {"online": N_("online"), "offline": N_("offline")},
    # the status timeline's segments: a mode outside normal service, else what the car does
    "service_mode": SERVICE_MODES,
    # the status timeline's segments: a mode outside normal service, else what the car does
    "segment": {
        "running": N_("running"),
        "idle": N_("idle"),
        "door_open": N_("doors open"),
        **{k: v for k, v in SERVICE_MODES.items() if k != "normal"},
    },
    "run_state": {"running": N_("running"), "stopped": N_("stopped")},
    "door_state": {
        "closed": N_("doors closed"),
        "open": N_("doors open"),
        "closing": N_("doors closing"),
        "opening": N_("doors opening"),
    },
    "alert_state": {
        "firing": N_("firing"),
        "acknowledged": N_("acknowledged"),
        "resolved": N_("resolved"),
    },
    "ticket_type": {
        "rescue": N_("rescue"),
        "repair": N_("repair"),
        "on_demand": N_("on-demand maintenance"),
        "quarterly": N_("quarterly maintenance"),
        "half_yearly": N_("half-yearly maintenance"),
        "yearly": N_("yearly maintenance"),
    },
    # what opened a ticket when it is not an alert code (elevators.md, ticket triggers)
    "ticket_trigger": {
        "DUE_DATE": N_("maintenance due"),
        "HEALTH_3SIGMA": N_("health indicator beyond 3σ for 24 h"),
        "OFFLINE_24H": N_("terminal offline for over 24 h"),
    },
    "ticket_state": {
        "created": N_("created"),
        "dispatched": N_("dispatched"),
        "accepted": N_("accepted"),
        "arrived": N_("arrived"),
        "escalated": N_("escalated"),
        "reassigned": N_("reassigned"),
        "completed": N_("completed"),
        "verified": N_("verified"),
        "false_alarm": N_("false alarm"),
        "cancelled": N_("cancelled"),
    },
    # completion results (what the firm found), not states
    "ticket_result": {
        "released_in_service": N_("passenger released, back in service"),
        "released_locked_out": N_("passenger released, locked out"),
        "fault_cleared": N_("fault cleared"),
        "out_of_service": N_("out of service"),
        "done": N_("done"),
        "done_with_findings": N_("done, with findings"),
    },
    "case_state": {
        "pending_review": N_("pending review"),
        "dismissed": N_("dismissed"),
        "notified": N_("notified"),
        "rectifying": N_("rectifying"),
        "evidence_submitted": N_("evidence submitted"),
        "verifying": N_("verifying"),
        "escalated": N_("escalated"),
        "closed": N_("closed"),
    },
    "card": {"yellow": N_("yellow card"), "red": N_("red card")},
    # what happened to an alert (alert_event.action): alerts/model.py, the notification
    # pipeline, the delivery worker and the kitchen review workflow write them
    "alert_action": {
        "fired": N_("raised"),
        "refired": N_("raised again"),
        "reopened": N_("reopened"),
        "updated": N_("updated"),
        "acknowledged": N_("acknowledged"),
        "resolved": N_("resolved"),
        "noted": N_("note"),
        "silenced": N_("silenced"),
        "unsilenced": N_("silence ended"),
        "inhibited": N_("inhibited by a related alert"),
        "uninhibited": N_("inhibition ended"),
        "notified": N_("notification sent"),
        "escalated": N_("escalated"),
        "notification_delivered": N_("delivered"),
        "notification_retry": N_("delivery failed, will retry"),
        "notification_failed": N_("delivery failed"),
        "review_queued": N_("queued for review"),
        "review_merged": N_("merged into an open review"),
        "review_suppressed": N_("not queued: dismissed as a false positive moments ago"),
        "review_confirmed": N_("confirmed in review"),
        "review_dismissed": N_("dismissed in review"),
        "plan_submitted": N_("rectification plan submitted"),
        "evidence_submitted": N_("rectification evidence submitted"),
        "verification_started": N_("verification started"),
        "rectification_rejected": N_("rectification rejected"),
        "case_closed": N_("case closed"),
        "plan_overdue": N_("rectification plan overdue"),
        "overdue": N_("rectification overdue"),
        "card_issued": N_("card issued"),
        "notice_rectification": N_("rectification notice sent"),
        "notice_plan_overdue": N_("overdue plan notice sent"),
        "notice_card": N_("card notice sent"),
    },
    "alert_kind": {
        "all": N_("All"),
        "elevator": N_("Elevators"),
        "kitchen": N_("Kitchens"),
    },
    "delivery_state": {
        "pending": N_("pending"),
        "delivered": N_("delivered"),
        "failed": N_("failed"),
    },
    # what happened to a ticket (ticket_event.action) besides a move to a state, which is
    # named by `ticket_state`
    "ticket_action": {
        "created": N_("ticket opened"),
        "alert_joined": N_("another alert of the fault joined"),
        "sla_breached": N_("deadline missed"),
    },
    "item_result": {
        "ok": N_("ok"),
        "adjusted": N_("adjusted"),
        "replaced": N_("replaced"),
        "not_applicable": N_("not applicable"),
    },
    # the system's actors in an audit trail (`rule:elevators`, `delivery:email`)
    "system_actor": {
        "rule": N_("rules"),
        "notifier": N_("notifier"),
        "delivery": N_("delivery"),
        "review": N_("review queue"),
        "clock": N_("scheduled check"),
        "telemetry": N_("elevator telemetry"),
        "dispatch": N_("automatic dispatch"),
        "system": N_("system"),
    },
    "work_area": {
        "cutting": N_("preparation"),
        "cooking": N_("cooking"),
        "serving": N_("serving"),
        "washing": N_("washing and disinfection"),
        "special_room": N_("special room"),
        "storage": N_("storage"),
        "changing": N_("changing room"),
        "toilet": N_("toilet"),
        "other": N_("other"),
    },
    # elevators.maintenance.planner: the factors of R and why a plan was computed
    "factor": {
        "age": N_("age"),
        "fault rate": N_("fault rate"),
        "trapped faults": N_("trapped faults"),
        "usage": N_("usage"),
        "health trend": N_("health trend"),
        "firm": N_("maintenance firm"),
        "user unit management": N_("user unit management"),
    },
    "plan_reason": {"daily": N_("daily pass"), "notice": N_("maintenance notice")},
    "indicator": {
        "vibration": N_("vibration"),
        "door-cycle time": N_("door-cycle time"),
        "door cycles per run": N_("door cycles per run"),
    },
}

# The planner's explanations (elevators/maintenance/planner.py) are English sentences
# with numbers in them: each known form is matched whole and rewritten from the
# catalogue with the same numbers; groups named after a WORDS table are translated too.
# A sentence of no known form stays as the planner wrote it.
SENTENCES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        # eligibility checks
        (r"firm credit rating", N_("firm credit rating")),
        (r"terminal online, last (?P<days>\d+) days", N_("terminal online, last %(days)s days")),
        (r"trapped faults, last (?P<days>\d+) days", N_("trapped faults, last %(days)s days")),
        (r"periodic inspection valid until", N_("periodic inspection valid until")),
        # factor explanations
        (r"install year unknown", N_("install year unknown")),
        (r"no run counter over the window", N_("no run counter over the window")),
        (r"firm credit score unknown", N_("firm credit score unknown")),
        (r"management score unknown", N_("management score unknown")),
        (r"no baseline yet", N_("no baseline yet")),
        (
            r"(?P<age>\d+) years old (?P<scale>\(.*\))",
            N_("%(age)s years old %(scale)s"),
        ),
        (
            r"(?P<n>\d+) P2 faults in (?P<runs>\d+) runs = (?P<rate>\S+) per 1,000 runs;"
            r" fleet p(?P<p>\S+) (?P<scale>\S+)",
            N_(
                "%(n)s P2 faults in %(runs)s runs = %(rate)s per 1,000 runs; fleet p%(p)s %(scale)s"
            ),
        ),
        (
            r"(?P<n>\d+) trapped fault\(s\) in (?P<days>\d+) days (?P<scale>\(.*\))",
            N_("%(n)s trapped fault(s) in %(days)s days %(scale)s"),
        ),
        (
            r"(?P<runs>\d+) runs a day: percentile (?P<pct>\S+) of the fleet",
            N_("%(runs)s runs a day: percentile %(pct)s of the fleet"),
        ),
        (
            r"worst drift: (?P<indicator>.+) at z = (?P<z>\S+) against its own (?P<days>\d+)-day"
            r" baseline (?P<scale>\(.*\))",
            N_(
                "worst drift: %(indicator)s at z = %(z)s against its own %(days)s-day baseline"
                " %(scale)s"
            ),
        ),
        (r"not enough baseline: (?P<indicators>.+)", N_("not enough baseline: %(indicators)s")),
        (
            r"(?P<indicator>[a-z -]+) (?P<have>\d+) of (?P<need>\d+) days",
            N_("%(indicator)s %(have)s of %(need)s days"),
        ),
        (r"1 − credit score (?P<s>\S+) / 100", N_("1 − credit score %(s)s / 100")),
        (r"1 − management score (?P<s>\S+) / 100", N_("1 − management score %(s)s / 100")),
        # why this interval
        (r"R (?P<r>\S+) < (?P<b>\S+)", N_("R %(r)s < %(b)s")),
        (r"R (?P<r>\S+) in \[(?P<a>\S+), (?P<b>\S+)\)", N_("R %(r)s in [%(a)s, %(b)s)")),
        (
            r"R (?P<r>\S+) ≥ (?P<b>\S+): targeted inspection",
            N_("R %(r)s ≥ %(b)s: targeted inspection"),
        ),
        (
            r"not eligible \((?P<checks>[^;]+)\): statutory round",
            N_("not eligible (%(checks)s): statutory round"),
        ),
        (r"not eligible \((?P<checks>[^;]+)\)", N_("not eligible (%(checks)s)")),
        (
            r"P1 fault (?P<code>[A-Z0-9_]+) on (?P<day>\S+): (?P<n>\d+) days until (?P<until>\S+)",
            N_("P1 fault %(code)s on %(day)s: %(n)s days until %(until)s"),
        ),
        (
            r"on-demand status withdrawn \((?P<why>[^;]+)\): statutory round",
            N_("on-demand status withdrawn (%(why)s): statutory round"),
        ),
        (
            r"on-demand status withdrawn: (?P<why>[^;]+); bureau notified",
            N_("on-demand status withdrawn: %(why)s; bureau notified"),
        ),
        (
            r"(?P<n>\d+) trapped faults in (?P<days>\d+) days \(last (?P<day>\S+)\)",
            N_("%(n)s trapped faults in %(days)s days (last %(day)s)"),
        ),
        (
            r"terminal offline since (?P<since>\S+): visit now",
            N_("terminal offline since %(since)s: visit now"),
        ),
        (
            r"(?P<indicator>.+) beyond (?P<sigma>\S+)σ on (?P<day>\S+) \(z = (?P<z>\S+)\): visit now",
            N_("%(indicator)s beyond %(sigma)sσ on %(day)s (z = %(z)s): visit now"),
        ),
    )
)
# groups holding names or lists of other sentences, translated before they are put back
NESTED = {"indicator": "indicator", "indicators": None, "checks": None, "why": None}


def label(table: str, key: Any) -> str:
    """A stored key in the page's language: its catalogue text, or the key itself."""
    if key is None:
        return ""
    text = WORDS.get(table, {}).get(str(key))
    return translate(language.current_locale(), text) if text else str(key)


def sentence(text: str | None) -> str:
    """One of the planner's explanations in the page's language (see SENTENCES); parts
    joined with "; " or ", " are translated one by one."""
    if not text:
        return ""
    locale = language.current_locale()
    parts = [_sentence(locale, part) for part in _known_parts(text, "; ")]
    return ("；" if locale == "zh-CN" else "; ").join(parts)


def _known_parts(text: str, sep: str = ", ") -> list[str]:
    """`text` split at `sep`, keeping together the parts of a known sentence that holds
    `sep` itself ("terminal online, last 30 days")."""
    tokens, out, i = text.split(sep), [], 0
    while i < len(tokens):
        j = next(
            (
                j
                for j in range(len(tokens), i + 1, -1)
                if any(p.fullmatch(sep.join(tokens[i:j])) for p, _ in SENTENCES)
            ),
            i + 1,
        )
        out.append(sep.join(tokens[i:j]))
        i = j
    return out


def _sentence(
    locale: str, text: str, forms: tuple[tuple[re.Pattern[str], str], ...] = SENTENCES
) -> str:
    for pattern, msgid in forms:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        params = {}
        for name, value in m.groupdict().items():
            if name in NESTED and value is not None:
                table = NESTED[name]
                if table is not None:
                    value = label(table, value)
                else:
                    value = ("，" if locale == "zh-CN" else ", ").join(
                        _sentence(locale, v) for v in _known_parts(value)
                    )
            params[name] = value
        return translate(locale, msgid, **params)
    return text


# ------------------------------------------------------------------ alerts

# Notes the system writes in English on an alert's actions and a ticket's steps (the
# kitchen review workflow, alerts/review/workflow.py; the ticket lifecycle; the console's
# own buttons and uploads, console.js): each known form
# is shown in the page's language, a person's words inside it as written. A person's own
# note, or anything of no known form, is shown as it was written.
NOTES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), text)
    for pattern, text in (
        (r"confirmed in review (?P<review>\d+)", N_("confirmed in review %(review)s")),
        (r"false positive \(review (?P<review>\d+)\)", N_("false positive (review %(review)s)")),
        (
            r"false positive \(review (?P<review>\d+)\): (?P<note>.+)",
            N_("false positive (review %(review)s): %(note)s"),
        ),
        (r"rectified, review (?P<review>\d+) closed", N_("rectified, review %(review)s closed")),
        (r"acknowledged in the console", N_("acknowledged in the console")),
        (r"resolved in the console", N_("resolved in the console")),
        (r"completion photo", N_("completion photo")),
        (r"silenced from the console", N_("silenced from the console")),
        # alerts/tickets/lifecycle.on_breach
        (
            r"not accepted in time by (?P<firm>\S+); reassigned to (?P<next>\S+)",
            N_("not accepted in time by %(firm)s; reassigned to %(next)s"),
        ),
    )
)
# actions whose stored note the system wrote in the deployment's language
# (alerts/routing/pipeline.py, alerts/review/store.py): their line is written from the
# action and its details instead, in the reader's
NOTE_FROM_DETAILS = frozenset({"notified", "escalated", "review_suppressed"})


def note_text(note: str | None) -> str:
    """A note as the page shows it: a known form of the system's (NOTES) in the page's
    language, anything else as written."""
    return _sentence(language.current_locale(), note, NOTES) if note else ""


def event_note(action: str, note: str | None) -> str:
    """An alert action's note as the page shows it (see NOTES)."""
    if action in NOTE_FROM_DETAILS or action.startswith("notice_"):
        return ""
    return note_text(note)


def event_facts(action: str, details: dict[str, Any]) -> str:
    """What an alert action's details say, in the page's language: whom a notification
    went to and through which channels, a delivery's channel and attempt, the silences
    or alerts that muted it, the review case or card."""
    locale = language.current_locale()
    sep = "，" if locale == "zh-CN" else ", "
    if action in ("fired", "refired", "reopened"):
        parts = [label("severity", details.get("severity"))]
        if action != "fired" and details.get("count"):
            parts.append(translate(locale, N_("occurrence %(n)s"), n=details["count"]))
        return sep.join(p for p in parts if p)
    if action in ("notified", "escalated") or action.startswith("notice_"):
        receiver = details.get("receiver", "")
        channels = sorted({d.get("channel", "") for d in details.get("deliveries") or []})
        if channels:
            said = translate(
                locale,
                N_("to %(receiver)s by %(channels)s"),
                receiver=receiver,
                channels=sep.join(channels),
            )
        else:
            said = translate(
                locale, N_("to %(receiver)s: no integration to deliver to"), receiver=receiver
            )
        if action == "escalated" and details.get("level") is not None:
            said = translate(locale, N_("level %(level)s"), level=details["level"]) + sep + said
        return said
    if action.startswith("notification_"):
        return translate(
            locale,
            N_("%(channel)s to %(target)s, attempt %(n)s"),
            channel=details.get("channel", ""),
            target=details.get("target", ""),
            n=details.get("attempts", 1),
        )
    if action in ("silenced", "unsilenced"):
        ids = ", ".join(f"#{i}" for i in details.get("silences") or [])
        return translate(locale, N_("silence %(ids)s"), ids=ids)
    if action in ("inhibited", "uninhibited"):
        ids = ", ".join(f"#{i}" for i in details.get("sources") or [])
        return translate(locale, N_("by alert %(ids)s"), ids=ids)
    parts = []
    if details.get("review_id") is not None:
        parts.append(translate(locale, N_("review %(id)s"), id=details["review_id"]))
    if action == "card_issued" and details.get("card"):
        parts.append(label("card", details["card"]))
    return sep.join(parts)


def ticket_action(action: str) -> str:
    """A ticket history line's name: a move to a state by the state's name, the other
    actions by theirs."""
    if action in WORDS["ticket_action"]:
        return label("ticket_action", action)
    return label("ticket_state", action)


# ticket steps the system takes with a note in the deployment's language
# (alerts/tickets/store.py): written again here, in the reader's
SYSTEM_TICKET_NOTES = {
    ("verified", "clock"): N_("no recurrence and enough normal runs since completion"),
}


def ticket_note(action: str, actor: str, note: str | None, details: dict[str, Any]) -> str:
    """A ticket history line's note as the page shows it: the system's own words in the
    reader's language, a person's as written (see NOTES)."""
    locale = language.current_locale()
    if action == "arrived" and actor == "telemetry" and details.get("inspection_from"):
        at = datetime.fromisoformat(details["inspection_from"])
        shown = show(at, language.current_zone(), "second")
        return translate(locale, N_("car in inspection mode from %(at)s"), at=shown)
    fixed = SYSTEM_TICKET_NOTES.get((action, actor))
    return translate(locale, fixed) if fixed else note_text(note)


EVENTS_SHOWN = 300  # an alert that flaps for weeks: its latest steps (the API has them all)


def alert(conn: Conn, who: Principal, alert_id: int, now: datetime) -> dict[str, Any] | None:
    """One alert the caller may see, with its history, the notifications sent about it
    and the silences muting them (staff only), and the newest of its evidence pictures
    the caller may open."""
    cond, params = alert_scope(who)
    found = rows(
        conn,
        "SELECT a.id, a.kind, a.code, a.severity, a.state, a.device_id, a.site_id, a.started_at,"  # noqa: S608
        " a.updated_at, a.last_raised_at, a.count, a.summary, a.summaries, a.acknowledged_at,"
        " a.acknowledged_by, a.resolved_at, a.resolved_by, a.details"
        f" FROM alert a WHERE a.id = %s AND {cond}",
        [alert_id, *params],
    )
    if not found:
        return None
    a = found[0]
    events = history.events_of(conn, alert_id)
    a["events"], a["events_left_out"] = events[-EVENTS_SHOWN:], max(0, len(events) - EVENTS_SHOWN)
    a["notifications"] = (
        history.notifications_of(conn, alert_id) if may_see_notifications(who) else []
    )
    # the silences muting its notifications now, for those who may end them
    a["silences"] = (
        rows(
            conn,
            "SELECT s.id, s.ends_at, s.created_by, s.comment FROM silence s"
            " JOIN alert_notify n ON s.id = ANY(n.silenced_by)"
            " WHERE n.alert_id = %s AND s.expired_at IS NULL AND s.ends_at > %s ORDER BY s.id",
            (alert_id, now),
        )
        if may_act(who)
        else []
    )
    visible, more = evidence_condition(who)
    a["evidence"] = rows(
        conn,
        "SELECT e.id, e.camera_id, e.captured_at FROM evidence e"  # noqa: S608
        f" WHERE e.alert_id = %s AND {visible} ORDER BY e.captured_at DESC, e.id DESC LIMIT 6",
        [alert_id, *more],
    )
    return a


ALERTS_SHOWN = 200
# most urgent first across both catalogues (P1 and T1 alike, then P2 and T2, ..., INFO
# last): the severity's text alone would put INFO first and T1 after P3
SEVERITY_ORDER = (
    "CASE a.severity "
    + " ".join(f"WHEN '{sev}' THEN {rank}" for sev, rank in SEVERITY_RANK.items())
    + " ELSE 9 END"
)


def alerts(
    conn: Conn,
    who: Principal,
    state: str = "open",
    kind: str | None = None,
) -> dict[str, Any]:
    """The alerts of a filter, most urgent first (at most ALERTS_SHOWN: `items`), and how
    many the filter holds (`total`)."""
    cond, params = alert_scope(who)
    where = [cond]
    if state == "open":
        where.append("a.state <> 'resolved'")
    elif state in ("firing", "acknowledged", "resolved"):
        where.append("a.state = %s")
        params.append(state)
    if kind is not None:
        where.append("a.kind = %s")
        params.append(kind)
    return _alerts_page(
        conn,
        "a.id, a.kind, a.code, a.severity, a.state, a.device_id, a.site_id, a.started_at,"
        " a.updated_at, a.count, a.summary, a.summaries, a.acknowledged_by",
        " AND ".join(where),
        params,
        f"(a.state = 'resolved'), {SEVERITY_ORDER}, a.started_at DESC",
        ALERTS_SHOWN,
    )


# ------------------------------------------------------------------ tickets


TICKETS_SHOWN = 300


def _ticket_filter(
    who: Principal, state: str, elevator_id: str | None, alert_id: int | None
) -> tuple[str, list[Any]]:
    cond, params = ticket_scope(who)
    where = [cond]
    if state == "open":
        where.append("t.state = ANY(%s)")
        params.append(list(OPEN_TICKET))
    elif state != "all":
        where.append("t.state = %s")
        params.append(state)
    if elevator_id:
        where.append("t.elevator_id = %s")
        params.append(elevator_id)
    if alert_id is not None:
        where.append("(t.alert_id = %s OR %s = ANY(t.alert_ids))")
        params += [alert_id, alert_id]
    return " AND ".join(where), params


def ticket_total(conn: Conn, who: Principal, state: str, shown: list[dict[str, Any]]) -> int:
    """How many tickets a filter of the list holds, the list showing `shown` of them."""
    where, params = _ticket_filter(who, state, None, None)
    return total_of(conn, shown, TICKETS_SHOWN, f"ticket t WHERE {where}", params)


def tickets(
    conn: Conn,
    who: Principal,
    now: datetime,
    state: str = "open",
    elevator_id: str | None = None,
    alert_id: int | None = None,
) -> list[dict[str, Any]]:
    """Tickets with their running SLA clock, newest first, at most TICKETS_SHOWN (of one
    elevator, or opened or fed by one alert, when asked)."""
    where, params = _ticket_filter(who, state, elevator_id, alert_id)
    found = rows(
        conn,
        "SELECT t.id, t.type, t.state, t.elevator_id, t.address, t.district, t.firm_id, t.trigger,"  # noqa: S608
        " t.created_at, t.due_at, t.accepted_at, t.arrived_at, t.completed_at, t.result"
        f" FROM ticket t WHERE {where} ORDER BY t.id DESC LIMIT %s",
        [*params, TICKETS_SHOWN],
    )
    clocks: dict[int, dict[str, Any]] = {}
    if found:
        for c in rows(
            conn,
            "SELECT DISTINCT ON (ticket_id) ticket_id, step, due_at, breached_at FROM ticket_clock"
            " WHERE ticket_id = ANY(%s) AND kind = 'sla' AND met_at IS NULL AND voided_at IS NULL"
            " ORDER BY ticket_id, due_at",
            ([t["id"] for t in found],),
        ):
            clocks[c["ticket_id"]] = c
    for t in found:
        clock = clocks.get(t["id"])
        t["sla_step"] = clock["step"] if clock else None
        t["sla_due"] = clock["due_at"] if clock else None
        t["sla_breached"] = bool(clock and (clock["breached_at"] or clock["due_at"] < now))
    return found


def calendar(conn: Conn, who: Principal, start: datetime, days: int) -> list[dict[str, Any]]:
    """What is due in [start, start + days): maintenance tickets, and the planner's next
    due dates of elevators that have no ticket for them yet (the planner opens a ticket a
    few days ahead, so later dates would otherwise not show)."""
    tcond, params = ticket_scope(who)
    end = start + timedelta(days=days)
    due = rows(
        conn,
        "SELECT t.id, t.type, t.state, t.elevator_id, t.address, t.due_at FROM ticket t"  # noqa: S608
        f" WHERE {tcond} AND t.type = ANY(%s) AND t.due_at >= %s AND t.due_at < %s"
        " AND t.state NOT IN ('cancelled', 'false_alarm') ORDER BY t.due_at",
        [*params, MAINTENANCE_TYPE_VALUES, start, end],
    )
    cond, eparams = elevator_scope(who)
    ticketed = {t["elevator_id"] for t in due}
    planned = rows(
        conn,
        "SELECT * FROM (SELECT DISTINCT ON (p.elevator_id) p.elevator_id, e.address,"  # noqa: S608
        " p.next_due_at AS due_at, p.interval_days FROM maintenance_plan p"
        f" JOIN elevator e ON e.elevator_id = p.elevator_id WHERE {cond}"
        " ORDER BY p.elevator_id, p.computed_at DESC, p.id DESC) latest"
        " WHERE due_at >= %s AND due_at < %s ORDER BY due_at",
        [*eparams, start, end],
    )
    for p in planned:
        if p["elevator_id"] not in ticketed:
            due.append(
                {**p, "id": None, "type": f"every {p['interval_days']} d", "state": "planned"}
            )
    due.sort(key=lambda t: t["due_at"])
    return due


# ------------------------------------------------------------------ elevators


def elevator_list(
    conn: Conn, who: Principal, query: str = "", limit: int = 200
) -> list[dict[str, Any]]:
    cond, params = elevator_scope(who)
    where = [cond]
    if query:
        where.append("(e.elevator_id ILIKE %s OR e.address ILIKE %s)")
        params += [f"%{query}%", f"%{query}%"]
    return rows(
        conn,
        "SELECT e.elevator_id, e.address, e.district, e.firm_id, p.availability, p.last_seen,"  # noqa: S608
        " (SELECT count(*) FROM alert a WHERE a.kind = 'elevator' AND a.device_id = e.elevator_id"
        "  AND a.state <> 'resolved') AS open_alerts"
        " FROM elevator e LEFT JOIN device_presence p"
        " ON p.device_kind = 'elevator' AND p.device_key = e.elevator_id"
        f" WHERE {' AND '.join(where)} ORDER BY e.elevator_id LIMIT %s",
        [*params, limit],
    )


def elevator(conn: Conn, who: Principal, elevator_id: str) -> dict[str, Any] | None:
    cond, params = elevator_scope(who)
    found = rows(
        conn,
        "SELECT e.*, p.availability, p.availability_at, p.last_seen, p.last_status,"  # noqa: S608
        " f.name AS firm_name"
        " FROM elevator e LEFT JOIN device_presence p"
        " ON p.device_kind = 'elevator' AND p.device_key = e.elevator_id"
        " LEFT JOIN firm f ON f.firm_id = e.firm_id"
        f" WHERE e.elevator_id = %s AND {cond}",
        [elevator_id, *params],
    )
    return found[0] if found else None


# state colours of the timeline, by precedence: a mode outside normal service first
def _segment_state(sample: dict[str, Any]) -> str:
    if sample["service_mode"] != "normal":
        return sample["service_mode"]
    if sample["run_state"] == "running":
        return "running"
    if sample["door_state"] != "closed":
        return "door_open"
    return "idle"


def status_timeline(
    conn: Conn, elevator_id: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Contiguous segments of the same state over [start, end], as fractions of the span."""
    samples = rows(
        conn,
        "SELECT ts, service_mode, run_state, door_state FROM elevator_status"
        " WHERE elevator_id = %s AND ts >= %s AND ts < %s ORDER BY ts, seq LIMIT 50000",
        (elevator_id, start, end),
    )
    span = (end - start).total_seconds()
    segments: list[dict[str, Any]] = []
    for i, s in enumerate(samples):
        state = _segment_state(s)
        until = samples[i + 1]["ts"] if i + 1 < len(samples) else end
        if segments and segments[-1]["state"] == state:
            segments[-1]["until"] = until
        else:
            segments.append({"state": state, "from": s["ts"], "until": until})
    for seg in segments:
        seg["left"] = round(100 * (seg["from"] - start).total_seconds() / span, 3)
        seg["width"] = round(100 * (seg["until"] - seg["from"]).total_seconds() / span, 3)
    return segments


FAULTS_SHOWN = 50  # an elevator page's faults, newest first
VIOLATIONS_SHOWN = 100  # a kitchen page's violations, newest first


def elevator_faults(conn: Conn, elevator_id: str) -> dict[str, Any]:
    return _alerts_page(
        conn,
        "a.id, a.code, a.severity, a.state, a.started_at, a.resolved_at, a.count, a.summary,"
        " a.summaries",
        "a.kind = 'elevator' AND a.device_id = %s",
        [elevator_id],
        "a.started_at DESC",
        FAULTS_SHOWN,
    )


# ------------------------------------------------------------------ kitchens


def kitchen_list(conn: Conn, who: Principal) -> list[dict[str, Any]]:
    cond, params = kitchen_scope(who)
    return rows(
        conn,
        "SELECT s.site_id, s.name, s.district, s.address,"  # noqa: S608
        " (SELECT count(*) FROM camera c WHERE c.site_id = s.site_id) AS cameras,"
        " (SELECT count(*) FROM alert a WHERE a.kind = 'kitchen' AND a.site_id = s.site_id"
        "  AND a.state <> 'resolved') AS open_violations"
        f" FROM site s WHERE s.kind = 'kitchen' AND {cond} ORDER BY s.site_id LIMIT 500",
        params,
    )


def kitchen(
    conn: Conn, who: Principal, site_id: str, data_dir: Path, live_within_s: float
) -> dict[str, Any] | None:
    if not may_see_kitchen(who, site_id):
        return None
    found = rows(conn, "SELECT * FROM site WHERE site_id = %s AND kind = 'kitchen'", (site_id,))
    if not found:
        return None
    site = found[0]
    site["cameras"] = rows(
        conn,
        "SELECT c.camera_id, c.name, c.work_area, c.is_public, p.availability, p.last_seen"
        " FROM camera c LEFT JOIN device_presence p"
        " ON p.device_kind = 'camera' AND p.device_key = c.site_id || '/' || c.camera_id"
        " WHERE c.site_id = %s ORDER BY c.camera_id",
        (site_id,),
    )
    for c in site["cameras"]:
        c.update(camera_pictures(conn, who, site_id, c["camera_id"], data_dir, live_within_s))
    site["violations"] = _alerts_page(
        conn,
        "a.id, a.code, a.severity, a.state, a.device_id AS camera_id, a.started_at,"
        " a.resolved_at, a.summary",
        "a.kind = 'kitchen' AND a.site_id = %s",
        [site_id],
        "a.started_at DESC",
        VIOLATIONS_SHOWN,
    )
    site["rectifications"] = rows(
        conn,
        "SELECT r.id, r.alert_id, r.code, r.tier, r.state, r.camera_id, r.detected_at, r.plan_due_at,"
        " r.fix_due_at, r.card, r.closed_at,"
        " (SELECT count(*) FROM rectification x WHERE x.review_id = r.id) AS submissions"
        " FROM review r WHERE r.site_id = %s AND r.decision = 'confirm'"
        " ORDER BY r.detected_at DESC LIMIT 100",
        (site_id,),
    )
    return site


# a camera's evidence rows looked at for one whose file is still there (the retention
# sweep removes old files; a page must not point at a picture that is gone)
EVIDENCE_LOOKBACK = 5


def evidence_condition(who: Principal) -> tuple[str, list[Any]]:
    """Condition on an `evidence e` row: the pictures the caller may open (an operator's
    view hides pending and dismissed cases, api/scope.evidence_view; pointing a page at
    one of those gives the operator a broken image)."""
    view = evidence_view(who)
    if view is None:
        return "TRUE", []
    return (
        "e.site_id = %s AND NOT EXISTS (SELECT 1 FROM review r"
        " WHERE r.alert_id = e.alert_id AND r.state = ANY(%s))",
        [view.site_id, list(view.hidden_states)],
    )


def camera_pictures(
    conn: Conn, who: Principal, site_id: str, camera_id: str, data_dir: Path, live_within_s: float
) -> dict[str, Any]:
    """What the kitchen page shows of one camera's pictures, for this caller:

    - `latest_evidence`, `evidence_at`: the newest evidence picture the caller may open
      (`evidence_condition`), and only when its file is still in the data folder;
    - `snapshot_at`: when the vision worker last wrote the camera's frame
      (vision.snapshots); `live`: that frame is recent enough to be shown;
    - `last_frame`: the freshest of the two. The presence row's `last_seen` moves only
      with the camera's availability messages, so it is not when a frame last came."""
    visible, params = evidence_condition(who)
    candidates = rows(
        conn,
        "SELECT e.id, e.captured_at, e.path FROM evidence e"  # noqa: S608
        f" WHERE e.site_id = %s AND e.camera_id = %s AND {visible}"
        " ORDER BY e.id DESC LIMIT %s",
        [site_id, camera_id, *params, EVIDENCE_LOOKBACK],
    )
    evidence = next((e for e in candidates if _stored(data_dir, e["path"])), None)
    stamp = snapshots.stamp(data_dir, site_id, camera_id)
    snapshot_at = datetime.fromtimestamp(stamp[0], UTC) if stamp else None
    frames = [t for t in (snapshot_at, evidence and evidence["captured_at"]) if t]
    return {
        "latest_evidence": evidence["id"] if evidence else None,
        "evidence_at": evidence["captured_at"] if evidence else None,
        "snapshot_at": snapshot_at,
        "live": stamp is not None and time.time() - stamp[0] <= live_within_s,
        "last_frame": max(frames) if frames else None,
    }


def _stored(data_dir: Path, relative: str) -> bool:
    path = (data_dir / relative).resolve()
    return data_dir.resolve() in path.parents and path.is_file()
