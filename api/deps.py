"""Request dependencies: the database pool, the caller, role checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
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
    connection held by a request waiting for another). Outside a transaction: the lookup,
    the district check and the once-a-minute `last used` write are a statement each.

    A district supervisor's request that names something outside its district is marked
    here, on the same connection, and answered 404 by `principal` (api/scope.py decides).
    """
    token = _bearer_token(request)
    if token is None:
        return None
    with request.app.state.pool.connection() as pooled, _autocommit(pooled) as conn:
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


def read_connection(
    request: Request, _caller: Annotated[Principal | None, Depends(caller_if_any)]
) -> Iterator[psycopg.Connection[Any]]:
    """A pooled connection for a route that answers with one read statement (the list
    endpoints): the statement is its own snapshot, so it runs without a transaction."""
    with request.app.state.pool.connection() as pooled, _autocommit(pooled) as conn:
        serve_json_within_limits(conn)
        yield conn


ReadConn = Annotated[psycopg.Connection[Any], Depends(read_connection)]


@contextmanager
def _autocommit(conn: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """The connection with each statement committing by itself: a lone read or a lone
    write needs no BEGIN and COMMIT, two of the few round trips a list request makes.
    The pool lends transactional connections, so the mode is set back before the
    connection goes back (a broken one fails to, and the pool discards it)."""
    conn.autocommit = True
    try:
        yield conn
    finally:
        with suppress(psycopg.Error):
            conn.autocommit = False


# declares the scheme in OpenAPI (securitySchemes, and `security` on every route behind
# it); the 401 answers stay ours
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API token (`brightwatch token create`) with one role: admin,"
    " supervisor, firm (bound to a firm) or operator (bound to a site).",
)


# The dependencies below do no I/O: `async def` runs them on the event loop, where a plain
# `def` would cost each request a trip through the thread pool and back per dependency.


async def principal(
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


def require(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Only these roles; a firm or operator token gets 404 (existence is not revealed)."""

    async def check(who: Caller) -> Principal:
        if who.role not in roles:
            if who.scoped:
                raise HTTPException(404, NOT_FOUND)
            raise HTTPException(403, f"role {who.role} may not do this")
        return who

    return check


def not_found() -> HTTPException:
    return HTTPException(404, NOT_FOUND)
