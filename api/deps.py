"""Request dependencies: the database pool, the caller, role checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import ConnectionPool

from brightwatch.api.auth import Principal, authenticate
from brightwatch.api.jsonvalues import serve_json_within_limits

NOT_FOUND = "not found"


def pool(request: Request) -> ConnectionPool:
    return request.app.state.pool


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def caller_if_any(request: Request) -> Principal | None:
    """The caller the bearer token names; None without a token or with an unknown one.

    Resolved before the route's connection (`connection` depends on it) and on a
    connection of its own, returned at once: a request never holds a pooled connection
    while it waits for a second one, which under load would starve the pool (every
    connection held by a request waiting for another).

    A district supervisor's request that names something outside its district is marked
    here, on the same connection, and answered 404 by `principal` (api/scope.py decides).
    """
    token = _bearer_token(request)
    if token is None:
        return None
    with request.app.state.pool.connection() as conn:
        who = authenticate(conn, token)
        if who is not None:
            from brightwatch.api.scope import outside_district  # the room imports deps

            request.state.outside_district = outside_district(
                conn, who, request.path_params, request.query_params.get("district")
            )
        return who


def connection(
    request: Request, _caller: Annotated[Principal | None, Depends(caller_if_any)]
) -> Iterator[psycopg.Connection[Any]]:
    """A pooled connection; commits when the handler returns, rolls back on error."""
    with request.app.state.pool.connection() as conn:
        serve_json_within_limits(conn)
        yield conn


Conn = Annotated[psycopg.Connection[Any], Depends(connection)]


# declares the scheme in OpenAPI (securitySchemes, and `security` on every route behind
# it); the 401 answers stay ours
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API token (`brightwatch token create`) with one role: admin,"
    " supervisor, firm (bound to a firm) or operator (bound to a site).",
)


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    who: Annotated[Principal | None, Depends(caller_if_any)],
) -> Principal:
    if credentials is None:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    if who is None:
        raise HTTPException(401, "invalid or revoked token", headers={"WWW-Authenticate": "Bearer"})
    if getattr(request.state, "outside_district", False):
        raise not_found()
    request.state.principal = who
    return who


Caller = Annotated[Principal, Depends(principal)]


def require(*roles: str) -> Callable[[Principal], Principal]:
    """Only these roles; a firm or operator token gets 404 (existence is not revealed)."""

    def check(who: Caller) -> Principal:
        if who.role not in roles:
            if who.scoped:
                raise HTTPException(404, NOT_FOUND)
            raise HTTPException(403, f"role {who.role} may not do this")
        return who

    return check


def not_found() -> HTTPException:
    return HTTPException(404, NOT_FOUND)
