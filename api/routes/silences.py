"""Silences: time-boxed, matcher-based mutes of notifications, created and expired by
supervisors; every action is audited (audit_log) and shows in the alerts' history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from brightwatch.alerts.routing import silences
from brightwatch.alerts.routing.matchers import Matcher, MatcherError
from brightwatch.alerts.routing.pipeline import NotificationPipeline
from brightwatch.api.auth import Principal
from brightwatch.api.deps import Conn, not_found, require
from brightwatch.api.errors import AUTHENTICATED, WITH_BODY, errors
from brightwatch.api.inputs import Body
from brightwatch.api.responses import Served
from brightwatch.api.transactions import in_transaction

router = APIRouter(
    prefix="/api/v1/silences", tags=["silences"], responses={**AUTHENTICATED, **errors(404)}
)
Supervisor = Annotated[Principal, Depends(require("admin", "supervisor"))]
SilenceId = Annotated[int, Path(ge=1, le=2**62)]
LONGEST = timedelta(days=90)
# stored as timestamptz and read back as Python datetimes, which end with the year 9999
OUT_OF_RANGE = "must fall in the years 1 to 9999 in UTC"


def _in_utc_range(t: datetime) -> bool:
    try:
        t.astimezone(UTC)
    except OverflowError:
        return False
    return True


class MatcherBody(BaseModel):
    """Alertmanager API v2 form."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=100)
    value: str = Field(..., max_length=1000)
    isRegex: bool = False  # Alertmanager's field names
    isEqual: bool = True


class SilenceBody(Body):
    matchers: list[str | MatcherBody] = Field(
        ...,
        min_length=1,
        max_length=20,
        description='"name=value", "name!=value", "name=~regex", "name!~regex", or Alertmanager objects',
    )
    starts_at: datetime | None = Field(None, description="Default: now.")
    ends_at: datetime | None = Field(None, description="Give ends_at or duration_s.")
    duration_s: int | None = Field(None, ge=60, le=int(LONGEST.total_seconds()))
    comment: str = Field(
        ..., min_length=1, max_length=2000, description="Why (kept in the audit log)."
    )

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a time zone (e.g. 2026-11-22T08:00:00Z)")
        if value is not None and not _in_utc_range(value):
            raise ValueError(OUT_OF_RANGE)
        return value

    @model_validator(mode="after")
    def _one_end(self) -> SilenceBody:
        if (self.ends_at is None) == (self.duration_s is None):
            raise ValueError("give exactly one of ends_at and duration_s")
        return self

    def parsed(self) -> list[Matcher]:
        out = []
        for m in self.matchers:
            out.append(Matcher.parse(m) if isinstance(m, str) else Matcher.from_api(m.model_dump()))
        return out


class MatcherView(Served):
    name: str
    value: str
    isEqual: bool  # Alertmanager's field names
    isRegex: bool


class Silence(Served):
    id: int
    matchers: list[MatcherView]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    created_at: datetime
    comment: str
    expired_at: datetime | None
    expired_by: str | None
    state: str = Field(..., description="pending, active or expired")
    matchers_text: list[str]


class SilenceDetail(Silence):
    silenced_alerts: list[int] = Field(
        ..., description="Open alerts whose notifications it mutes now."
    )


class SilencePage(Served):
    items: list[Silence]


def _pipeline(request: Request) -> NotificationPipeline:
    return request.app.state.parts.pipeline


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "matchers": row["matchers"],
        "matchers_text": [str(Matcher.from_api(m)) for m in row["matchers"]],
    }


@router.post("", status_code=201, response_model=SilenceDetail, responses=WITH_BODY)
def create_silence(
    body: SilenceBody, request: Request, conn: Conn, who: Supervisor
) -> dict[str, Any]:
    now = request.app.state.parts.clock()
    try:
        matchers = body.parsed()
    except MatcherError as exc:
        raise HTTPException(422, str(exc)) from None
    starts = body.starts_at or now
    try:
        ends = body.ends_at or starts + timedelta(seconds=body.duration_s or 0)
    except OverflowError:
        raise HTTPException(422, "starts_at plus duration_s is past the year 9999") from None
    if not _in_utc_range(ends):
        raise HTTPException(422, f"the end {OUT_OF_RANGE}")
    if ends - starts > LONGEST:
        raise HTTPException(422, "a silence lasts at most 90 days")
    try:
        sid = in_transaction(
            conn,
            lambda: silences.create(
                conn,
                _pipeline(request),
                silences.SilenceRequest(matchers, starts, ends, body.comment),
                who.actor,
                now,
            ),
        )
    except silences.SilenceError as exc:
        raise HTTPException(422, str(exc)) from None
    row = silences.get(conn, sid, now)
    assert row is not None
    return _view(row)


@router.get("", response_model=SilencePage)
def list_silences(
    request: Request,
    conn: Conn,
    who: Supervisor,
    state: Annotated[str | None, Query(pattern="^(active|pending|expired)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    now = request.app.state.parts.clock()
    return {"items": [_view(r) for r in silences.list_silences(conn, now, state, limit)]}


@router.get("/{silence_id}", response_model=SilenceDetail)
def get_silence(
    silence_id: SilenceId, request: Request, conn: Conn, who: Supervisor
) -> dict[str, Any]:
    row = silences.get(conn, silence_id, request.app.state.parts.clock())
    if row is None:
        raise not_found()
    return _view(row)


@router.delete(
    "/{silence_id}",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Expired."}, **errors(409)},
)
def expire_silence(
    silence_id: SilenceId, request: Request, conn: Conn, who: Supervisor
) -> Response:
    """Expire the silence now (it is kept, with who ended it)."""
    now = request.app.state.parts.clock()
    try:
        row = in_transaction(
            conn, lambda: silences.expire(conn, _pipeline(request), silence_id, who.actor, now)
        )
    except silences.SilenceError as exc:
        raise HTTPException(409, str(exc)) from None
    if row is None:
        raise not_found()
    return Response(status_code=204)
