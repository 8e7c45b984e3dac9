"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from brightwatch import __version__
from brightwatch.alerts.evidence.files import TamperedFile
from brightwatch.alerts.lifecycle import IllegalAction
from brightwatch.alerts.review.store import ReviewNotFound, UploadRejected
from brightwatch.alerts.review.workflow import IllegalStep
from brightwatch.alerts.store import AlertNotFound
from brightwatch.alerts.tickets.attachments import AttachmentRejected
from brightwatch.alerts.tickets.lifecycle import IllegalTransition, IncompleteStep
from brightwatch.alerts.tickets.store import TicketNotFound
from brightwatch.api import web
from brightwatch.api.deps import NOT_FOUND
from brightwatch.api.errors import errors_are_json
from brightwatch.api.live import LiveFeed, process_client_id
from brightwatch.api.metrics import CountResponses
from brightwatch.api.parts import AppParts
from brightwatch.api.routes import (
    alert_history,
    alerts,
    districts,
    elevators,
    evidence,
    health,
    kitchens,
    registry,
    reviews,
    silences,
    stats,
    tickets,
    tokens,
)
from brightwatch.api.transactions import is_conflict
from brightwatch.db.connect import check_unless_quiet, make_pool

log = logging.getLogger(__name__)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    # the domain's refusals, raised through the routes (their transactions roll back)
    @app.exception_handler(AlertNotFound)
    @app.exception_handler(ReviewNotFound)
    @app.exception_handler(TicketNotFound)
    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": NOT_FOUND}, status_code=404)

    # TamperedFile covers MissingFile too: a stored file that is not the one recorded
    @app.exception_handler(IllegalAction)
    @app.exception_handler(IllegalStep)
    @app.exception_handler(IllegalTransition)
    @app.exception_handler(TamperedFile)
    async def conflict(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(IncompleteStep)
    async def incomplete(request: Request, exc: IncompleteStep) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(UploadRejected)
    @app.exception_handler(AttachmentRejected)
    async def rejected(request: Request, exc: UploadRejected | AttachmentRejected) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(psycopg.DataError)
    async def bad_value(request: Request, exc: psycopg.DataError) -> JSONResponse:
        # a value the database cannot hold (out of range, invalid text): the client's input
        log.info(
            "rejected value in %s %s: %s", request.method, request.url.path, type(exc).__name__
        )
        return JSONResponse(
            {"detail": "a value is out of range or not representable"}, status_code=422
        )

    @app.exception_handler(PoolTimeout)
    @app.exception_handler(psycopg.OperationalError)
    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        if is_conflict(exc):
            # a deadlock or serialisation failure that outlasted in_transaction's attempts
            log.warning(
                "conflicting changes during %s %s, gave up after retries",
                request.method,
                request.url.path,
            )
            return JSONResponse(
                {"detail": "the database stayed busy with conflicting changes; retry"},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        log.warning(
            "database unavailable during %s %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
        )
        return JSONResponse({"detail": "database unavailable"}, status_code=503)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        # the trace goes to the log, never to the client
        log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal error"}, status_code=500)


def _install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = errors_are_json(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(parts: AppParts, pool: ConnectionPool | None = None) -> FastAPI:
    """The HTTP app on the parts the shell hands it (brightwatch.wiring's Runtime)."""
    own_pool = pool is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if own_pool:
            app.state.pool = make_pool(
                parts.database_url,
                max_size=16,
                name="api",
                open=False,
                check=check_unless_quiet,  # two checks a request: no round trip for either
            )
            app.state.pool.open(wait=False)
        # the live alert stream's wake-up calls, one client per process (API workers
        # share the instance name: the id adds host and pid)
        feed = LiveFeed(
            parts.broker,
            process_client_id(parts.client_id("api-live")),
            parts.settings.topic_root,
        ).start()
        app.state.live = feed
        if not parts.reports_on_broker():
            # no consumer in this process reports on the broker: this connection does
            app.state.mqtt_probe = feed.connected.is_set
        try:
            yield
        finally:
            feed.close()
            if getattr(app.state, "public_pictures", None) is not None:
                app.state.public_pictures.close()
            if own_pool:
                app.state.pool.close()

    app = FastAPI(
        title="brightwatch",
        version=__version__,
        description="Bright-kitchen and elevator monitoring: registry, telemetry, alerts, tickets, reviews.",
        lifespan=lifespan,
    )
    app.state.parts = parts
    app.state.mqtt_probe = lambda: False
    if pool is not None:
        app.state.pool = pool
    _install_error_handlers(app)
    _install_openapi(app)
    for module in (
        health,
        registry,
        elevators,
        alerts,
        alert_history,
        reviews,
        kitchens,
        silences,
        stats,
        tickets,
        evidence,
        tokens,
        districts,
    ):
        app.include_router(module.router)
    web.install(app)  # console, firm portal, public kitchen pages, static files
    app.add_middleware(CountResponses)
    return app


def app_routes(app: FastAPI) -> list[Any]:
    return [r for r in app.routes if getattr(r, "path", "").startswith("/api/")]
