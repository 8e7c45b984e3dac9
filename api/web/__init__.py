"""Server-rendered pages: the supervisor console and firm portal (`/`), the public
kitchen page (`/public/kitchens/{site_id}`), their templates and static files.

Everything the browser loads is ours and served from here (no framework, font or script
fetched from the internet): Jinja2 templates, one stylesheet, small plain JavaScript.
May import: api (deps, auth, scope), contract, i18n, vision.privacy, db access via psycopg.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from brightwatch.api.web import language

WEB = Path(__file__).parent
jinja = Jinja2Templates(directory=str(WEB / "templates"))
language.install(jinja.env)


class CachedStatic(StaticFiles):
    """Static files with a cache lifetime (phones on slow links load them once)."""

    async def get_response(self, path: str, scope: Any) -> Any:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=3600"
        return response


def install(app: FastAPI) -> None:
    """Mount the static files and include the page routers."""
    from brightwatch.api.routes import console, overview, public

    app.mount("/static", CachedStatic(directory=str(WEB / "static")), name="static")
    app.include_router(public.router)
    app.include_router(console.router)
    app.include_router(overview.router)
    app.include_router(console.stream_router)
