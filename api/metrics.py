"""Metrics of the HTTP app: responses by method and status class (the 500s of its
unhandled-error handler, which Starlette runs outside every middleware, not included).

Under several API workers (`brightwatch serve`, Prometheus multiprocess mode) every worker
counts its own and /metrics sums them (api/routes/health.py).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter

RESPONSES = Counter(
    "brightwatch_api_responses",
    "HTTP responses the API sent, by method and status class (2xx, 4xx, ...)",
    ["method", "status"],
)
_CLASSES = {n: f"{n}xx" for n in range(1, 6)}


class CountResponses:
    """A plain ASGI middleware (no per-request task, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "")
        method = method if method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD") else "other"

        async def counted(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status = _CLASSES.get(int(message["status"]) // 100, "other")
                RESPONSES.labels(method, status).inc()
            await send(message)

        await self.app(scope, receive, counted)
