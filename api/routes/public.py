"""Public kitchen pages (interfaces.md, HTTP; kitchens.md, Public feed): no login,
rate-limited per client address, cacheable; only public work-area cameras, only during
the kitchen's operating hours, faces blurred; no alert boxes, no staff names."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from fastapi.responses import HTMLResponse
from psycopg.rows import dict_row

from brightwatch.api.deps import Conn, not_found
from brightwatch.api.errors import ErrorBody, errors
from brightwatch.api.web import jinja, language
from brightwatch.api.web.hours import is_open
from brightwatch.api.web.hygiene import hygiene_record
from brightwatch.api.web.pictures import PrivacyUnavailable, PublicPictures
from brightwatch.api.web.ratelimit import RateLimiter
from brightwatch.contract.ids import ID_PATTERN
from brightwatch.i18n import N_, timefmt, translate

# kitchens.md: the work areas shown to the public; never changing rooms or toilets, and
# storage or unclassified cameras stay private too
PUBLIC_WORK_AREAS = ("cutting", "cooking", "serving", "washing", "special_room")
WORK_AREA_NAMES = {
    "cutting": N_("Preparation"),
    "cooking": N_("Cooking"),
    "serving": N_("Serving"),
    "washing": N_("Washing and disinfection"),
    "special_room": N_("Special room"),
}
# registry/models.py OpeningHours.days: "daily", day names, ranges ("mon-fri"), lists
DAY_NAMES = {
    "daily": N_("daily"),
    "mon": N_("Mon"),
    "tue": N_("Tue"),
    "wed": N_("Wed"),
    "thu": N_("Thu"),
    "fri": N_("Fri"),
    "sat": N_("Sat"),
    "sun": N_("Sun"),
}
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]


def rate_limited(request: Request) -> None:
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "public_limiter", None)
    if limiter is None:
        limiter = RateLimiter(state.parts.settings.api.public_rate_per_minute)
        state.public_limiter = limiter
    client = request.client.host if request.client else "unknown"
    wait = limiter.take(client)
    if wait > 0:
        raise HTTPException(
            429, "too many requests", headers={"Retry-After": RateLimiter.retry_after(wait)}
        )


# no token; every route may be rate-limited, and answers 503 while the database is away
router = APIRouter(
    prefix="/public",
    tags=["public"],
    dependencies=[Depends(rate_limited)],
    responses=errors(404, 422, 429, 503),
)


def pictures(request: Request) -> PublicPictures:
    return app_pictures(request.app)


def app_pictures(app: Any) -> PublicPictures:
    """The app's public pictures, made on first use (a serving process's start-up:
    brightwatch.components.api)."""
    state = app.state
    if getattr(state, "public_pictures", None) is None:
        s = state.parts.settings
        state.public_pictures = PublicPictures(
            s.data_dir,
            s.api.face_model,
            s.api.public_refresh_s,
            s.api.public_max_width,
            s.api.public_snapshot_max_age_s,
        )
    return state.public_pictures


def _kitchen(conn: Conn, site_id: str) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        site = cur.execute(
            "SELECT site_id, name, operator, address, district, timezone, operating_hours"
            " FROM site WHERE site_id = %s AND kind = 'kitchen'",
            (site_id,),
        ).fetchone()
    if site is None:
        raise not_found()
    return site


def _public_cameras(conn: Conn, site_id: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT camera_id, name, work_area FROM camera WHERE site_id = %s AND is_public"
            " AND work_area = ANY(%s) ORDER BY camera_id",
            (site_id, list(PUBLIC_WORK_AREAS)),
        ).fetchall()


def public_pictures_ready(request: Request) -> bool:
    """Whether pictures can be served at all: the face filter loads (fail closed without
    it); pages say so instead of showing a picture that cannot come."""
    try:
        pictures(request).privacy_filter()
    except PrivacyUnavailable:
        return False
    return True


def hours_text(locale: str, hours: list[dict[str, Any]], zone: str, at: datetime) -> str:
    """Opening hours as the reader says them, in the site's zone with its UTC offset at
    `at` (`daily 06:00–22:00 (UTC+08:00)`, `每天 06:00–22:00（UTC+08:00）`)."""
    if not hours:
        return translate(locale, "not registered")
    windows = []
    for w in hours:
        days = re.sub(
            "[a-z]+",
            lambda m: translate(locale, DAY_NAMES[m[0]]) if m[0] in DAY_NAMES else m[0],
            str(w.get("days", "daily")).lower(),
        )
        windows.append(f"{days} {w['open']}–{w['close']}")
    offset = timefmt.offset(timefmt.local(at, zone))
    joined = ("，" if locale == "zh-CN" else ", ").join(windows)
    return translate(locale, "%(hours)s (UTC%(offset)s)", hours=joined, offset=offset)


def public_url(request: Request, site_id: str) -> str:
    base = request.app.state.parts.settings.api.public_base_url
    root = base or str(request.base_url).rstrip("/")
    return f"{root}/public/kitchens/{site_id}"


@router.get(
    "/kitchens/{site_id}",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
def kitchen_page(request: Request, site_id: IdPath, conn: Conn) -> Response:
    """The kitchen's live work-area pictures (privacy-filtered) and hygiene record."""
    site = _kitchen(conn, site_id)
    now = request.app.state.parts.clock()
    locale = language.request_locale(request)
    zone = site["timezone"] or language.request_zone(request)
    open_now = is_open(site["operating_hours"], site["timezone"], now)
    cameras = _public_cameras(conn, site_id) if open_now else []
    for c in cameras:
        area = WORK_AREA_NAMES.get(c["work_area"])
        c["area"] = translate(locale, area) if area else c["work_area"]
    # the page's language and the site's own zone, for this render (language.use)
    language.use(locale, zone)
    response = jinja.TemplateResponse(
        request,
        "public_kitchen.html",
        {
            "site": site,
            "now": now,
            "open_now": open_now,
            "hours": hours_text(locale, site["operating_hours"], zone, now),
            "cameras": cameras,
            "pictures_ready": public_pictures_ready(request) if cameras else True,
            "record": hygiene_record(
                conn, site_id, now, request.app.state.parts.settings.alerts.stats
            ),
            "refresh_s": int(request.app.state.parts.settings.api.public_refresh_s),
            "page_url": public_url(request, site_id),
        },
    )
    response.headers["Cache-Control"] = "public, max-age=30"
    # one URL, two languages (cookie or ?lang=): shared caches must keep them apart
    response.headers["Vary"] = "Cookie"
    return response


@router.get(
    "/kitchens/{site_id}/cameras/{camera_id}/snapshot.jpg",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The privacy-filtered picture."},
        503: {
            "model": ErrorBody,
            "description": "The face filter is unavailable (no model): nothing is published"
            " (fail closed); or the database is unavailable.",
        },
    },
)
def snapshot(request: Request, site_id: IdPath, camera_id: IdPath, conn: Conn) -> Response:
    """Latest privacy-filtered picture: public work-area cameras in operating hours only."""
    site = _kitchen(conn, site_id)
    if not any(c["camera_id"] == camera_id for c in _public_cameras(conn, site_id)):
        raise not_found()
    if not is_open(site["operating_hours"], site["timezone"], request.app.state.parts.clock()):
        raise not_found()
    try:
        picture = pictures(request).get(site_id, camera_id)
    except PrivacyUnavailable:
        # fail closed: without the face filter nothing is published
        raise HTTPException(503, "public pictures are unavailable") from None
    if picture is None:
        raise not_found()
    refresh = int(request.app.state.parts.settings.api.public_refresh_s)
    return Response(
        picture.jpeg,
        media_type="image/jpeg",
        headers={"Cache-Control": f"public, max-age={refresh}"},
    )


def _qr(request: Request, site_id: str) -> segno.QRCode:
    return segno.make(public_url(request, site_id), error="m")


@router.get(
    "/kitchens/{site_id}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "The QR code."}},
)
def qr_svg(request: Request, site_id: IdPath, conn: Conn) -> Response:
    """QR code of the public page, for the shop window (vector, prints at any size)."""
    _kitchen(conn, site_id)
    buf = io.BytesIO()
    _qr(request, site_id).save(buf, kind="svg", scale=10, border=4, title=f"{site_id}")
    return Response(
        buf.getvalue(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get(
    "/kitchens/{site_id}/qr.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "The QR code."}},
)
def qr_png(request: Request, site_id: IdPath, conn: Conn) -> Response:
    """QR code of the public page as PNG."""
    _kitchen(conn, site_id)
    buf = io.BytesIO()
    _qr(request, site_id).save(buf, kind="png", scale=10, border=4)
    return Response(
        buf.getvalue(), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
    )
