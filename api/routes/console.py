"""The supervisor console and the firm portal at `/`, and the live alert stream.

The page itself holds no data: the browser keeps the token in sessionStorage and asks
for each view (`/console/views/...`, server-rendered HTML fragments) with it as a Bearer
header, so every render goes through the same authentication and role scoping as the
API (a firm sees its own elevators and tickets, an operator its own kitchen; 404
otherwise). Decisions (review, ack, ticket steps) go to the JSON API.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from brightwatch.api.auth import Principal
from brightwatch.api.deps import Caller, Conn, not_found, require
from brightwatch.api.errors import AUTHENTICATED
from brightwatch.api.inputs import NO_NUL
from brightwatch.api.routes.public import pictures as public_pictures
from brightwatch.api.routes.public import public_pictures_ready, public_url
from brightwatch.api.routes.tickets import Desk
from brightwatch.api.scope import (
    alert_scope,
    may_act,
    may_dispatch,
    may_see_kitchen,
    may_see_kitchens,
    ticket_scope,
)
from brightwatch.api.web import jinja, language, views
from brightwatch.api.web.hygiene import hygiene_record
from brightwatch.api.web.pictures import PrivacyUnavailable
from brightwatch.contract.codes import name_zh
from brightwatch.contract.ids import ID_PATTERN
from brightwatch.i18n import for_reader, local, messages

# the views are the browser's own interface, not the API: not in OpenAPI
router = APIRouter(include_in_schema=False)
# the live alert stream is API (its clients are not only the console): in OpenAPI
stream_router = APIRouter(tags=["alerts"])
Staff = Annotated[Principal, Depends(require("admin", "supervisor"))]
FirmSide = Annotated[Principal, Depends(require("admin", "supervisor", "firm"))]
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]
NO_STORE = {"Cache-Control": "no-store"}


def actor_name(actor: str | None) -> str:
    """An audit trail's actor (`supervisor:3`, `firm:7:FA`) as people read it: the role in
    their language, then the scope and the token's number (`维保单位 FA #7`); one of the
    system's parts by its name in their language (`规则 (elevators)`)."""
    if not actor:
        return ""
    role, _, rest = actor.partition(":")
    if role in views.WORDS["system_actor"]:  # `rule:elevators`, `notifier`, `delivery:email`
        return views.label("system_actor", role) + (f" ({rest})" if rest else "")
    token, _, scope = rest.partition(":")
    if role not in views.WORDS["role"] or not token.isdigit():
        return actor  # a name from elsewhere: as it is
    return " ".join(part for part in (views.label("role", role), scope, f"#{token}") if part)


def trigger_name(code: str) -> str:
    """What opened a ticket or moved a plan, beside its code: an elevator alert code's
    catalogue name (`language.code_name`), or the words of a planner trigger (DUE_DATE, ...)
    in the page's language; "" for anything else (the code is shown alone)."""
    if name_zh(code):
        return language.code_name(code)
    return views.label("ticket_trigger", code) if code in views.WORDS["ticket_trigger"] else ""


def summary_of(alert: Mapping[str, Any]) -> str:
    """An alert's summary in the page's language where its rule wrote it in every
    language (`summaries`), else as stored (the deployment's language)."""
    return for_reader(alert.get("summaries"), language.current_locale(), alert["summary"] or "")


def page_i18n() -> dict[str, Any]:
    """What console.js needs to speak the page's language: its strings and the zone."""
    locale = language.current_locale()
    return {
        "locale": locale,
        "timezone": language.current_zone(),
        "messages": messages(locale, "console.js"),
    }


jinja.env.globals.update(
    label=views.label,
    summary_of=summary_of,
    trigger_name=trigger_name,
    actor_name=actor_name,
    page_i18n=page_i18n,
)


def _render(request: Request, template: str, **context: Any) -> HTMLResponse:
    language.use(language.request_locale(request), language.request_zone(request))
    response = jinja.TemplateResponse(request, template, context)
    response.headers.update(NO_STORE)
    return response


def _now(request: Request) -> datetime:
    return request.app.state.parts.clock()


@router.get("/", response_class=HTMLResponse)
def console(request: Request) -> HTMLResponse:
    """The console shell: sign-in, navigation; the views load with the caller's token."""
    return _render(request, "console.html")


@router.get("/console/views/me")
def me(who: Caller) -> dict[str, Any]:
    return {"role": who.role, "firm_id": who.firm_id, "site_id": who.site_id, "actor": who.actor}


@router.get("/console/views/alerts", response_class=HTMLResponse)
def alerts_view(
    request: Request,
    conn: Conn,
    who: Caller,
    state: Annotated[str, Query(pattern="^(open|firing|acknowledged|resolved)$")] = "open",
    kind: Annotated[str | None, Query(pattern="^(elevator|kitchen)$")] = None,
) -> HTMLResponse:
    listed = views.alerts(conn, who, state, kind)
    return _render(
        request,
        "views/alerts.html",
        alerts=listed["items"],
        total=listed["total"],
        state=state,
        kind=kind,
        can_act=may_act(who),
    )


@router.get("/console/views/alerts/{alert_id}", response_class=HTMLResponse)
def alert_view(
    request: Request, alert_id: Annotated[int, Path(ge=1, le=2**62)], conn: Conn, who: Caller
) -> HTMLResponse:
    """One alert: what it is, everything that happened to it (raised, notified, delivered,
    acknowledged, reviewed, resolved: who and when), the tickets it opened and its
    evidence. 404 outside the caller's scope."""
    now = _now(request)
    a = views.alert(conn, who, alert_id, now)
    if a is None:
        raise not_found()
    return _render(
        request,
        "views/alert.html",
        a=a,
        tickets=views.tickets(conn, who, now, "all", alert_id=alert_id),
        can_act=may_act(who),
        # a kitchen rule's parameters (an elevator's reason is in its summary already)
        rule_text=for_reader(
            a["details"].get("rules"),
            language.request_locale(request),
            a["details"].get("rule") or "",
        )
        if a["kind"] == "kitchen"
        else "",
        event_facts=views.event_facts,
        event_note=views.event_note,
        note_text=views.note_text,
    )


@router.get("/console/views/tickets", response_class=HTMLResponse)
def tickets_view(
    request: Request,
    conn: Conn,
    who: Caller,
    state: Annotated[str, Query(pattern="^(open|all|completed|verified)$")] = "open",
) -> HTMLResponse:
    now = _now(request)
    tickets = views.tickets(conn, who, now, state)
    return _render(
        request,
        "views/tickets.html",
        tickets=tickets,
        total=views.ticket_total(conn, who, state, tickets),
        state=state,
        now=now,
        role=who.role,
        firms=_firms(conn) if may_dispatch(who) else [],
    )


@router.get("/console/views/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_view(
    request: Request,
    ticket_id: Annotated[int, Path(ge=1, le=2**62)],
    conn: Conn,
    who: Caller,
    desk: Desk,
) -> HTMLResponse:
    """One ticket: its place, firm and trigger, its deadlines met or missed, its items,
    attachments and every step (who, when). 404 outside the caller's scope."""
    cond, params = ticket_scope(who)
    visible = conn.execute(
        f"SELECT 1 FROM ticket t WHERE t.id = %s AND {cond}",  # noqa: S608
        [ticket_id, *params],
    ).fetchone()
    if visible is None:
        raise not_found()
    t = desk.view(conn, ticket_id)
    return _render(
        request,
        "views/ticket.html",
        t=t,
        alert_ids=sorted({*t["alert_ids"], *([t["alert_id"]] if t["alert_id"] else [])}),
        role=who.role,
        firms=_firms(conn) if may_dispatch(who) else [],
        ticket_action=views.ticket_action,
        ticket_note=views.ticket_note,
        note_text=views.note_text,
    )


def _firms(conn: Any) -> list[dict[str, Any]]:
    """The firms a supervisor may dispatch a ticket to (one without a firm of its own
    cannot be dispatched otherwise: the lifecycle needs `firm_id` then)."""
    return views.rows(conn, "SELECT firm_id, name FROM firm ORDER BY firm_id", [])


@router.get("/console/views/calendar", response_class=HTMLResponse)
def calendar_view(request: Request, conn: Conn, who: FirmSide) -> HTMLResponse:
    """Five weeks from this week's Monday, in the deployment's local days: a ticket due at
    17:00Z falls on the next day in Shanghai, and shows there."""
    zone = language.request_zone(request)
    today = local(_now(request), zone).date()
    start_day = today - timedelta(days=today.weekday())
    start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=ZoneInfo(zone))
    due = views.calendar(conn, who, start, 35)
    days = []
    for i in range(35):
        d = start_day + timedelta(days=i)
        days.append(
            {
                "date": d,
                "today": d == today,
                "past": d < today,
                "tickets": [t for t in due if local(t["due_at"], zone).date() == d],
            }
        )
    return _render(request, "views/calendar.html", days=days)


@router.get("/console/views/elevators", response_class=HTMLResponse)
def elevators_view(
    request: Request,
    conn: Conn,
    who: FirmSide,
    q: Annotated[str, Query(max_length=100, pattern=NO_NUL)] = "",
) -> HTMLResponse:
    return _render(
        request,
        "views/elevators.html",
        elevators=views.elevator_list(conn, who, q),
        q=q,
    )


@router.get("/console/views/elevators/{elevator_id}", response_class=HTMLResponse)
def elevator_view(request: Request, elevator_id: IdPath, conn: Conn, who: FirmSide) -> HTMLResponse:
    from brightwatch.api.routes.elevators import DETAIL_SECTIONS

    e = views.elevator(conn, who, elevator_id)
    if e is None:
        raise not_found()
    now = _now(request)
    start = now - timedelta(hours=24)
    sections: dict[str, Any] = {}
    for section in DETAIL_SECTIONS:  # maintenance plan and what else the service adds
        sections.update(section(conn, elevator_id))
    return _render(
        request,
        "views/elevator.html",
        e=e,
        timeline=views.status_timeline(conn, elevator_id, start, now),
        start=start,
        now=now,
        faults=views.elevator_faults(conn, elevator_id),
        tickets=views.tickets(conn, who, now, "all", elevator_id),
        sections=sections,
        sentence=views.sentence,
    )


@router.get("/console/views/kitchens", response_class=HTMLResponse)
def kitchens_view(request: Request, conn: Conn, who: Caller) -> HTMLResponse:
    if not may_see_kitchens(who):
        raise not_found()
    return _render(request, "views/kitchens.html", kitchens=views.kitchen_list(conn, who))


@router.get("/console/views/kitchens/{site_id}", response_class=HTMLResponse)
def kitchen_view(request: Request, site_id: IdPath, conn: Conn, who: Caller) -> HTMLResponse:
    settings = request.app.state.parts.settings
    k = views.kitchen(conn, who, site_id, settings.data_dir, settings.api.public_snapshot_max_age_s)
    if k is None:
        raise not_found()
    return _render(
        request,
        "views/kitchen.html",
        k=k,
        record=hygiene_record(
            conn, site_id, _now(request), request.app.state.parts.settings.alerts.stats
        ),
        public_url=public_url(request, site_id),
        filter_ready=public_pictures_ready(request),
    )


@router.get("/console/views/kitchens/{site_id}/cameras/{camera_id}/picture.jpg")
def camera_picture(
    request: Request, site_id: IdPath, camera_id: IdPath, conn: Conn, who: Caller
) -> Response:
    """The camera's latest frame for the kitchen page, faces blurred as on the public page
    (the same filter and cache, any camera of a kitchen the caller may see): the page's
    live picture without a raw frame leaving the server. 404 without a recent frame, 503
    without the face filter (fail closed)."""
    known = conn.execute(
        "SELECT 1 FROM camera WHERE site_id = %s AND camera_id = %s", (site_id, camera_id)
    ).fetchone()
    if not known or not may_see_kitchen(who, site_id):
        raise not_found()
    try:
        picture = public_pictures(request).get(site_id, camera_id)
    except PrivacyUnavailable:
        raise HTTPException(503, "pictures are unavailable: no face filter") from None
    if picture is None:
        raise not_found()
    return Response(
        picture.jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"}
    )


@router.get("/console/views/review", response_class=HTMLResponse)
def review_view(request: Request, who: Staff) -> HTMLResponse:
    return _render(request, "views/review.html")


# ------------------------------------------------------------------ live alerts

STREAM_POLL_S = 1.0  # without a live feed (an app outside `create_app`'s lifespan)
KEEP_ALIVE_S = 15.0
STREAM_LIFETIME_S = 300.0  # the browser reconnects; a dead client never holds a slot long


def _events_after(request: Request, who: Principal, after: int) -> tuple[int, list[dict[str, Any]]]:
    """Visible alert events after `after`, and the cursor to continue from (past the
    events of others too, so they are not scanned again)."""
    cond, params = alert_scope(who)
    with request.app.state.pool.connection() as conn:
        top_row = conn.execute("SELECT coalesce(max(id), 0) FROM alert_event").fetchone()
        top = int(top_row[0]) if top_row else 0
        rows = views.rows(
            conn,
            "SELECT ev.id AS event_id, ev.action, ev.at, a.id, a.kind, a.code, a.severity, a.state,"  # noqa: S608
            " a.device_id, a.site_id, a.summary, a.summaries, a.count FROM alert_event ev"
            f" JOIN alert a ON a.id = ev.alert_id WHERE ev.id > %s AND ev.id <= %s AND {cond}"
            " ORDER BY ev.id LIMIT 200",
            [after, top, *params],
        )
    locale = language.request_locale(request)
    for row in rows:  # the toast speaks the reader's language
        row["summary"] = for_reader(row.pop("summaries"), locale, row["summary"] or "")
    if len(rows) == 200:
        return int(rows[-1]["event_id"]), rows
    return max(after, top), rows


LAST_EVENT_ID = re.compile(r"[0-9]{1,19}")
MAX_EVENT_ID = 2**63 - 1  # alert_event.id is a bigint


def _resume_from(header: str | None) -> int | None:
    """The event id a reconnecting client names, when it can be one of ours (a bigint)."""
    if header is None or not LAST_EVENT_ID.fullmatch(header):
        return None
    value = int(header)
    return value if value <= MAX_EVENT_ID else None


@stream_router.get(
    "/api/v1/alerts/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "`event: alert` per change; `data`: the alert and the action.",
        },
        **AUTHENTICATED,
    },
)
async def alert_stream(
    request: Request,
    who: Caller,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="Resume after this event (the `id` of the last one received);"
            " anything else starts from now.",
        ),
    ] = None,
) -> StreamingResponse:
    """Server-sent events, one per alert change the caller may see (scoped like the list):
    `event: alert`, data = the alert after the change and the action. Resume with the
    `Last-Event-ID` header; ends after a few minutes (clients reconnect)."""
    resume = _resume_from(last_event_id)
    if resume is not None:
        cursor = resume
    else:  # from now on
        cursor = await run_in_threadpool(_latest_event_id, request)

    feed = getattr(request.app.state, "live", None)
    fallback_s = request.app.state.parts.settings.api.live_poll_s

    async def stream() -> Any:
        nonlocal cursor
        deadline = time.monotonic() + STREAM_LIFETIME_S
        quiet_since = time.monotonic()
        yield "retry: 2000\n\n"
        while time.monotonic() < deadline and not await request.is_disconnected():
            # taken before the read: a change announced during it wakes the wait below
            signal = feed.signal() if feed is not None else None
            cursor, events = await run_in_threadpool(_events_after, request, who, cursor)
            for e in events:
                data = json.dumps(e, default=str)
                yield f"id: {e['event_id']}\nevent: alert\ndata: {data}\n\n"
            if events:
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since >= KEEP_ALIVE_S:  # proxies close silent ones
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            if feed is None or signal is None:
                await asyncio.sleep(STREAM_POLL_S)
            else:  # the broker announces alert changes (api.live); read at least this often
                await feed.wait(signal, min(fallback_s, max(0.0, deadline - time.monotonic())))

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _latest_event_id(request: Request) -> int:
    with request.app.state.pool.connection() as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM alert_event").fetchone()
    return int(row[0]) if row else 0
