"""Token administration (issue 15): list and revoke API tokens, admin only, each audited.

A revoked token is refused on its next request (api/auth.py authenticates every request
against the table, nothing cached). Tokens are created on the server
(`brightwatch token create`), where the secret can be handed over once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from brightwatch.api.auth import (
    Principal,
    TokenInfo,
    list_tokens,
    record_audit,
    revoke_token,
    token_exists,
)
from brightwatch.api.deps import Conn, not_found, require
from brightwatch.api.errors import AUTHENTICATED, WITH_BODY, errors
from brightwatch.api.transactions import in_transaction

router = APIRouter(
    prefix="/api/v1/tokens", tags=["tokens"], responses={**AUTHENTICATED, **errors(403, 404)}
)
Admin = Annotated[Principal, Depends(require("admin"))]
TokenId = Annotated[int, Path(ge=1, le=2**62)]


class TokenOut(BaseModel):
    id: int
    role: str
    scope: str  # firm:F, site:S, district:D or city
    firm_id: str | None
    site_id: str | None
    district: str | None
    name: str
    created_at: datetime
    last_used_at: datetime | None  # to the minute
    revoked_at: datetime | None


class TokenPage(BaseModel):
    items: list[TokenOut]


class Revoked(BaseModel):
    id: int
    revoked: bool  # False: it was revoked already


def _out(t: TokenInfo) -> dict[str, Any]:
    return {**t.__dict__, "scope": t.scope}


@router.get("", response_model=TokenPage)
def get_tokens(
    conn: Conn,
    who: Admin,
    active: Annotated[bool, Query(description="leave revoked tokens out")] = False,
) -> dict[str, Any]:
    """Every token (never its secret, which is not stored), oldest first."""
    return {"items": [_out(t) for t in list_tokens(conn, include_revoked=not active)]}


@router.post("/{token_id}/revoke", response_model=Revoked, responses=WITH_BODY)
def post_revoke(token_id: TokenId, conn: Conn, who: Admin) -> dict[str, Any]:
    """Revoke a token: its next request gets 401. Revoking it again changes nothing."""

    def work() -> bool:
        if revoke_token(conn, token_id):
            record_audit(conn, who.actor, "revoke", "token", str(token_id))
            return True
        if not token_exists(conn, token_id):
            raise not_found()
        return False

    return {"id": token_id, "revoked": in_transaction(conn, work)}
